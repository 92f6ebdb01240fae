/* The http service on one connection: read a request head (http_req.c),
 * send its response, and again on the same connection unless it closes
 * (HTTP/1.0 without keep-alive, Connection: close, an error, a request
 * with a body, which is never read). While a response goes out no more is
 * read, so pipelined requests wait in the transport. A closing connection
 * shuts its sending side and reads until the peer closes (at most
 * SVC_LINGER_MS), so that unread input cannot reset the response away
 * (RFC 9112 9.6). A request head must come whole within SVC_HTTP_IDLE_MS
 * of waiting for it (keep-alive's wait included), and a response must
 * make progress within it: otherwise the connection is closed, so that
 * idle or trickling peers cannot hold the service's few slots (RFC 9112
 * 9.8 lets a server close an idle connection at any time). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "http_req.h"
#include "svc.h"
#include "svc_pattern.h"

static const char page[] =
    "<!DOCTYPE html>\n"
    "<html><head><meta charset=\"utf-8\"><title>LyraNET</title></head>\n"
    "<body><h1>LyraNET</h1>\n"
    "<p>The http service of a LyraNET stack (tools/services).</p>\n"
    "<p><a href=\"/bytes/1000\">/bytes/N</a>: exactly N bytes (N up to 2^40), 16-byte lines "
    "each holding its own offset in hex.</p>\n"
    "</body></html>\n";

_Static_assert(sizeof(page) + 256 <= SVC_OUT_MAX, "the page fits behind a response head");

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    default: return "HTTP Version Not Supported";
    }
}

short svc_http_events(const struct svc_conn *c)
{
    return c->h.state == H_WRITE ? POLLOUT : POLLIN;
}

/* The response to a parsed (r > 0) or refused (r < 0) request head. */
static void respond(struct svc_conn *c, const struct http_req *q, long r)
{
    struct svc_http *h = &c->h;
    int status = 200;
    const char *why = NULL, *type = "text/plain", *text = NULL;
    uint64_t n = 0;
    h->consumed = r > 0 ? (size_t)r : 0;
    h->close = r < 0 || q->close || q->body;
    h->bytes = 0;
    if (r < 0) {
        status = q->status, why = q->why;
    } else if (q->method == HTTP_OTHER) {
        status = 405, why = "only GET and HEAD are served";
    } else {
        switch (http_route(q, &n)) {
        case HTTP_ROUTE_PAGE:
            type = "text/html; charset=utf-8", text = page, n = sizeof(page) - 1;
            break;
        case HTTP_ROUTE_BYTES:
            h->bytes = 1;
            break;
        case HTTP_ROUTE_TOO_MANY:
            status = 400, why = "N in /bytes/N is at most 2^40 (1099511627776)";
            break;
        default:
            status = 404, why = "not here: / and /bytes/N are";
        }
    }
    char body[160];
    if (why) {
        snprintf(body, sizeof(body), "%d %s: %s\n", status, reason(status), why);
        text = body, n = strlen(body);
    }
    int head_only = r > 0 && q->method == HTTP_HEAD;
    int k = snprintf(h->out, sizeof(h->out),
                     "HTTP/1.1 %d %s\r\nServer: LyraNET\r\nContent-Type: %s\r\n"
                     "Content-Length: %" PRIu64 "\r\n%s%s\r\n",
                     status, reason(status), type, n, status == 405 ? "Allow: GET, HEAD\r\n" : "",
                     h->close ? "Connection: close\r\n"
                              : q->minor == 0 ? "Connection: keep-alive\r\n" : "");
    h->out_len = (unsigned)k;
    if (text && !head_only) { /* the page and error texts fit behind the head */
        memcpy(h->out + k, text, (size_t)n);
        h->out_len += (unsigned)n;
    }
    h->out_off = 0;
    h->body_off = 0;
    h->body_len = h->bytes && !head_only ? n : 0;
    h->state = H_WRITE;
}

/* Sends what remains of the response: 1 when all is sent, 0 when the
 * transport is full, or a svc_send failure. */
static long write_some(struct svc *v, struct svc_conn *c)
{
    struct svc_http *h = &c->h;
    for (int round = 0; round < SVC_ROUNDS; round++) {
        long put;
        if (h->out_off < h->out_len) {
            put = svc_send(v, c, h->out + h->out_off, h->out_len - h->out_off);
            if (put > 0)
                h->out_off += (unsigned)put;
        } else if (h->body_off < h->body_len) {
            uint64_t left = h->body_len - h->body_off;
            size_t k = left < SVC_SCRATCH ? (size_t)left : SVC_SCRATCH;
            bytes_fill(v->buf, k, h->body_off);
            put = svc_send(v, c, v->buf, k);
            if (put > 0)
                h->body_off += (uint64_t)put;
        } else {
            return 1;
        }
        if (put <= 0)
            return put;
        c->deadline = svc_now_ms() + SVC_HTTP_IDLE_MS; /* progress: the peer reads */
    }
    return h->out_off == h->out_len && h->body_off == h->body_len;
}

/* After a response: the next request, or the lingering close. */
static void finished(struct svc *v, struct svc_conn *c)
{
    struct svc_http *h = &c->h;
    if (h->close) {
        lyra_shutdown(v->s, c->fd, SHUT_WR);
        c->deadline = svc_now_ms() + SVC_LINGER_MS;
        h->state = H_DRAIN;
        return;
    }
    memmove(c->buf, c->buf + h->consumed, c->len - h->consumed);
    c->len -= h->consumed;
    h->state = H_READ;
    c->deadline = svc_now_ms() + SVC_HTTP_IDLE_MS; /* the next head, whole, by then */
}

/* A new connection: its first request head, whole, within SVC_HTTP_IDLE_MS
 * (a peer that sends nothing, or a byte now and then, frees its slot). */
void svc_http_open(struct svc_conn *c)
{
    c->deadline = svc_now_ms() + SVC_HTTP_IDLE_MS;
}

/* Reads and parses until a request head is complete: 1 then; else the
 * connection's result (SVC_KEEP, SVC_CLOSE, SVC_STOP) negated. It never
 * returns with a complete request left in the buffer (poll would not
 * bring it back). */
static int read_request(struct svc *v, struct svc_conn *c)
{
    for (int round = 0;; round++) {
        struct http_req q;
        long r = http_req_parse((const char *)c->buf, c->len, &q);
        if (r != HTTP_REQ_MORE) {
            respond(c, &q, r);
            c->deadline = svc_now_ms() + SVC_HTTP_IDLE_MS; /* for the response's progress */
            return 1;
        }
        if (round == SVC_ROUNDS)
            return -SVC_KEEP; /* more is waiting: poll says so again */
        long got = svc_recv(v, c, c->buf + c->len, HTTP_HEAD_MAX - c->len);
        if (got == 0)
            return -SVC_CLOSE; /* a partial request, if any, is dropped */
        if (got == SVC_AGAIN)
            return -SVC_KEEP;
        if (got < 0)
            return -svc_bail(got);
        c->len += (size_t)got;
    }
}

/* Each turn of the loop sends one whole response (or returns), so
 * pipelined requests already read are all answered before poll. */
int svc_http_io(struct svc *v, struct svc_conn *c, short rev)
{
    (void)rev;
    for (;;) {
        struct svc_http *h = &c->h;
        if (h->state == H_DRAIN) {
            for (int round = 0; round < SVC_ROUNDS; round++) {
                long got = svc_recv(v, c, v->buf, SVC_SCRATCH);
                if (got == SVC_AGAIN)
                    return SVC_KEEP;
                if (got <= 0)
                    return got == SVC_HALT ? SVC_STOP : SVC_CLOSE;
            }
            return SVC_KEEP;
        }
        if (h->state == H_READ) {
            int r = read_request(v, c);
            if (r <= 0)
                return -r;
        }
        long w = write_some(v, c);
        if (w < 0)
            return svc_bail(w);
        if (!w)
            return SVC_KEEP;
        finished(v, c);
    }
}
