/* The http service's request parser (tools/services/http_req.c): complete
 * heads and their length, what is read from the fields, every refusal with
 * its status, the bounds, incremental arrival, and the routes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "http_req.h"

static struct http_req q;

static long parse(const char *s)
{
    return http_req_parse(s, strlen(s), &q);
}

static void refused(const char *s, int status)
{
    cr_assert_eq(parse(s), HTTP_REQ_BAD, "accepted: %s", s);
    cr_assert_eq(q.status, status, "%s: status %d, why %s", s, q.status, q.why);
    cr_assert(q.why && *q.why, "%s: no reason given", s);
}

static int path_is(const char *p)
{
    return q.path_len == strlen(p) && !memcmp(q.path, p, q.path_len);
}

Test(http_req, a_minimal_get_is_complete_at_the_blank_line)
{
    const char *r = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_eq(parse(r), (long)strlen(r));
    cr_assert_eq(q.method, HTTP_GET);
    cr_assert_eq(q.minor, 1);
    cr_assert_eq(q.close, 0);
    cr_assert_eq(q.body, 0);
    cr_assert(path_is("/"));
}

Test(http_req, the_length_stops_at_the_head_so_pipelined_requests_follow)
{
    const char *two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\n";
    long n = parse(two);
    cr_assert_eq(n, 28);
    cr_assert(path_is("/a"));
    cr_assert_eq(http_req_parse(two + n, strlen(two) - (size_t)n, &q), 29);
    cr_assert_eq(q.method, HTTP_HEAD);
    cr_assert(path_is("/b"));
}

Test(http_req, every_prefix_of_a_request_asks_for_more)
{
    const char *r = "GET /bytes/10?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    size_t len = strlen(r);
    for (size_t i = 0; i < len; i++)
        cr_assert_eq(http_req_parse(r, i, &q), HTTP_REQ_MORE, "prefix of %zu", i);
    cr_assert_eq(http_req_parse(r, len, &q), (long)len);
    cr_assert(path_is("/bytes/10"), "the query is not part of the path");
    cr_assert_eq(q.close, 1);
}

Test(http_req, bare_lf_line_ends_and_leading_empty_lines_are_accepted)
{
    cr_assert_eq(parse("GET / HTTP/1.0\n\n"), 16);
    cr_assert_eq(parse("\r\n\nGET / HTTP/1.0\r\n\r\n"), 21);
    cr_assert_eq(q.minor, 0);
}

Test(http_req, http_1_0_closes_unless_keep_alive_and_1_1_unless_close)
{
    parse("GET / HTTP/1.0\r\n\r\n");
    cr_assert_eq(q.close, 1);
    cr_assert_gt(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 0);
    cr_assert_eq(q.close, 0);
    cr_assert_gt(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade, CLOSE \r\n\r\n"), 0);
    cr_assert_eq(q.close, 1);
    cr_assert_gt(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n"), 0);
    cr_assert_eq(q.close, 0);
    /* keep-alive does not reopen a 1.0 connection that said close too */
    cr_assert_gt(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"),
                 0);
    cr_assert_eq(q.close, 1);
}

Test(http_req, other_methods_are_complete_heads_for_a_405)
{
    cr_assert_gt(parse("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"), 0);
    cr_assert_eq(q.method, HTTP_OTHER);
    cr_assert_eq(q.body, 1);
    cr_assert_gt(parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    cr_assert_eq(q.method, HTTP_OTHER);
    cr_assert(path_is("*"));
    cr_assert_gt(parse("get / HTTP/1.1\r\nHost: h\r\n\r\n"), 0, "methods are case-sensitive");
    cr_assert_eq(q.method, HTTP_OTHER);
}

Test(http_req, a_body_is_announced_by_content_length_or_transfer_encoding)
{
    cr_assert_gt(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"), 0);
    cr_assert_eq(q.body, 0);
    cr_assert_gt(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n"
                       "Content-Length: 12\r\n\r\n"), 0);
    cr_assert_eq(q.body, 1);
    cr_assert_gt(parse("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
    cr_assert_eq(q.body, 1);
}

Test(http_req, absolute_form_targets_give_their_path)
{
    cr_assert_gt(parse("GET http://192.0.2.2/bytes/5 HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    cr_assert(path_is("/bytes/5"));
    cr_assert_gt(parse("GET HTTP://h:80 HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    cr_assert(path_is("/"));
}

Test(http_req, malformed_request_lines_are_400)
{
    refused("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400);
    refused("GET /\r\n\r\n", 400);               /* HTTP/0.9 */
    refused(" GET / HTTP/1.1\r\n\r\n", 400);
    refused("GET / http/1.1\r\n\r\n", 400);
    refused("GET / HTTP/1.10\r\n\r\n", 400);
    refused("GET /a b HTTP/1.1\r\n\r\n", 400);
    refused("GET x HTTP/1.1\r\nHost: h\r\n\r\n", 400);  /* not a path */
    refused("GE\"T / HTTP/1.1\r\n\r\n", 400);    /* not a token */
    refused("GET /\x01 HTTP/1.1\r\n\r\n", 400);
    refused("GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\r\n\r\n", 400);    /* a bare CR */
    /* refused as soon as the line is there, without waiting for the rest */
    refused("GET / HTTP/1.1 x\r\n", 400);
}

Test(http_req, malformed_fields_are_400)
{
    refused("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: h\r\nX: a\rz\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            400);
    refused("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400);
    /* RFC 9112 3.2: HTTP/1.1 needs exactly one Host */
    refused("GET / HTTP/1.1\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400);
    /* a value may hold tabs and bytes above 0x7f */
    cr_assert_gt(parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\tb \xe9\r\n\r\n"), 0);
}

Test(http_req, other_major_versions_are_505)
{
    refused("GET / HTTP/2.0\r\n\r\n", 505);
    refused("GET / HTTP/0.9\r\n\r\n", 505);
    cr_assert_gt(parse("GET / HTTP/1.7\r\nHost: h\r\n\r\n"), 0, "1.x is read as 1.1");
    cr_assert_eq(q.minor, 7);
}

static char big[3 * HTTP_HEAD_MAX];

/* "GET /aaa... HTTP/1.1\r\n" of exactly len bytes, then Host and the end */
static size_t long_line(size_t len)
{
    size_t k = len - 16;
    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', k);
    return len + (size_t)snprintf(big + 5 + k, sizeof(big) - 5 - k, " HTTP/1.1\r\nHost: h\r\n\r\n") -
           11;
}

Test(http_req, a_request_line_over_1024_bytes_is_414_complete_or_not)
{
    size_t n = long_line(HTTP_LINE_MAX); /* the bound itself passes */
    cr_assert_eq(parse(big), (long)n);
    long_line(HTTP_LINE_MAX + 1);
    refused(big, 414);
    /* a line that has not ended by then is refused too */
    cr_assert_eq(http_req_parse(big, HTTP_LINE_MAX - 1, &q), HTTP_REQ_MORE);
    cr_assert_eq(http_req_parse(big, HTTP_LINE_MAX, &q), HTTP_REQ_BAD);
    cr_assert_eq(q.status, 414);
}

/* a head of exactly len bytes: fields "X: 123", one "Y: ppp..." to fit */
static void long_head(size_t len)
{
    size_t n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: h\r\n");
    while (n < len - 20)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "X: 123\r\n");
    size_t pad = len - n - 7;
    memcpy(big + n, "Y: ", 3);
    memset(big + n + 3, 'p', pad);
    memcpy(big + n + 3 + pad, "\r\n\r\n", 5);
    cr_assert_eq(strlen(big), len);
}

Test(http_req, a_head_over_8192_bytes_is_431_complete_or_not)
{
    long_head(HTTP_HEAD_MAX); /* the bound itself passes */
    cr_assert_eq(parse(big), HTTP_HEAD_MAX);
    long_head(HTTP_HEAD_MAX + 1);
    refused(big, 431);
    cr_assert_eq(http_req_parse(big, HTTP_HEAD_MAX - 1, &q), HTTP_REQ_MORE);
    cr_assert_eq(http_req_parse(big, HTTP_HEAD_MAX, &q), HTTP_REQ_BAD);
    cr_assert_eq(q.status, 431);
    /* empty lines alone count too */
    memset(big, '\n', HTTP_HEAD_MAX);
    cr_assert_eq(http_req_parse(big, HTTP_HEAD_MAX - 1, &q), HTTP_REQ_MORE);
    cr_assert_eq(http_req_parse(big, HTTP_HEAD_MAX, &q), HTTP_REQ_BAD);
    cr_assert_eq(q.status, 431);
}

static enum http_route route(const char *path, uint64_t *n)
{
    char r[256];
    snprintf(r, sizeof(r), "GET %s HTTP/1.0\r\n\r\n", path);
    cr_assert_gt(parse(r), 0, "%s", r);
    return http_route(&q, n);
}

Test(http_req, routes_name_the_page_the_bytes_or_nothing)
{
    uint64_t n = 7;
    cr_assert_eq(route("/", &n), HTTP_ROUTE_PAGE);
    cr_assert_eq(route("/index.html", &n), HTTP_ROUTE_PAGE);
    cr_assert_eq(route("/?a=b", &n), HTTP_ROUTE_PAGE);
    cr_assert_eq(route("/bytes/0", &n), HTTP_ROUTE_BYTES);
    cr_assert_eq(n, 0);
    cr_assert_eq(route("/bytes/1000000", &n), HTTP_ROUTE_BYTES);
    cr_assert_eq(n, 1000000);
    cr_assert_eq(route("/bytes/1099511627776", &n), HTTP_ROUTE_BYTES);
    cr_assert_eq(n, HTTP_BYTES_MAX);
    cr_assert_eq(route("/bytes/1099511627777", &n), HTTP_ROUTE_TOO_MANY);
    cr_assert_eq(route("/bytes/99999999999999999999999999", &n), HTTP_ROUTE_TOO_MANY);
    cr_assert_eq(route("/bytes/", &n), HTTP_ROUTE_NOT_FOUND);
    cr_assert_eq(route("/bytes/12a", &n), HTTP_ROUTE_NOT_FOUND);
    cr_assert_eq(route("/bytes/99999999999999999999x", &n), HTTP_ROUTE_NOT_FOUND);
    cr_assert_eq(route("/bytes/-1", &n), HTTP_ROUTE_NOT_FOUND);
    cr_assert_eq(route("/bytes", &n), HTTP_ROUTE_NOT_FOUND);
    cr_assert_eq(route("/nope", &n), HTTP_ROUTE_NOT_FOUND);
    cr_assert_eq(route("//", &n), HTTP_ROUTE_NOT_FOUND);
}
