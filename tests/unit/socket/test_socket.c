/* The socket component and the public socket API over fake_l4, in stacks
 * loaded from a manifest with os_posix: descriptors, errno conventions,
 * options, and blocking calls both with a loop thread and without one (the
 * caller then drives the loop: fake_l4 only delivers in a poll step). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lyra/socket.h"
#include "lyra/socket_if.h"
#include "lyra/stack.h"
#include "stack_internal.h" /* lyra_stack_lock, lyra_stack_socket */

#define PROTO 253

static const char *manifest_text = "[os]\ncomponent = os_posix\n"
                                   "[l4]\ncomponent = fake_l4\n"
                                   "[sock]\ncomponent = socket\nl4 = l4\nos = os\nmax_fds = 4\n";

static struct lyra_stack *new_stack_from(const char *text)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/lyra-socket-test-%d.lyra", (int)getpid());
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    struct lyra_stack *s = NULL;
    int r = lyra_stack_load(path, NULL, &s);
    unlink(path);
    cr_assert_eq(r, 0, "load: %d", r);
    cr_assert_eq(lyra_stack_start(s), 0);
    return s;
}

static struct lyra_stack *new_stack(void)
{
    return new_stack_from(manifest_text);
}

static struct sockaddr_in sin_port(uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(0x7f000001);
    return a;
}

static int bound(struct lyra_stack *s, uint16_t port)
{
    int fd = lyra_socket(s, AF_INET, SOCK_DGRAM, PROTO);
    cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = sin_port(port);
    cr_assert_eq(lyra_bind(s, fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(socket, descriptors_are_lowest_free_and_bounded_by_max_fds)
{
    struct lyra_stack *s = new_stack();
    int fds[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(fds[i] = lyra_socket(s, AF_INET, SOCK_DGRAM, 0), i);
    errno = 0;
    cr_assert_eq(lyra_socket(s, AF_INET, SOCK_DGRAM, 0), -1);
    cr_assert_eq(errno, EMFILE);
    cr_assert_eq(lyra_close(s, 1), 0);
    cr_assert_eq(lyra_socket(s, AF_INET, SOCK_DGRAM, 0), 1);
    cr_assert_eq(lyra_stack_counter(s, "sock", "emfile"), 1);
    lyra_stack_destroy(s);
}

Test(socket, unsupported_domain_type_protocol_and_bad_descriptors)
{
    struct lyra_stack *s = new_stack();
    errno = 0;
    cr_assert_eq(lyra_socket(s, AF_INET6, SOCK_DGRAM, 0), -1);
    cr_assert_eq(errno, EAFNOSUPPORT);
    cr_assert_eq(lyra_socket(s, AF_INET, SOCK_STREAM, 0), -1);
    cr_assert_eq(errno, ESOCKTNOSUPPORT);
    cr_assert_eq(lyra_socket(s, AF_INET, SOCK_DGRAM, 17), -1);
    cr_assert_eq(errno, EPROTONOSUPPORT);
    char b[4];
    cr_assert_eq(lyra_recv(s, 3, b, sizeof(b), MSG_DONTWAIT), -1);
    cr_assert_eq(errno, EBADF);
    cr_assert_eq(lyra_close(s, -1), -1);
    cr_assert_eq(errno, EBADF);
    cr_assert_eq(lyra_close(s, 99), -1);
    cr_assert_eq(errno, EBADF);
    cr_assert_eq(lyra_stack_counter(s, "sock", "bad_fd"), 3);
    cr_assert_eq(lyra_stack_counter(s, "sock", "no_proto"), 2);
    lyra_stack_destroy(s);
}

/* sockatmark (POSIX): a descriptor whose transport has no urgent mark
 * (a datagram one) is ENOTTY, one not open EBADF. */
Test(socket, sockatmark_without_a_mark_is_enotty)
{
    struct lyra_stack *s = new_stack();
    int fd = lyra_socket(s, AF_INET, SOCK_DGRAM, 0);
    cr_assert_geq(fd, 0);
    errno = 0;
    cr_assert_eq(lyra_sockatmark(s, fd), -1);
    cr_assert_eq(errno, ENOTTY);
    cr_assert_eq(lyra_sockatmark(s, 99), -1);
    cr_assert_eq(errno, EBADF);
    lyra_close(s, fd);
    lyra_stack_destroy(s);
}

Test(socket, bad_addresses_are_rejected_before_the_transport)
{
    struct lyra_stack *s = new_stack();
    int fd = lyra_socket(s, AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = sin_port(7);
    errno = 0;
    cr_assert_eq(lyra_bind(s, fd, (struct sockaddr *)&a, 4), -1);
    cr_assert_eq(errno, EINVAL);
    a.sin_family = AF_INET6;
    cr_assert_eq(lyra_bind(s, fd, (struct sockaddr *)&a, sizeof(a)), -1);
    cr_assert_eq(errno, EAFNOSUPPORT);
    cr_assert_eq(lyra_bind(s, fd, NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    lyra_stack_destroy(s);
}

Test(socket, nonblocking_calls_say_eagain_and_fcntl_round_trips)
{
    struct lyra_stack *s = new_stack();
    int fd = bound(s, 1000);
    char b[8];
    cr_assert_eq(lyra_recv(s, fd, b, sizeof(b), MSG_DONTWAIT), -1);
    cr_assert_eq(errno, EAGAIN);
    cr_assert_eq(lyra_fcntl(s, fd, F_GETFL, 0) & O_NONBLOCK, 0);
    cr_assert_eq(lyra_fcntl(s, fd, F_SETFL, O_NONBLOCK), 0);
    cr_assert_eq(lyra_fcntl(s, fd, F_GETFL, 0) & O_NONBLOCK, O_NONBLOCK);
    cr_assert_eq(lyra_recv(s, fd, b, sizeof(b), 0), -1);
    cr_assert_eq(errno, EAGAIN);
    int nb = lyra_socket(s, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    cr_assert_eq(lyra_fcntl(s, nb, F_GETFL, 0) & O_NONBLOCK, O_NONBLOCK);
    cr_assert_eq(lyra_fcntl(s, nb, F_DUPFD, 0), -1);
    cr_assert_eq(errno, EINVAL);
    lyra_stack_destroy(s);
}

Test(socket, blocking_recv_without_a_loop_thread_drives_the_loop)
{
    struct lyra_stack *s = new_stack();
    int a = bound(s, 1000), b = bound(s, 2000);
    struct sockaddr_in to = sin_port(2000);
    cr_assert_eq(lyra_sendto(s, a, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to)), 5);
    /* nothing arrives until a poll step runs */
    char buf[16];
    cr_assert_eq(lyra_recv(s, b, buf, sizeof(buf), MSG_DONTWAIT), -1);
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    cr_assert_eq(lyra_recvfrom(s, b, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 5);
    cr_assert_eq(memcmp(buf, "hello", 5), 0);
    cr_assert_eq(fl, sizeof(from));
    cr_assert_eq(from.sin_family, AF_INET);
    cr_assert_eq(ntohs(from.sin_port), 1000);
    cr_assert_eq(ntohl(from.sin_addr.s_addr), 0x7f000001);
    cr_assert_eq(lyra_stack_counter(s, "l4", "delivered"), 1);
    lyra_stack_destroy(s);
}

Test(socket, peek_and_trunc_pass_through)
{
    struct lyra_stack *s = new_stack();
    int a = bound(s, 1000), b = bound(s, 2000);
    struct sockaddr_in to = sin_port(2000);
    cr_assert_eq(lyra_sendto(s, a, "abcdef", 6, 0, (struct sockaddr *)&to, sizeof(to)), 6);
    char buf[4];
    cr_assert_eq(lyra_recv(s, b, buf, 2, MSG_PEEK), 2);
    cr_assert_eq(lyra_recv(s, b, buf, 2, MSG_TRUNC), 6);
    cr_assert_eq(memcmp(buf, "ab", 2), 0);
    cr_assert_eq(lyra_recv(s, b, buf, 2, MSG_DONTWAIT), -1);
    lyra_stack_destroy(s);
}

/* recvmsg: msg_iov filled in order, the source in msg_name, and with
 * IP_PKTINFO one control message (fake_l4 sends everything to 127.0.0.1). */
Test(socket, recvmsg_scatters_and_reports_pktinfo)
{
    struct lyra_stack *s = new_stack();
    int a = bound(s, 1000), b = bound(s, 2000);
    int one = 1, v = -1;
    socklen_t vl = sizeof(v);
    cr_assert_eq(lyra_getsockopt(s, b, IPPROTO_IP, IP_PKTINFO, &v, &vl), 0);
    cr_assert_eq(v, 0, "off by default");
    cr_assert_eq(lyra_setsockopt(s, b, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)), 0);
    cr_assert_eq(lyra_getsockopt(s, b, IPPROTO_IP, IP_PKTINFO, &v, &vl), 0);
    cr_assert_eq(v, 1);
    struct sockaddr_in to = sin_port(2000);
    cr_assert_eq(lyra_sendto(s, a, "abcdefgh", 8, 0, (struct sockaddr *)&to, sizeof(to)), 8);
    char p1[3], p2[2], p3[8];
    struct iovec iov[3] = {{p1, sizeof(p1)}, {p2, sizeof(p2)}, {p3, sizeof(p3)}};
    struct sockaddr_in from;
    union {
        struct cmsghdr align;
        char b[CMSG_SPACE(sizeof(struct in_pktinfo))];
    } ctl;
    memset(&ctl, 0xff, sizeof(ctl));
    struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = iov,
                       .msg_iovlen = 3, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b),
                       .msg_flags = -1};
    cr_assert_eq(lyra_recvmsg(s, b, &m, 0), 8);
    cr_assert_eq(memcmp(p1, "abc", 3), 0);
    cr_assert_eq(memcmp(p2, "de", 2), 0);
    cr_assert_eq(memcmp(p3, "fgh", 3), 0);
    cr_assert_eq(m.msg_flags, 0);
    cr_assert_eq(m.msg_namelen, sizeof(from));
    cr_assert_eq(ntohs(from.sin_port), 1000);
    cr_assert_eq(m.msg_controllen, CMSG_SPACE(sizeof(struct in_pktinfo)));
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    cr_assert_not_null(c);
    cr_assert_eq(c->cmsg_level, IPPROTO_IP);
    cr_assert_eq(c->cmsg_type, IP_PKTINFO);
    cr_assert_eq(c->cmsg_len, CMSG_LEN(sizeof(struct in_pktinfo)));
    struct in_pktinfo pi;
    memcpy(&pi, CMSG_DATA(c), sizeof(pi));
    cr_assert_eq(pi.ipi_ifindex, 1);
    cr_assert_eq(ntohl(pi.ipi_addr.s_addr), 0x7f000001);
    cr_assert_eq(ntohl(pi.ipi_spec_dst.s_addr), 0x7f000001);
    cr_assert_null(CMSG_NXTHDR(&m, c), "one message");

    /* too small a control buffer: MSG_CTRUNC and no message; a datagram
     * larger than the pieces: cut, MSG_TRUNC (and its real length when
     * asked with MSG_TRUNC) */
    cr_assert_eq(lyra_sendto(s, a, "0123456789", 10, 0, (struct sockaddr *)&to, sizeof(to)), 10);
    cr_assert_eq(lyra_sendto(s, a, "0123456789", 10, 0, (struct sockaddr *)&to, sizeof(to)), 10);
    struct iovec small[2] = {{p1, 3}, {p2, 2}};
    m = (struct msghdr){.msg_iov = small, .msg_iovlen = 2, .msg_control = ctl.b,
                        .msg_controllen = CMSG_LEN(sizeof(struct in_pktinfo)) - 1};
    cr_assert_eq(lyra_recvmsg(s, b, &m, 0), 5);
    cr_assert_eq(memcmp(p1, "012", 3), 0);
    cr_assert_eq(memcmp(p2, "34", 2), 0);
    cr_assert_eq(m.msg_flags, MSG_TRUNC | MSG_CTRUNC);
    cr_assert_eq(m.msg_controllen, 0);
    m = (struct msghdr){.msg_iov = small, .msg_iovlen = 2};
    cr_assert_eq(lyra_recvmsg(s, b, &m, MSG_TRUNC), 10, "MSG_TRUNC: the real length");
    cr_assert_eq(m.msg_flags, MSG_TRUNC | MSG_CTRUNC, "no control buffer at all");

    /* IP_PKTINFO off: no control message */
    int zero = 0;
    cr_assert_eq(lyra_setsockopt(s, b, IPPROTO_IP, IP_PKTINFO, &zero, sizeof(zero)), 0);
    cr_assert_eq(lyra_sendto(s, a, "xy", 2, 0, (struct sockaddr *)&to, sizeof(to)), 2);
    m = (struct msghdr){.msg_iov = iov, .msg_iovlen = 3, .msg_control = ctl.b,
                        .msg_controllen = sizeof(ctl.b)};
    cr_assert_eq(lyra_recvmsg(s, b, &m, 0), 2);
    cr_assert_eq(m.msg_controllen, 0);
    cr_assert_eq(m.msg_flags, 0);
    cr_assert_null(CMSG_FIRSTHDR(&m));
    errno = 0;
    cr_assert_eq(lyra_recvmsg(s, b, NULL, 0), -1);
    cr_assert_eq(errno, EFAULT);
    lyra_stack_destroy(s);
}

Test(socket, receive_timeout_ends_a_blocking_recv_with_eagain)
{
    struct lyra_stack *s = new_stack();
    int b = bound(s, 2000);
    struct timeval tv = {0, 150000};
    cr_assert_eq(lyra_setsockopt(s, b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    struct timeval got;
    socklen_t gl = sizeof(got);
    cr_assert_eq(lyra_getsockopt(s, b, SOL_SOCKET, SO_RCVTIMEO, &got, &gl), 0);
    cr_assert_eq(got.tv_usec, 150000);
    char buf[4];
    double t0 = now_s();
    cr_assert_eq(lyra_recv(s, b, buf, sizeof(buf), 0), -1);
    cr_assert_eq(errno, EAGAIN);
    double dt = now_s() - t0;
    cr_assert(dt >= 0.149 && dt < 5, "waited %f s", dt);
    tv.tv_usec = 1000000;
    cr_assert_eq(lyra_setsockopt(s, b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), -1);
    cr_assert_eq(errno, EDOM);
    lyra_stack_destroy(s);
}

struct loop {
    struct lyra_stack *s;
    pthread_t t;
};

static void *run_loop(void *arg)
{
    lyra_stack_run(((struct loop *)arg)->s);
    return NULL;
}

struct rx {
    struct lyra_stack *s;
    int fd;
    long r;
    int err;
    char buf[16];
    pthread_t t;
};

static void *blocking_recv(void *arg)
{
    struct rx *x = arg;
    x->r = lyra_recv(x->s, x->fd, x->buf, sizeof(x->buf), 0);
    x->err = errno;
    return NULL;
}

/* Until a socket call is blocked in s (5 s at most): the thread started
 * has gone to sleep in its call, so what follows tests the blocking path,
 * not a call that came late and found its datagram (or the stop) there. */
static void wait_blocked(struct lyra_stack *s)
{
    for (int i = 0; i < 5000 && !lyra_stack_blocked(s); i++)
        usleep(1000);
    cr_assert_geq(lyra_stack_blocked(s), 1u, "no call blocked after 5 s");
}

Test(socket, application_threads_block_while_a_loop_thread_runs)
{
    struct lyra_stack *s = new_stack();
    struct loop lp = {.s = s};
    pthread_create(&lp.t, NULL, run_loop, &lp);
    int a = bound(s, 1000), b = bound(s, 2000);
    struct rx x = {.s = s, .fd = b};
    pthread_create(&x.t, NULL, blocking_recv, &x);
    wait_blocked(s); /* the receiver is asleep on the stack's condition */
    struct sockaddr_in to = sin_port(2000);
    cr_assert_eq(lyra_sendto(s, a, "ping", 4, 0, (struct sockaddr *)&to, sizeof(to)), 4);
    pthread_join(x.t, NULL);
    cr_assert_eq(x.r, 4, "recv: %ld (%s)", x.r, strerror(x.err));
    cr_assert_eq(memcmp(x.buf, "ping", 4), 0);
    lyra_stack_stop(s);
    pthread_join(lp.t, NULL);
    lyra_stack_destroy(s);
}

Test(socket, stop_cancels_blocked_callers)
{
    struct lyra_stack *s = new_stack();
    struct loop lp = {.s = s};
    pthread_create(&lp.t, NULL, run_loop, &lp);
    int b = bound(s, 2000);
    struct rx x = {.s = s, .fd = b};
    pthread_create(&x.t, NULL, blocking_recv, &x);
    wait_blocked(s);
    lyra_stack_stop(s);
    pthread_join(lp.t, NULL);
    pthread_join(x.t, NULL);
    cr_assert_eq(x.r, -1);
    cr_assert_eq(x.err, ECANCELED);
    lyra_stack_destroy(s);
}

Test(socket, names_and_options)
{
    struct lyra_stack *s = new_stack();
    int a = bound(s, 1000);
    struct sockaddr_in n;
    socklen_t nl = sizeof(n);
    cr_assert_eq(lyra_getsockname(s, a, (struct sockaddr *)&n, &nl), 0);
    cr_assert_eq(ntohs(n.sin_port), 1000);
    nl = sizeof(n);
    cr_assert_eq(lyra_getpeername(s, a, (struct sockaddr *)&n, &nl), -1);
    cr_assert_eq(errno, ENOTCONN);
    struct sockaddr_in p = sin_port(3000);
    cr_assert_eq(lyra_connect(s, a, (struct sockaddr *)&p, sizeof(p)), 0);
    nl = sizeof(n);
    cr_assert_eq(lyra_getpeername(s, a, (struct sockaddr *)&n, &nl), 0);
    cr_assert_eq(ntohs(n.sin_port), 3000);
    int ttl = 9, v = 0;
    socklen_t vl = sizeof(v);
    cr_assert_eq(lyra_setsockopt(s, a, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)), 0);
    cr_assert_eq(lyra_getsockopt(s, a, IPPROTO_IP, IP_TTL, &v, &vl), 0);
    cr_assert_eq(v, 9);
    vl = sizeof(v);
    cr_assert_eq(lyra_getsockopt(s, a, SOL_SOCKET, SO_TYPE, &v, &vl), 0);
    cr_assert_eq(v, SOCK_DGRAM);
    cr_assert_eq(lyra_setsockopt(s, a, SOL_SOCKET, SO_TYPE, &v, sizeof(v)), -1);
    cr_assert_eq(errno, ENOPROTOOPT);
    cr_assert_eq(lyra_setsockopt(s, a, SOL_SOCKET, SO_BROADCAST, &v, sizeof(v)), -1);
    cr_assert_eq(errno, ENOPROTOOPT); /* fake_l4 has no such option */
    cr_assert_eq(lyra_setsockopt(s, a, 12345, 1, &v, sizeof(v)), -1);
    cr_assert_eq(errno, ENOPROTOOPT);
    lyra_stack_destroy(s);
}

Test(socket, poll_reports_readiness_and_times_out)
{
    struct lyra_stack *s = new_stack();
    int a = bound(s, 1000), b = bound(s, 2000);
    struct lyra_pollfd p[3] = {{b, POLLIN, 0}, {a, POLLOUT, 0}, {3, POLLIN, 0}};
    cr_assert_eq(lyra_poll(s, p, 1, 50), 0);
    cr_assert_eq(lyra_poll(s, p, 3, 0), 2);
    cr_assert_eq(p[0].revents, 0);
    cr_assert_eq(p[1].revents, POLLOUT);
    cr_assert_eq(p[2].revents, POLLNVAL);
    struct sockaddr_in to = sin_port(2000);
    cr_assert_eq(lyra_sendto(s, a, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
    /* the datagram lands in a poll step the waiting lyra_poll itself runs */
    cr_assert_eq(lyra_poll(s, p, 1, 1000), 1);
    cr_assert_eq(p[0].revents, POLLIN);
    lyra_stack_destroy(s);
}

Test(socket, descriptors_left_open_are_closed_at_stop)
{
    struct lyra_stack *s = new_stack();
    bound(s, 1000);
    bound(s, 2000);
    cr_assert_eq(lyra_stack_counter(s, "l4", "opened"), 2);
    lyra_stack_destroy(s); /* stops: fake_l4 must see both closes */
}

Test(socket, a_stack_without_a_socket_layer_says_so)
{
    errno = 0;
    cr_assert_eq(lyra_socket(NULL, AF_INET, SOCK_DGRAM, 0), -1);
    cr_assert_eq(errno, EINVAL);
}

Test(socket, a_caller_driving_the_loop_hands_over_to_a_late_loop_thread)
{
    struct lyra_stack *s = new_stack();
    int a = bound(s, 1000), b = bound(s, 2000);
    struct rx x = {.s = s, .fd = b};
    pthread_create(&x.t, NULL, blocking_recv, &x);
    wait_blocked(s); /* no loop thread yet: the receiver drives the loop */
    struct loop lp = {.s = s};
    pthread_create(&lp.t, NULL, run_loop, &lp);
    usleep(50000);
    struct sockaddr_in to = sin_port(2000);
    cr_assert_eq(lyra_sendto(s, a, "late", 4, 0, (struct sockaddr *)&to, sizeof(to)), 4);
    pthread_join(x.t, NULL);
    cr_assert_eq(x.r, 4, "recv: %ld (%s)", x.r, strerror(x.err));
    lyra_stack_stop(s);
    pthread_join(lp.t, NULL);
    lyra_stack_destroy(s);
}

Test(socket, a_send_from_another_thread_wakes_a_caller_driving_the_loop)
{
    struct lyra_stack *s = new_stack();
    int a = bound(s, 1000), b = bound(s, 2000);
    struct rx x = {.s = s, .fd = b};
    pthread_create(&x.t, NULL, blocking_recv, &x);
    wait_blocked(s);
    struct sockaddr_in to = sin_port(2000);
    cr_assert_eq(lyra_sendto(s, a, "wake", 4, 0, (struct sockaddr *)&to, sizeof(to)), 4);
    pthread_join(x.t, NULL);
    cr_assert_eq(x.r, 4, "recv: %ld (%s)", x.r, strerror(x.err));
    cr_assert_eq(memcmp(x.buf, "wake", 4), 0);
    lyra_stack_destroy(s);
}

struct acct_seen {
    uint64_t send_calls, send_bytes, recv_calls, recv_bytes;
};

static void on_binding(void *ctx, const char *user, const char *slot, const char *prov,
                       const char *iface, const char *op, int is_event, uint64_t calls,
                       uint64_t bytes, uint64_t ns)
{
    struct acct_seen *a = ctx;
    if (strcmp(user, "sock") || strcmp(slot, "l4") || strcmp(iface, "l4"))
        return;
    if (!strcmp(op, "send")) {
        a->send_calls = calls;
        a->send_bytes = bytes;
    } else if (!strcmp(op, "recv")) {
        a->recv_calls = calls;
        a->recv_bytes = bytes;
    }
}

static void on_counter(void *ctx, const char *inst, const char *name, uint64_t v)
{
}

/* An accounted l4 binding: the proxy keeps the transport's type and
 * protocol (plain fields of the table), and counts bytes sent and bytes
 * actually received. */
Test(socket, an_accounted_transport_binding_keeps_its_type_and_counts_bytes)
{
    char text[512];
    snprintf(text, sizeof(text), "%saccount = l4\n", manifest_text);
    struct lyra_stack *s = new_stack_from(text);
    int a = bound(s, 1000), b = bound(s, 2000); /* socket() found fake_l4 by type and protocol */
    struct sockaddr_in to = sin_port(2000);
    cr_assert_eq(lyra_sendto(s, a, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to)), 5);
    char buf[64];
    cr_assert_eq(lyra_recv(s, b, buf, sizeof(buf), 0), 5);
    struct acct_seen seen = {0};
    struct lyra_stats_visitor v = {.counter = on_counter, .binding = on_binding, .ctx = &seen};
    lyra_stack_stats(s, &v);
    cr_assert_eq(seen.send_calls, 1);
    cr_assert_eq(seen.send_bytes, 5);
    cr_assert_geq(seen.recv_calls, 1); /* the first try may find nothing yet */
    cr_assert_eq(seen.recv_bytes, 5, "bytes returned, not the 64 offered");
    lyra_stack_destroy(s);
}

Test(socket, recvmsg_pieces_are_bounded)
{
    struct lyra_stack *s = new_stack();
    int b = bound(s, 2000);
    static struct iovec iov[LYRA_RECVMSG_IOV_MAX + 1];
    static char space[LYRA_RECVMSG_IOV_MAX + 1];
    for (int i = 0; i <= LYRA_RECVMSG_IOV_MAX; i++) {
        iov[i].iov_base = &space[i];
        iov[i].iov_len = 1;
    }
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    m.msg_iov = iov;
    m.msg_iovlen = LYRA_RECVMSG_IOV_MAX + 1;
    errno = 0;
    cr_assert_eq(lyra_recvmsg(s, b, &m, MSG_DONTWAIT), -1);
    cr_assert_eq(errno, EMSGSIZE);
    m.msg_iovlen = LYRA_RECVMSG_IOV_MAX;
    cr_assert_eq(lyra_recvmsg(s, b, &m, MSG_DONTWAIT), -1);
    cr_assert_eq(errno, EAGAIN, "within the bound the call goes through");
    lyra_stack_destroy(s);
}

static uint64_t l4_ctr(struct lyra_stack *s, const char *name)
{
    uint64_t v = lyra_stack_counter(s, "l4", name);
    cr_assert_neq(v, UINT64_MAX, "fake_l4 reports no %s", name);
    return v;
}

/* l4 1.1 DRAINED: once the transport said nothing is queued, recv and
 * lyra_recv_loan say EAGAIN without calling it, until its next event about
 * the descriptor (a non-blocking reader's "read until EAGAIN" then costs
 * one transport call per datagram, not two). Loans did call it. */
Test(socket, a_drained_descriptor_answers_loans_without_the_transport)
{
    struct lyra_stack *s = new_stack();
    int fd = bound(s, 1000);
    struct sockaddr_in a = sin_port(1000);
    cr_assert_eq(lyra_sendto(s, fd, "hello", 5, 0, (struct sockaddr *)&a, sizeof(a)), 5);
    lyra_stack_poll(s); /* fake_l4 delivers it: IN */
    struct lyra_loan ln;
    cr_assert_eq(lyra_recv_loan(s, fd, &ln, MSG_DONTWAIT), 5);
    cr_assert_eq(memcmp(ln.data, "hello", 5), 0);
    cr_assert_eq(l4_ctr(s, "loan_calls"), 1);
    cr_assert_eq(lyra_loan_return(s, &ln), 0);
    cr_assert_eq(l4_ctr(s, "loans_out"), 0);
    /* it took the last one and said DRAINED: answered here */
    cr_assert_eq(lyra_recv_loan(s, fd, &ln, MSG_DONTWAIT), -1);
    cr_assert_eq(errno, EAGAIN);
    char b[8];
    cr_assert_eq(lyra_recv(s, fd, b, sizeof(b), MSG_DONTWAIT), -1);
    cr_assert_eq(errno, EAGAIN);
    cr_assert_eq(l4_ctr(s, "loan_calls"), 1, "a drained descriptor's loan reached the transport");
    /* DRAINED is about the receive queue: MSG_OOB gets the transport's
     * answer (fake_l4: EOPNOTSUPP; tcp: EINVAL), not EAGAIN */
    cr_assert_eq(lyra_recv(s, fd, b, sizeof(b), MSG_OOB | MSG_DONTWAIT), -1);
    cr_assert_eq(errno, EOPNOTSUPP, "MSG_OOB: %s", strerror(errno));
    /* the next datagram's event undoes DRAINED */
    cr_assert_eq(lyra_sendto(s, fd, "again", 5, 0, (struct sockaddr *)&a, sizeof(a)), 5);
    lyra_stack_poll(s);
    cr_assert_eq(lyra_recv_loan(s, fd, &ln, MSG_DONTWAIT), 5);
    cr_assert_eq(memcmp(ln.data, "again", 5), 0);
    cr_assert_eq(l4_ctr(s, "loan_calls"), 2);
    cr_assert_eq(lyra_loan_return(s, &ln), 0);
    lyra_close(s, fd);
    lyra_stack_destroy(s);
}

/* socket 1.5 rx_idle: a non-blocking read (MSG_DONTWAIT, or O_NONBLOCK) of
 * a drained descriptor is answered EAGAIN without the stack lock; here the
 * test holds the lock, so a call that took it would never return (the
 * test's timeout). A blocking read is never answered so; the next event
 * about the descriptor, and close, end the idle state. */
Test(socket, a_nonblocking_read_of_a_drained_descriptor_takes_no_lock, .timeout = 20)
{
    struct lyra_stack *s = new_stack();
    int fd = bound(s, 1000);
    void *x;
    const struct lyra_socket_ops *o = lyra_stack_socket(s, &x);
    cr_assert(o && LYRA_SOCKET_HAS(o, 5, rx_idle));
    cr_assert_eq(o->rx_idle(x, fd), 0, "nothing said yet");
    struct sockaddr_in a = sin_port(1000);
    cr_assert_eq(lyra_sendto(s, fd, "hello", 5, 0, (struct sockaddr *)&a, sizeof(a)), 5);
    lyra_stack_poll(s);
    struct lyra_loan ln;
    cr_assert_eq(lyra_recv_loan(s, fd, &ln, MSG_DONTWAIT), 5);
    cr_assert_eq(lyra_loan_return(s, &ln), 0);
    cr_assert_eq(o->rx_idle(x, fd), LYRA_FD_IDLE_DRAINED);
    cr_assert_eq(o->rx_idle(x, -1), 0);
    cr_assert_eq(o->rx_idle(x, 4), 0, "beyond max_fds");
    char b[8];
    struct iovec v = {b, sizeof(b)};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    lyra_stack_lock(s);
    cr_assert_eq(lyra_recv(s, fd, b, sizeof(b), MSG_DONTWAIT), -1);
    cr_assert_eq(errno, EAGAIN);
    cr_assert_eq(lyra_recv_loan(s, fd, &ln, MSG_DONTWAIT), -1);
    cr_assert_eq(errno, EAGAIN);
    cr_assert_eq(lyra_recvmsg(s, fd, &m, MSG_DONTWAIT), -1);
    cr_assert_eq(errno, EAGAIN);
    lyra_stack_unlock(s);
    cr_assert_eq(lyra_fcntl(s, fd, F_SETFL, O_NONBLOCK), 0);
    cr_assert_eq(o->rx_idle(x, fd), LYRA_FD_IDLE_DRAINED | LYRA_FD_IDLE_NONBLOCK);
    lyra_stack_lock(s);
    cr_assert_eq(lyra_recv(s, fd, b, sizeof(b), 0), -1, "O_NONBLOCK: no flag needed");
    cr_assert_eq(errno, EAGAIN);
    lyra_stack_unlock(s);
    cr_assert_eq(lyra_fcntl(s, fd, F_SETFL, 0), 0);
    cr_assert_eq(o->rx_idle(x, fd), LYRA_FD_IDLE_DRAINED, "blocking again: the caller waits");
    /* the next datagram's event ends it */
    cr_assert_eq(lyra_sendto(s, fd, "again", 5, 0, (struct sockaddr *)&a, sizeof(a)), 5);
    lyra_stack_poll(s);
    cr_assert_eq(o->rx_idle(x, fd), 0);
    cr_assert_eq(lyra_recv(s, fd, b, sizeof(b), MSG_DONTWAIT), 5);
    cr_assert_eq(memcmp(b, "again", 5), 0);
    lyra_close(s, fd);
    cr_assert_eq(o->rx_idle(x, fd), 0, "closed");
    lyra_stack_destroy(s);
}
