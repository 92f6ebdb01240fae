#include "svc_client.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc_pattern.h"

int sc_connect(struct lyra_stack *s, uint32_t addr, uint16_t port)
{
    int fd = lyra_socket(s, AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
    struct timeval tv = {10, 0};
    cr_assert_eq(lyra_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(addr);
    cr_assert_eq(lyra_connect(s, fd, (struct sockaddr *)&a, sizeof(a)), 0, "connect to port %u: %s",
                 port, strerror(errno));
    return fd;
}

void sc_send_all(struct lyra_stack *s, int fd, const void *p, size_t n)
{
    ssize_t r = lyra_send(s, fd, p, n, 0);
    cr_assert_eq(r, (ssize_t)n, "send %zu: %zd (%s)", n, r, strerror(errno));
}

void sc_recv_exact(struct lyra_stack *s, int fd, void *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = lyra_recv(s, fd, (char *)p + got, n - got, 0);
        cr_assert_gt(r, 0, "recv after %zu of %zu: %zd (%s)", got, n, r,
                     r ? strerror(errno) : "end of stream");
        got += (size_t)r;
    }
}

void sc_expect_eof(struct lyra_stack *s, int fd)
{
    char b[256];
    ssize_t r;
    while ((r = lyra_recv(s, fd, b, sizeof(b), 0)) > 0)
        ;
    cr_assert_eq(r, 0, "the connection is not closed: %s", strerror(errno));
}

static int field(const char *head, const char *name, char *val, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
        if (!strncasecmp(l + 2, name, nl) && l[2 + nl] == ':') {
            const char *v = l + 3 + nl, *e = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            snprintf(val, cap, "%.*s", (int)(e - v), v);
            return 1;
        }
    }
    return 0;
}

void sc_read_head(struct lyra_stack *s, int fd, struct sc_resp *r)
{
    size_t n = 0;
    memset(r, 0, sizeof(*r));
    while (n < 4 || memcmp(r->head + n - 4, "\r\n\r\n", 4)) {
        cr_assert_lt(n, sizeof(r->head) - 1, "response head too long: %s", r->head);
        ssize_t k = lyra_recv(s, fd, r->head + n, 1, 0);
        cr_assert_eq(k, 1, "response head after %zu bytes (%s): %s", n,
                     k ? strerror(errno) : "end of stream", r->head);
        n++;
    }
    r->head[n] = 0;
    cr_assert_eq(sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1, "status line: %s", r->head);
    char v[64];
    if ((r->has_length = field(r->head, "Content-Length", v, sizeof(v))))
        r->length = strtoull(v, NULL, 10);
    r->close = field(r->head, "Connection", v, sizeof(v)) && !strcasecmp(v, "close");
}

void sc_read_pattern(struct lyra_stack *s, int fd, uint64_t n)
{
    static unsigned char got[16384], want[16384];
    for (uint64_t off = 0; off < n;) {
        size_t k = n - off < sizeof(got) ? (size_t)(n - off) : sizeof(got);
        ssize_t r = lyra_recv(s, fd, got, k, 0);
        cr_assert_gt(r, 0, "body after %llu of %llu bytes: %s", (unsigned long long)off,
                     (unsigned long long)n, r ? strerror(errno) : "end of stream");
        bytes_fill(want, (size_t)r, off);
        cr_assert_eq(memcmp(got, want, (size_t)r), 0, "body bytes at %llu differ",
                     (unsigned long long)off);
        off += (uint64_t)r;
    }
}

int sc_http(struct lyra_stack *s, int fd, const char *req, struct sc_resp *r, char *body,
            size_t cap, int head_only)
{
    sc_send_all(s, fd, req, strlen(req));
    sc_read_head(s, fd, r);
    cr_assert(r->has_length, "no Content-Length: %s", r->head);
    if (!head_only) {
        cr_assert_lt(r->length, cap, "body of %llu bytes", (unsigned long long)r->length);
        sc_recv_exact(s, fd, body, (size_t)r->length);
        body[r->length] = 0;
    }
    return r->status;
}
