/* close(2) of the public socket API, with SO_LINGER's wait (socket_api.c
 * has the other calls). */
#include <stdint.h>

#include "lyra/l4.h"
#include "lyra/socket.h"
#include "socket_api_internal.h"

/* Whether the linger is over. With TCP_INFO, by the state alone, as
 * Linux (sk_stream_closing): over unless our FIN is queued or in flight
 * (FIN-WAIT-1, CLOSING, LAST-ACK, or SYN-RECEIVED, where it waits for the
 * handshake). So a listener or a SYN-SENT socket, which send no FIN, end
 * at once; and neither HUP (set once both sides are shut: after the
 * peer's FIN it came with ours unsent, close returned, and a program that
 * ended right after never sent it; a Python peer waited 30 s for it) nor
 * ERR (pending MSG_ZEROCOPY completions, a soft ICMP error) ends it early.
 * A hard error closes the connection (CLOSED). A transport without
 * TCP_INFO answers HUP or ERR alone. */
static int linger_done(const struct lyra_socket_ops *o, void *x, int fd)
{
    struct lyra_tcp_info ti;
    uint32_t n = sizeof(ti);
    if (!LYRA_SOCKET_HAS(o, 3, getopt_buf) || o->getopt_buf(x, fd, LYRA_TCP_INFO, &ti, &n) ||
        n < sizeof(ti.state))
        return (o->poll(x, fd) & (LYRA_POLL_HUP | LYRA_POLL_ERR)) != 0;
    return !(ti.state == LYRA_TCPS_FIN_WAIT_1 || ti.state == LYRA_TCPS_CLOSING ||
             ti.state == LYRA_TCPS_LAST_ACK || ti.state == LYRA_TCPS_SYN_RECEIVED);
}

/* Received bytes nobody read: close aborts with a RST then (RFC 9293
 * 3.10.4 leaves it open; Linux and our tcp do), so there is no FIN to
 * wait for, and none is sent first. */
static int unread(const struct lyra_socket_ops *o, void *x, int fd)
{
    char b;
    struct lyra_iov v = {.base = &b, .len = 1};
    return o->recv(x, fd, &v, 1, NULL, NULL, LYRA_MSG_PEEK | LYRA_MSG_DONTWAIT) > 0;
}

/* SO_LINGER with a time on a blocking stream, as Linux: the sending side
 * is shut and close waits until everything sent, the FIN included, is
 * acknowledged, the connection is gone, or the linger time passed; the
 * peer need not have closed, and when it has, close still waits for its
 * ACK of our FIN. Unread data: no wait (the close is an abort). Then the
 * endpoint goes (the transport finishes the closing handshake alone).
 * Without SO_LINGER close returns at once and the transport may keep the
 * endpoint to finish (e.g. TIME_WAIT). */
static void linger(struct lyra_stack *s, const struct lyra_socket_ops *o, void *x, int fd,
                   int64_t lg)
{
    int64_t nb = 0;
    if (lg <= 0 || !sock_is_stream(o, x, fd) ||
        (o->getopt(x, fd, LYRA_FD_NONBLOCK, &nb) == 0 && nb) || unread(o, x, fd))
        return;
    o->shutdown(x, fd, SHUT_WR);
    uint64_t deadline = lyra_stack_now(s) + (uint64_t)lg * 1000000000u;
    /* tcp reports POLL_OUT when our FIN is acknowledged */
    struct lyra_waiter w = {.fd = fd, .want = LYRA_POLL_HUP | LYRA_POLL_OUT};
    lyra_waiter_add(s, &w);
    while (!linger_done(o, x, fd) && lyra_stack_wait_locked(s, &w, deadline) == 0)
        ;
    lyra_waiter_del(s, &w);
}

int lyra_close(struct lyra_stack *s, int fd)
{
    void *x;
    const struct lyra_socket_ops *o = sock_enter(s, &x);
    if (!o)
        return -1;
    int64_t lg = -1;
    int r = o->getopt(x, fd, LYRA_FD_LINGER, &lg);
    if (r != -EBADF) {
        linger(s, o, x, fd, lg);
        r = o->close(x, fd);
    }
    sock_leave(s, 1);
    return r < 0 ? sock_fail(r) : 0;
}
