#include "http_req.h"

#include <string.h>

/* RFC 9110 5.6.2: tchar */
static int tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* case-insensitive: b[0, n) equals the lower-case word w */
static int word_is(const char *b, size_t n, const char *w)
{
    if (strlen(w) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)b[i]) != w[i])
            return 0;
    return 1;
}

static long bad(struct http_req *r, int status, const char *why)
{
    r->status = status;
    r->why = why;
    return HTTP_REQ_BAD;
}

/* The line starting at p: its content ends at *end (a CR before the LF
 * left out), the next line starts at *next. 0 when no LF has come yet. */
static int line_at(const char *b, size_t len, size_t p, size_t *end, size_t *next)
{
    const char *lf = memchr(b + p, '\n', len - p);
    if (!lf)
        return 0;
    size_t e = (size_t)(lf - b);
    *next = e + 1;
    *end = e > p && b[e - 1] == '\r' ? e - 1 : e;
    return 1;
}

/* RFC 9112 3: method SP request-target SP HTTP-version */
static long request_line(const char *b, size_t p, size_t end, struct http_req *r)
{
    size_t m = p;
    while (m < end && tchar((unsigned char)b[m]))
        m++;
    if (m == p || m == end || b[m] != ' ')
        return bad(r, 400, "the request line does not start with a method and one space");
    if (m - p == 3 && !memcmp(b + p, "GET", 3))
        r->method = HTTP_GET;
    else if (m - p == 4 && !memcmp(b + p, "HEAD", 4))
        r->method = HTTP_HEAD;
    else
        r->method = HTTP_OTHER;
    size_t t = m + 1, u = t;
    while (u < end && (unsigned char)b[u] > 0x20 && (unsigned char)b[u] < 0x7f)
        u++;
    if (u == t || u == end || b[u] != ' ')
        return bad(r, 400, "the request target is missing or holds a character it may not");
    size_t v = u + 1;
    if (end - v != 8 || memcmp(b + v, "HTTP/", 5) || b[v + 5] < '0' || b[v + 5] > '9' ||
        b[v + 6] != '.' || b[v + 7] < '0' || b[v + 7] > '9')
        return bad(r, 400, "the request line does not end with one space and HTTP/x.y");
    if (b[v + 5] != '1')
        return bad(r, 505, "only HTTP/1.x is served");
    r->minor = b[v + 7] - '0';
    r->close = r->minor == 0; /* RFC 9112 9.3: 1.0 closes unless keep-alive */
    /* the path: origin form, or the absolute form's after its authority */
    const char *path = b + t;
    size_t plen = u - t;
    if (plen >= 7 && word_is(path, 7, "http://")) {
        const char *slash = memchr(path + 7, '/', plen - 7);
        size_t skip = slash ? (size_t)(slash - path) : plen;
        path += skip;
        plen -= skip;
        if (!plen)
            path = "/", plen = 1;
    } else if (path[0] != '/') {
        if (r->method == HTTP_OTHER) /* OPTIONS *, CONNECT host:port: answered 405 */
            path = "*", plen = 1;
        else
            return bad(r, 400, "the request target is neither /path nor http://host/path");
    }
    const char *q = memchr(path, '?', plen);
    r->path = path;
    r->path_len = q ? (size_t)(q - path) : plen;
    return 0;
}

/* OWS-trimmed value of a field line */
static void trim(const char *b, size_t *s, size_t *e)
{
    while (*s < *e && (b[*s] == ' ' || b[*s] == '\t'))
        (*s)++;
    while (*e > *s && (b[*e - 1] == ' ' || b[*e - 1] == '\t'))
        (*e)--;
}

/* RFC 9110 7.6.1: a comma-separated list of connection options */
static void connection(const char *b, size_t s, size_t e, struct http_req *r)
{
    while (s < e) {
        const char *c = memchr(b + s, ',', e - s);
        size_t ie = c ? (size_t)(c - b) : e, is = s;
        trim(b, &is, &ie);
        if (word_is(b + is, ie - is, "close"))
            r->close = 1;
        else if (word_is(b + is, ie - is, "keep-alive") && r->minor == 0)
            r->close = 0;
        s = c ? ie + 1 : e;
    }
}

struct seen {
    int host;
    int cl;
    uint64_t cl_val;
};

/* RFC 9110 8.6: 1*DIGIT; repeated fields must agree */
static long content_length(const char *b, size_t s, size_t e, struct http_req *r,
                           struct seen *sn)
{
    uint64_t v = 0;
    if (s == e)
        return bad(r, 400, "Content-Length is empty");
    for (size_t i = s; i < e; i++) {
        if (b[i] < '0' || b[i] > '9' || v > (UINT64_MAX >> 4))
            return bad(r, 400, "Content-Length is not a number of bytes");
        v = v * 10 + (uint64_t)(b[i] - '0');
    }
    if (sn->cl && sn->cl_val != v)
        return bad(r, 400, "two Content-Length fields disagree");
    sn->cl = 1;
    sn->cl_val = v;
    if (v)
        r->body = 1;
    return 0;
}

/* RFC 9112 5: field-name ":" OWS field-value OWS */
static long field_line(const char *b, size_t p, size_t end, struct http_req *r, struct seen *sn)
{
    if (b[p] == ' ' || b[p] == '\t')
        return bad(r, 400, "obsolete line folding in a header field");
    size_t c = p;
    while (c < end && tchar((unsigned char)b[c]))
        c++;
    if (c == p || c == end || b[c] != ':')
        return bad(r, 400, "a header field is not name: value (no space before the colon)");
    for (size_t i = c + 1; i < end; i++) {
        unsigned char ch = (unsigned char)b[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return bad(r, 400, "a header field value holds a control character");
    }
    size_t vs = c + 1, ve = end;
    trim(b, &vs, &ve);
    const char *name = b + p;
    size_t nl = c - p;
    if (word_is(name, nl, "connection"))
        connection(b, vs, ve, r);
    else if (word_is(name, nl, "content-length"))
        return content_length(b, vs, ve, r, sn);
    else if (word_is(name, nl, "transfer-encoding"))
        r->body = 1;
    else if (word_is(name, nl, "host") && sn->host++)
        return bad(r, 400, "more than one Host field");
    return 0;
}

long http_req_parse(const char *b, size_t len, struct http_req *r)
{
    memset(r, 0, sizeof(*r));
    size_t p = 0, end, next;
    /* RFC 9112 2.2: empty lines before the request line are ignored */
    while (p < len && (b[p] == '\n' || (b[p] == '\r' && p + 1 < len && b[p + 1] == '\n')))
        p += b[p] == '\n' ? 1 : 2;
    if (p >= HTTP_HEAD_MAX)
        return bad(r, 431, "the request head is longer than 8192 bytes");
    if (!line_at(b, len, p, &end, &next)) {
        if (len - p >= HTTP_LINE_MAX)
            return bad(r, 414, "the request line is longer than 1024 bytes");
        return len >= HTTP_HEAD_MAX ? bad(r, 431, "the request head is longer than 8192 bytes")
                                    : HTTP_REQ_MORE;
    }
    if (next - p > HTTP_LINE_MAX)
        return bad(r, 414, "the request line is longer than 1024 bytes");
    if (request_line(b, p, end, r))
        return HTTP_REQ_BAD;
    struct seen sn = {0, 0, 0};
    for (p = next;; p = next) {
        if (!line_at(b, len, p, &end, &next)) {
            return len >= HTTP_HEAD_MAX ? bad(r, 431, "the request head is longer than 8192 bytes")
                                        : HTTP_REQ_MORE;
        }
        if (next > HTTP_HEAD_MAX)
            return bad(r, 431, "the request head is longer than 8192 bytes");
        if (end == p)
            break;
        if (field_line(b, p, end, r, &sn))
            return HTTP_REQ_BAD;
    }
    if (r->minor >= 1 && !sn.host)
        return bad(r, 400, "an HTTP/1.1 request without a Host field");
    return (long)next;
}

enum http_route http_route(const struct http_req *r, uint64_t *n)
{
    const char *p = r->path;
    size_t l = r->path_len;
    if ((l == 1 && p[0] == '/') || (l == 11 && !memcmp(p, "/index.html", 11)))
        return HTTP_ROUTE_PAGE;
    if (l <= 7 || memcmp(p, "/bytes/", 7))
        return HTTP_ROUTE_NOT_FOUND;
    uint64_t v = 0;
    for (size_t i = 7; i < l; i++) {
        if (p[i] < '0' || p[i] > '9')
            return HTTP_ROUTE_NOT_FOUND;
        v = v * 10 + (uint64_t)(p[i] - '0');
        if (v > HTTP_BYTES_MAX) {
            for (; i < l; i++) /* still a number: too many, not unknown */
                if (p[i] < '0' || p[i] > '9')
                    return HTTP_ROUTE_NOT_FOUND;
            return HTTP_ROUTE_TOO_MANY;
        }
    }
    *n = v;
    return HTTP_ROUTE_BYTES;
}
