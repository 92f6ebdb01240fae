/* libFuzzer entry for the http service's request parser (tools/services/
 * http_req.c): the input is the bytes a client sent. The parser must
 * answer MORE, a refusal with a listed status and a reason, or a complete
 * head no longer than the input and the bound, never read outside the
 * input (a copy of exactly its size), and agree with itself on prefixes:
 * a head of n bytes is complete at n and not before. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *b, size_t n, const struct http_req *q, long r)
{
    if (r == HTTP_REQ_BAD) {
        if (!q->why || (q->status != 400 && q->status != 414 && q->status != 431 &&
                        q->status != 505))
            abort();
        return;
    }
    if (r == HTTP_REQ_MORE) {
        if (n >= HTTP_HEAD_MAX)
            abort(); /* the bound is never waited past */
        return;
    }
    if (r < 0 || (size_t)r > n || r > HTTP_HEAD_MAX || b[r - 1] != '\n')
        abort();
    int in_buf = q->path >= b && q->path + q->path_len <= b + r;
    int literal = q->path_len == 1 && (q->path[0] == '/' || q->path[0] == '*');
    if (!in_buf && !literal)
        abort();
    uint64_t bytes = 0;
    enum http_route rt = http_route(q, &bytes);
    if (rt == HTTP_ROUTE_BYTES && bytes > HTTP_BYTES_MAX)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 3 * HTTP_HEAD_MAX)
        return 0;
    char *b = malloc(size ? size : 1);
    if (!b)
        return 0;
    memcpy(b, data, size);
    struct http_req q, p;
    long r = http_req_parse(b, size, &q);
    check(b, size, &q, r);
    if (r > 0) {
        if (http_req_parse(b, (size_t)r, &p) != r || p.method != q.method || p.close != q.close ||
            p.body != q.body || http_req_parse(b, (size_t)r - 1, &p) != HTTP_REQ_MORE)
            abort();
    } else if (r == HTTP_REQ_MORE && size) {
        if (http_req_parse(b, size / 2, &p) != HTTP_REQ_MORE)
            abort();
    }
    free(b);
    return 0;
}
