/* A client of the services for the tests: blocking calls with a receive
 * timeout, asserting as it goes (Criterion). Used over fake_stream (one
 * stack) and over tcp (two stacks on the wire). */
#ifndef LYRA_TEST_SVC_CLIENT_H
#define LYRA_TEST_SVC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "lyra/socket.h"

struct lyra_stack;

/* A connected stream socket to addr:port (host order), SO_RCVTIMEO 10 s. */
int sc_connect(struct lyra_stack *s, uint32_t addr, uint16_t port);
void sc_send_all(struct lyra_stack *s, int fd, const void *p, size_t n);
void sc_recv_exact(struct lyra_stack *s, int fd, void *p, size_t n);
/* Reads until the peer closes (asserts it does within the timeout). */
void sc_expect_eof(struct lyra_stack *s, int fd);

struct sc_resp {
    int status;
    int has_length;
    uint64_t length;
    int close;          /* Connection: close */
    char head[1024];
};
/* Reads one response head (byte by byte: what follows stays unread). */
void sc_read_head(struct lyra_stack *s, int fd, struct sc_resp *r);
/* Reads n body bytes, checking them against /bytes/N's pattern. */
void sc_read_pattern(struct lyra_stack *s, int fd, uint64_t n);
/* Sends req, reads the head and (unless head_only) a body of at most cap
 * bytes into body (NUL-terminated); returns the status. */
int sc_http(struct lyra_stack *s, int fd, const char *req, struct sc_resp *r, char *body,
            size_t cap, int head_only);

#endif
