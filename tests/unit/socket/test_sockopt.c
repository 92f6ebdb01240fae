/* Socket options through the public API (framework/src/socket_opt.c) and
 * the socket component's pass-through (socket 1.3), over fake_opts, a
 * stream transport that only keeps options and counts what reaches it:
 * each BSD (level, name) arrives as the right LYRA_ option; Linux's errors
 * for NULL pointers (EFAULT), short values (EINVAL) and options a
 * transport lacks (ENOPROTOOPT, also when it has no buffer ops or says it
 * is older than l4 1.2); TCP_CONGESTION and TCP_INFO cut to the caller's
 * length. Every case runs plain and with the l4 binding accounted (the
 * proxy must keep what the transport has and has not). */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lyra/socket.h"
#include "lyra/stack.h"

static struct lyra_stack *stack_with(const char *stream, int accounted)
{
    char text[512], path[64];
    snprintf(text, sizeof(text),
             "[os]\ncomponent = os_posix\n[st]\ncomponent = %s\n[dg]\ncomponent = fake_l4\n"
             "[sock]\ncomponent = socket\nl4 = st, dg\nos = os\nmax_fds = 8\n%s",
             stream, accounted ? "account = l4\n" : "");
    snprintf(path, sizeof(path), "/tmp/lyra-sockopt-test-%d.lyra", (int)getpid());
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

static uint64_t st_counter(struct lyra_stack *s, const char *name)
{
    return lyra_stack_counter(s, "st", name);
}

static int stream_fd(struct lyra_stack *s)
{
    int fd = lyra_socket(s, AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
    return fd;
}

static void expect_fail(int r, int err, const char *what)
{
    cr_assert_eq(r, -1, "%s: %d, not -1", what, r);
    cr_assert_eq(errno, err, "%s: errno %s, not %s", what, strerror(errno), strerror(err));
}

/* LYRA_ values as l4.h numbers them (the enum's order is its ABI). */
static const struct {
    int level, name, lyra, val;
    const char *what;
} int_opts[] = {
    {SOL_SOCKET, SO_KEEPALIVE, 10, 1, "SO_KEEPALIVE"},
    {IPPROTO_TCP, TCP_MAXSEG, 11, 536, "TCP_MAXSEG"},
    {IPPROTO_TCP, TCP_KEEPIDLE, 12, 60, "TCP_KEEPIDLE"},
    {IPPROTO_TCP, TCP_KEEPINTVL, 13, 5, "TCP_KEEPINTVL"},
    {IPPROTO_TCP, TCP_KEEPCNT, 14, 3, "TCP_KEEPCNT"},
    {IPPROTO_TCP, TCP_USER_TIMEOUT, 15, 30000, "TCP_USER_TIMEOUT"},
    {IPPROTO_TCP, TCP_NODELAY, 8, 1, "TCP_NODELAY"},
};

static void int_options_arrive_as_theirs(int accounted)
{
    struct lyra_stack *s = stack_with("fake_opts", accounted);
    int fd = stream_fd(s);
    cr_assert_eq(LYRA_SO_KEEPALIVE, 10);
    cr_assert_eq(LYRA_TCP_USER_TIMEOUT, 15);
    for (unsigned i = 0; i < sizeof(int_opts) / sizeof(int_opts[0]); i++) {
        int v = int_opts[i].val, got = -1;
        socklen_t gl = sizeof(got);
        cr_assert_eq(lyra_setsockopt(s, fd, int_opts[i].level, int_opts[i].name, &v, sizeof(v)), 0,
                     "set %s: %s", int_opts[i].what, strerror(errno));
        cr_assert_eq(st_counter(s, "last_opt"), (uint64_t)int_opts[i].lyra, "set %s",
                     int_opts[i].what);
        cr_assert_eq(lyra_getsockopt(s, fd, int_opts[i].level, int_opts[i].name, &got, &gl), 0);
        cr_assert_eq(st_counter(s, "last_opt"), (uint64_t)int_opts[i].lyra, "get %s",
                     int_opts[i].what);
        cr_assert_eq(got, int_opts[i].val, "%s", int_opts[i].what);
        cr_assert_eq(gl, sizeof(int));
    }
    /* the transport's own error comes back as errno */
    int neg = -1;
    expect_fail(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_KEEPIDLE, &neg, sizeof(neg)), EINVAL,
                "negative TCP_KEEPIDLE");
    lyra_stack_destroy(s);
}

Test(sockopt, int_options_arrive_as_the_transports_options)
{
    int_options_arrive_as_theirs(0);
}

Test(sockopt, int_options_arrive_through_an_accounted_binding)
{
    int_options_arrive_as_theirs(1);
}

/* Linux's errors before any transport is asked: EFAULT for NULL, EINVAL
 * for a value shorter than an int, or a length negative as an int. */
Test(sockopt, null_pointers_and_short_lengths)
{
    struct lyra_stack *s = stack_with("fake_opts", 0);
    int fd = stream_fd(s), v = 1;
    uint64_t calls = st_counter(s, "opt_calls") + st_counter(s, "buf_calls");
    socklen_t gl = sizeof(v);
    expect_fail(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_KEEPCNT, NULL, sizeof(int)), EFAULT,
                "set NULL");
    expect_fail(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(int) - 1), EINVAL,
                "set 3 bytes");
    expect_fail(lyra_setsockopt(s, fd, SOL_SOCKET, SO_KEEPALIVE, &v, 0), EINVAL, "set 0 bytes");
    expect_fail(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, NULL, 8), EFAULT,
                "set NULL name");
    expect_fail(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_MAXSEG, NULL, &gl), EFAULT, "get NULL");
    expect_fail(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_MAXSEG, &v, NULL), EFAULT,
                "get NULL len");
    struct lyra_tcp_info ti;
    expect_fail(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, NULL, &gl), EFAULT,
                "TCP_INFO into NULL");
    expect_fail(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, &ti, NULL), EFAULT,
                "TCP_INFO NULL len");
    gl = (socklen_t)INT_MAX + 1;
    expect_fail(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, &ti, &gl), EINVAL,
                "negative len");
    cr_assert_eq(st_counter(s, "opt_calls") + st_counter(s, "buf_calls"), calls,
                 "none of these reached the transport");
    /* a short get is cut, as Linux: one byte of 1460 (0x05b4) */
    unsigned char b = 0;
    gl = 1;
    cr_assert_eq(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_MAXSEG, &b, &gl), 0);
    cr_assert_eq(gl, 1);
    cr_assert_eq(b, 0xb4);
    lyra_stack_destroy(s);
}

static void congestion_round_trips(int accounted)
{
    struct lyra_stack *s = stack_with("fake_opts", accounted);
    int fd = stream_fd(s);
    char name[64];
    socklen_t nl = sizeof(name);
    memset(name, 'x', sizeof(name));
    cr_assert_eq(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, name, &nl), 0);
    cr_assert_eq(st_counter(s, "last_opt"), LYRA_TCP_CONGESTION);
    cr_assert_eq(nl, 16, "Linux gives TCP_CA_NAME_MAX bytes");
    cr_assert_str_eq(name, "newreno");
    for (int i = 7; i < 16; i++)
        cr_assert_eq(name[i], 0, "byte %d: NUL-padded", i);
    cr_assert_eq(name[16], 'x', "nothing beyond 16 bytes");

    /* set with the NUL in len: the transport gets the name's 7 bytes and a
     * NUL after them */
    cr_assert_eq(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, "toyreno", 8), 0);
    cr_assert_eq(st_counter(s, "last_opt"), LYRA_TCP_CONGESTION);
    cr_assert_eq(st_counter(s, "last_len"), 7);
    cr_assert_eq(st_counter(s, "nul_after"), 1);
    /* without a NUL: len bytes */
    char raw[7];
    memcpy(raw, "newreno", 7);
    cr_assert_eq(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, raw, 7), 0);
    cr_assert_eq(st_counter(s, "last_len"), 7);
    cr_assert_eq(st_counter(s, "nul_after"), 1);
    cr_assert_eq(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, "toyreno", 8), 0);

    /* a short get is cut: "toy", *len 3 */
    memset(name, 'x', sizeof(name));
    nl = 3;
    cr_assert_eq(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, name, &nl), 0);
    cr_assert_eq(nl, 3);
    cr_assert_eq(memcmp(name, "toyx", 4), 0);
    nl = 0;
    cr_assert_eq(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, name, &nl), 0);
    cr_assert_eq(nl, 0);

    /* len cuts the name: "toy" names nothing (the transport's ENOENT) */
    expect_fail(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, "toyreno", 3), ENOENT,
                "cut name");
    cr_assert_eq(st_counter(s, "last_len"), 3);
    /* at most 15 bytes go down, as Linux */
    expect_fail(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, "abcdefghijklmnopqrst", 21),
                ENOENT, "long name");
    cr_assert_eq(st_counter(s, "last_len"), 15);
    cr_assert_eq(st_counter(s, "nul_after"), 1);
    /* empty: EINVAL, before the transport */
    uint64_t calls = st_counter(s, "buf_calls");
    expect_fail(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, "", 1), EINVAL, "empty");
    expect_fail(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, "newreno", 0), EINVAL,
                "len 0");
    cr_assert_eq(st_counter(s, "buf_calls"), calls);
    /* the failed sets left the name alone */
    nl = sizeof(name);
    cr_assert_eq(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, name, &nl), 0);
    cr_assert_str_eq(name, "toyreno");
    lyra_stack_destroy(s);
}

Test(sockopt, tcp_congestion_is_a_name_cut_as_linux_cuts_it)
{
    congestion_round_trips(0);
}

Test(sockopt, tcp_congestion_through_an_accounted_binding)
{
    congestion_round_trips(1);
}

static void info_snapshot(int accounted)
{
    struct lyra_stack *s = stack_with("fake_opts", accounted);
    int fd = stream_fd(s), mss = 1200;
    cr_assert_eq(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss)), 0);
    struct {
        struct lyra_tcp_info ti;
        unsigned char after[8];
    } b;
    memset(&b, 0xee, sizeof(b));
    socklen_t len = sizeof(b);
    cr_assert_eq(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, &b, &len), 0);
    cr_assert_eq(st_counter(s, "last_opt"), LYRA_TCP_INFO);
    cr_assert_eq(len, sizeof(struct lyra_tcp_info), "*len: the bytes written");
    cr_assert_eq(b.ti.state, LYRA_TCPS_ESTABLISHED);
    cr_assert_eq(b.ti.rto, 204000);
    cr_assert_eq(b.ti.rtt, 1234);
    cr_assert_eq(b.ti.snd_mss, 1200);
    cr_assert_eq(b.ti.bytes_acked, 0x0102030405060708ull);
    cr_assert_str_eq(b.ti.congestion, "newreno");
    cr_assert_eq(b.after[0], 0xee, "nothing written beyond the struct");

    /* cut to *len: the struct's first bytes, nothing after them */
    unsigned char cut[sizeof(struct lyra_tcp_info)];
    memset(cut, 0xee, sizeof(cut));
    len = 10;
    cr_assert_eq(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, cut, &len), 0);
    cr_assert_eq(len, 10);
    cr_assert_eq(memcmp(cut, &b.ti, 10), 0);
    cr_assert_eq(cut[10], 0xee);
    len = 0;
    cr_assert_eq(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, cut, &len), 0);
    cr_assert_eq(len, 0);

    /* read-only */
    expect_fail(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_INFO, &b.ti, sizeof(b.ti)), ENOPROTOOPT,
                "set TCP_INFO");
    lyra_stack_destroy(s);
}

Test(sockopt, tcp_info_is_a_struct_lyra_tcp_info_cut_to_len)
{
    info_snapshot(0);
}

Test(sockopt, tcp_info_through_an_accounted_binding)
{
    info_snapshot(1);
}

/* A transport without TCP options (fake_l4, datagrams: no buffer ops at
 * all, int options it does not know): ENOPROTOOPT, as Linux's UDP; a
 * descriptor that is not open: EBADF. */
static void datagram_has_no_tcp_options(const char *stream, int accounted)
{
    struct lyra_stack *s = stack_with(stream, accounted);
    int fd = lyra_socket(s, AF_INET, SOCK_DGRAM, 0);
    cr_assert_geq(fd, 0);
    int v = 1;
    char name[16];
    struct lyra_tcp_info ti;
    socklen_t len = sizeof(ti);
    expect_fail(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v)), ENOPROTOOPT,
                "udp TCP_MAXSEG");
    expect_fail(lyra_setsockopt(s, fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)), ENOPROTOOPT,
                "udp SO_KEEPALIVE");
    expect_fail(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, &ti, &len), ENOPROTOOPT,
                "udp TCP_INFO");
    cr_assert_eq(len, sizeof(ti), "*len untouched on failure");
    expect_fail(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, "newreno", 7), ENOPROTOOPT,
                "udp set TCP_CONGESTION");
    len = sizeof(name);
    expect_fail(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), ENOPROTOOPT,
                "udp get TCP_CONGESTION");
    expect_fail(lyra_getsockopt(s, 7, IPPROTO_TCP, TCP_INFO, &ti, &len), EBADF, "closed fd");
    expect_fail(lyra_setsockopt(s, 7, IPPROTO_TCP, TCP_CONGESTION, "newreno", 7), EBADF,
                "closed fd");
    lyra_stack_destroy(s);
}

Test(sockopt, a_datagram_transport_has_no_tcp_options)
{
    datagram_has_no_tcp_options("fake_opts", 0);
}

Test(sockopt, a_datagram_transport_has_no_tcp_options_through_a_proxy)
{
    datagram_has_no_tcp_options("fake_opts", 1);
}

/* fake_opts_old says l4 1.1 but has the buffer ops set: they belong to
 * 1.2, so the socket layer must not call them, proxied or not. */
static void older_transport_is_not_asked(int accounted)
{
    struct lyra_stack *s = stack_with("fake_opts_old", accounted);
    int fd = stream_fd(s), v = 60;
    struct lyra_tcp_info ti;
    socklen_t len = sizeof(ti);
    expect_fail(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, &ti, &len), ENOPROTOOPT,
                "1.1 TCP_INFO");
    expect_fail(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, "newreno", 7), ENOPROTOOPT,
                "1.1 TCP_CONGESTION");
    cr_assert_eq(st_counter(s, "buf_calls"), 0);
    /* its int options still work */
    cr_assert_eq(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)), 0);
    lyra_stack_destroy(s);
}

Test(sockopt, a_transport_older_than_l4_1_2_is_not_asked)
{
    older_transport_is_not_asked(0);
}

Test(sockopt, a_transport_older_than_l4_1_2_is_not_asked_through_a_proxy)
{
    older_transport_is_not_asked(1);
}

struct buf_seen {
    uint64_t set_calls, set_bytes, get_calls, get_bytes;
};

static void on_binding(void *ctx, const char *user, const char *slot, const char *prov,
                       const char *iface, const char *op, int is_event, uint64_t calls,
                       uint64_t bytes, uint64_t ns)
{
    struct buf_seen *b = ctx;
    if (strcmp(user, "sock") || strcmp(prov, "st"))
        return;
    if (!strcmp(op, "setopt_buf")) {
        b->set_calls = calls;
        b->set_bytes = bytes;
    } else if (!strcmp(op, "getopt_buf")) {
        b->get_calls = calls;
        b->get_bytes = bytes;
    }
}

static void on_counter(void *ctx, const char *inst, const char *name, uint64_t v)
{
}

/* The proxy counts the new ops under their names: bytes set, bytes got. */
Test(sockopt, an_accounted_binding_counts_the_buffer_ops)
{
    struct lyra_stack *s = stack_with("fake_opts", 1);
    int fd = stream_fd(s);
    cr_assert_eq(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, "toyreno", 8), 0);
    struct lyra_tcp_info ti;
    socklen_t len = sizeof(ti);
    cr_assert_eq(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    struct buf_seen seen = {0};
    struct lyra_stats_visitor v = {.counter = on_counter, .binding = on_binding, .ctx = &seen};
    lyra_stack_stats(s, &v);
    cr_assert_eq(seen.set_calls, 1);
    cr_assert_eq(seen.set_bytes, 7);
    cr_assert_eq(seen.get_calls, 1);
    cr_assert_eq(seen.get_bytes, sizeof(struct lyra_tcp_info));
    lyra_stack_destroy(s);
}

/* A socket provider that says 1.2 (fake_socket_old, its buffer ops set
 * all the same): the API does not call them. */
Test(sockopt, a_socket_provider_older_than_1_3_is_not_asked)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/lyra-sockopt-old-%d.lyra", (int)getpid());
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs("[os]\ncomponent = os_posix\n[sock]\ncomponent = fake_socket_old\n", f);
    fclose(f);
    struct lyra_stack *s = NULL;
    int r = lyra_stack_load(path, NULL, &s);
    unlink(path);
    cr_assert_eq(r, 0, "load: %d", r);
    cr_assert_eq(lyra_stack_start(s), 0);
    int fd = lyra_socket(s, AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(fd, 0);
    struct lyra_tcp_info ti;
    socklen_t len = sizeof(ti);
    expect_fail(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, &ti, &len), ENOPROTOOPT,
                "get from 1.2");
    expect_fail(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, "newreno", 7), ENOPROTOOPT,
                "set on 1.2");
    expect_fail(lyra_getsockopt(s, 3, IPPROTO_TCP, TCP_INFO, &ti, &len), EBADF, "not open");
    cr_assert_eq(lyra_stack_counter(s, "sock", "buf_calls"), 0);
    lyra_stack_destroy(s);
}
