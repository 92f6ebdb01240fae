/* The http service's request parser: pure (no I/O, no allocation, no
 * state between calls), bounded, for the request head of HTTP/1.0 and 1.1
 * (RFC 9112 2-3, 5; RFC 9110 7.6.1, 8.6). The caller keeps the bytes
 * received so far and calls http_req_parse again when more arrive.
 *
 * Accepted: optional empty lines before the request line (RFC 9112 2.2),
 * CRLF or a bare LF ending each line, `METHOD SP TARGET SP HTTP/1.x` with
 * single spaces, TARGET in origin form (`/path?query`) or absolute form
 * (`http://host/path`), header fields `name: value` (name a token, no space
 * before the colon, value without control characters but HT). Read from the
 * headers: Connection (close, keep-alive), Content-Length, Transfer-Encoding,
 * Host (exactly one in HTTP/1.1, RFC 9112 3.2). Everything else is ignored.
 * The request body is never read: a request that announces one is
 * answered and its connection closed (the caller's policy). */
#ifndef LYRA_HTTP_REQ_H
#define LYRA_HTTP_REQ_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_LINE_MAX 1024 /* request line with its line end; longer: 414 */
#define HTTP_HEAD_MAX 8192 /* whole head (leading empty lines included); longer: 431 */
#define HTTP_BYTES_MAX (1ull << 40) /* the largest N of /bytes/N */

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

struct http_req {
    enum http_method method;
    int minor;            /* HTTP/1.minor */
    int close;            /* the connection ends after this response (version, Connection) */
    int body;             /* Content-Length > 0 or Transfer-Encoding: a body follows */
    const char *path;     /* the target's path (no query): in the caller's buffer, or
                           * "/" (absolute form without one) or "*" (not GET/HEAD) */
    size_t path_len;
    int status;           /* on HTTP_REQ_BAD: 400, 414, 431 or 505 */
    const char *why;      /* on HTTP_REQ_BAD: what was wrong, one line */
};

#define HTTP_REQ_MORE 0L /* the head is not complete and nothing so far is wrong */
#define HTTP_REQ_BAD (-1L) /* malformed or over a bound: answer status and close */

/* Parses the request head at the start of buf[0, len). Returns the length
 * of a complete head (> 0; the next request starts there), HTTP_REQ_MORE,
 * or HTTP_REQ_BAD with req->status and req->why set. A complete head may
 * have any method: the caller answers HTTP_OTHER with 405. */
long http_req_parse(const char *buf, size_t len, struct http_req *req);

enum http_route { HTTP_ROUTE_PAGE, HTTP_ROUTE_BYTES, HTTP_ROUTE_NOT_FOUND, HTTP_ROUTE_TOO_MANY };

/* What a parsed request's path names: `/` (or `/index.html`) the page,
 * `/bytes/N` (N decimal digits, at most HTTP_BYTES_MAX, else TOO_MANY) with
 * *n = N, anything else NOT_FOUND. */
enum http_route http_route(const struct http_req *req, uint64_t *n);

#endif
