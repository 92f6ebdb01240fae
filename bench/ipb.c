/* ttcp between two stacks in one process, for callgrind (bench/ipb.sh,
 * issue 11.4: instructions per payload byte) and for the accounted time
 * per component (bench/zc.sh, issue 12.6: zero copy against copy).
 *
 *   ipb [--rotate SIZE] [--pkt] [--rlen N] [--json FILE]
 *       SENDER RECEIVER WRITES LEN [a:INST.PARAM=V ...] [b:INST.PARAM=V ...]
 *   SENDER, RECEIVER: pio (copy-pio), dma (copy-dma), zc-pio, zc-dma
 *   (static assemblies, the zc ones when built), or a manifest file
 *   (*.lyra, loaded with its components: how bench/zc.sh switches the
 *   binding accounting on)
 *   --rotate, --pkt, --rlen: lyra-ttcp's (tools/ttcp/ttcp_buf.h): source
 *   and sink rotating through SIZE bytes (cache-cold), buffers from
 *   lyra_pkt_alloc, reads of N bytes (default LEN) into page-stride slots
 *   --json FILE: both stacks' counters and accounted bindings, and the
 *   harness's own times, as {"harness": {...}, "a": {...}, "b": {...}}
 *   --zerocopy: the sender sets SO_ZEROCOPY and sends with MSG_ZEROCOPY
 *   (the buffer referenced as it is, no page protection) and reads the
 *   completions with recvmsg(MSG_ERRQUEUE) every ZC_READ_EVERY sends and
 *   after a send refused with ENOBUFS (in batches, as Linux's
 *   msg_zerocopy.rst suggests: one read returns a range of calls), timed
 *   as its socket calls; the source is never written, so it is sent again
 *   while earlier sends of it are in flight, as the application may
 *   --loan: the receiver reads with lyra_recv_loan and lyra_loan_return
 *   (both timed; the pattern check between them is not), no sink
 *   --loan-next: the receiver reads with lyra_loan_next (timed), which
 *   returns the loan it holds and lends the next in one call
 *
 * What lyra-ttcp -t / -r do over one wire (WRITES sends of LEN bytes of a
 * pattern, reads of LEN bytes checked in order), but on one thread that
 * polls both stacks in turn with non-blocking sockets: no loop threads, so
 * the interleaving of the two stacks, and with it the count, does not
 * depend on how valgrind schedules threads. Connection set-up and teardown
 * lie outside transfer_phase, the part to count
 * (--toggle-collect=transfer_phase); the script takes the slope between
 * two WRITES, so what is left of them cancels too. When neither stack has
 * work it sleeps until the earlier deadline (delayed ACK, RTO) instead of
 * spinning through idle poll steps.
 *
 * Prints one line of KEY=VALUE: bytes, the sender's segments and
 * retransmissions, the receiver's segments and ACKs, the process's CPU
 * (user + sys) over the transfer, and per stack the ns spent in the
 * application's socket calls (a_app_ns, b_app_ns: everything a send or
 * recv does inside the stack) and in its poll steps (a_poll_ns,
 * b_poll_ns: driver, device model, link, and what the received frames
 * and the timers cause); exit 3 on wrong data. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lyra/os.h"
#include "lyra/socket.h"
#include "lyra/stack.h"
#include "ttcp_buf.h"
#include "ttcp_zc.h"

typedef int (*asm_create)(const char *const *overrides, struct lyra_stack **out);
int lyra_assembly_copy_pio_create(const char *const *overrides, struct lyra_stack **out);
int lyra_assembly_copy_dma_create(const char *const *overrides, struct lyra_stack **out);
#ifdef IPB_ZC
int lyra_assembly_zc_pio_create(const char *const *overrides, struct lyra_stack **out);
int lyra_assembly_zc_dma_create(const char *const *overrides, struct lyra_stack **out);
#endif

static const struct {
    const char *kind;
    asm_create create;
} kinds[] = {
    {"pio", lyra_assembly_copy_pio_create},
    {"dma", lyra_assembly_copy_dma_create},
#ifdef IPB_ZC
    {"zc-pio", lyra_assembly_zc_pio_create},
    {"zc-dma", lyra_assembly_zc_dma_create},
#endif
};

#define MAX_OVR 32

struct end {
    struct lyra_stack *s;
    int fd;
    const char *ovr[MAX_OVR + 1];
    int n;
    uint64_t app_ns, poll_ns; /* in its socket calls, in its poll steps */
    uint64_t app_calls, poll_calls;
    struct ttcp_alloc mem;    /* heap, or its packet memory (--pkt) */
};

struct xfer {
    struct end *a, *b;
    long writes, len, rlen;
    size_t rotate;
    int pkt, zerocopy, loan; /* loan: 1 recv_loan + loan_return, 2 loan_next */
    struct lyra_loan held;   /* --loan-next: the loan lyra_loan_next returns next */
    long long zc_sends, zc_compl, zc_copied; /* MSG_ZEROCOPY calls, ids completed, of them copied */
    struct ttcp_src src, pat; /* the sender's source; the pattern checked against */
    struct ttcp_sink sink;    /* the receiver's reads */
    long long sent, rcvd, wrong, reads;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU (user + sys) of this process so far, ns. */
static uint64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

static int make(const char *kind, struct end *e)
{
    size_t n = strlen(kind);
    if (n > 5 && !strcmp(kind + n - 5, ".lyra"))
        return lyra_stack_load(kind, e->ovr, &e->s);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (!strcmp(kind, kinds[i].kind))
            return kinds[i].create(e->ovr, &e->s);
    fprintf(stderr, "ipb: '%s': pio, dma%s or a manifest (*.lyra)\n", kind,
#ifdef IPB_ZC
            ", zc-pio, zc-dma"
#else
            " (zc-pio, zc-dma: not built)"
#endif
    );
    return -1;
}

static uint64_t poll_timed(struct end *e)
{
    uint64_t t0 = mono_ns();
    uint64_t d = lyra_stack_poll(e->s);
    e->poll_ns += mono_ns() - t0;
    e->poll_calls++;
    return d;
}

/* One poll step of the sender, of the receiver: functions of their own,
 * so that callgrind can count one side (--toggle-collect=sender_poll
 * --toggle-collect=sender_send --toggle-collect=completions instead of
 * transfer_phase: the sender's poll steps and socket calls; the receiver's:
 * receiver_poll, receiver_recv and loan_read). */
__attribute__((noinline)) static uint64_t sender_poll(struct xfer *x)
{
    return poll_timed(x->a);
}

__attribute__((noinline)) static uint64_t receiver_poll(struct xfer *x)
{
    return poll_timed(x->b);
}

/* The sender's send call, timed. */
__attribute__((noinline)) static ssize_t sender_send(struct xfer *x, const uint8_t *p, size_t len)
{
    uint64_t t0 = mono_ns();
    ssize_t n = lyra_send(x->a->s, x->a->fd, p, len,
                          MSG_DONTWAIT | (x->zerocopy ? MSG_ZEROCOPY : 0));
    x->a->app_ns += mono_ns() - t0;
    x->a->app_calls++;
    return n;
}

/* The receiver's read, timed. */
__attribute__((noinline)) static ssize_t receiver_recv(struct xfer *x, uint8_t *buf)
{
    uint64_t t0 = mono_ns();
    ssize_t n = lyra_recv(x->b->s, x->b->fd, buf, (size_t)x->rlen, MSG_DONTWAIT);
    x->b->app_ns += mono_ns() - t0;
    x->b->app_calls++;
    return n;
}

/* Both stacks one step each; returns 1 when either has work now. */
static int step(struct xfer *x, uint64_t *next)
{
    uint64_t da = sender_poll(x);
    uint64_t db = receiver_poll(x);
    *next = da < db ? da : db;
    return da == 0 || db == 0;
}

/* The sleep of an idle loop: until the earlier deadline, at most 1 ms. */
static void idle(uint64_t next)
{
    uint64_t now = mono_ns();
    if (next <= now)
        return;
    uint64_t d = next - now > 1000000u ? 1000000u : next - now;
    struct timespec ts = {0, (long)d};
    nanosleep(&ts, NULL);
}

/* --zerocopy: completions are read after this many sends (and at ENOBUFS). */
#define ZC_READ_EVERY 16

/* Every MSG_ZEROCOPY completion waiting (recvmsg MSG_ERRQUEUE until
 * EAGAIN), timed as the sender's socket calls. */
__attribute__((noinline)) static void completions(struct xfer *x)
{
    for (;;) {
        long long n;
        int copied;
        uint64_t t0 = mono_ns();
        int got = ttcp_zc_take(x->a->s, x->a->fd, &n, &copied);
        x->a->app_ns += mono_ns() - t0;
        x->a->app_calls++;
        if (!got)
            return;
        x->zc_compl += n;
        if (copied)
            x->zc_copied += n;
    }
}

/* One loaned read: -1 at EAGAIN, 0 at the end, else bytes. */
__attribute__((noinline)) static ssize_t loan_read(struct xfer *x)
{
    struct lyra_loan ln;
    if (x->loan == 2) {
        uint64_t t0 = mono_ns();
        ssize_t n = lyra_loan_next(x->b->s, x->b->fd, &x->held, MSG_DONTWAIT);
        x->b->app_ns += mono_ns() - t0;
        x->b->app_calls++;
        if (n <= 0)
            return n < 0 && errno == EAGAIN ? -1 : n == 0 ? 0 : -2;
        x->wrong += ttcp_check(&x->pat, x->held.data, (size_t)n, (unsigned long long)x->rcvd);
        return n;
    }
    uint64_t t0 = mono_ns();
    ssize_t n = lyra_recv_loan(x->b->s, x->b->fd, &ln, MSG_DONTWAIT);
    x->b->app_ns += mono_ns() - t0;
    x->b->app_calls++;
    if (n <= 0)
        return n < 0 && errno == EAGAIN ? -1 : n == 0 ? 0 : -2;
    x->wrong += ttcp_check(&x->pat, ln.data, (size_t)n, (unsigned long long)x->rcvd);
    t0 = mono_ns();
    int r = lyra_loan_return(x->b->s, &ln);
    x->b->app_ns += mono_ns() - t0;
    x->b->app_calls++;
    return r ? -2 : n;
}

/* The counted part: every byte sent (ttcp's writes of len, each retried
 * from where a short send stopped) and read (reads of len). */
__attribute__((noinline)) static int transfer_phase(struct xfer *x)
{
    long long total = (long long)x->writes * x->len;
    long off = 0; /* into the current write */
    int quiet = 0;
    int zc_unread = 0; /* MSG_ZEROCOPY sends since the completions were read */
    while (x->rcvd < total) {
        int moved = 0;
        if (x->sent < total) {
            const uint8_t *p = ttcp_src_at(&x->src, (unsigned long long)x->sent);
            ssize_t n = sender_send(x, p, (size_t)(x->len - off));
            if (n > 0) {
                x->sent += n;
                off = (off + n) % x->len;
                moved = 1;
                x->zc_sends += x->zerocopy;
                zc_unread += x->zerocopy;
            } else if (n < 0 && x->zerocopy && errno == ENOBUFS) {
                zc_unread = ZC_READ_EVERY; /* no record free: read them now */
            } else if (n < 0 && errno != EAGAIN) {
                perror("ipb: send");
                return -1;
            }
        }
        if (zc_unread >= ZC_READ_EVERY) {
            completions(x);
            zc_unread = 0;
        }
        uint64_t next;
        moved |= step(x, &next);
        while (x->loan) {
            ssize_t n = loan_read(x);
            if (n > 0) {
                x->rcvd += n;
                x->reads++;
                moved = 1;
                continue;
            }
            if (n < -1 || n == 0) {
                fprintf(stderr, "ipb: loan ended at %lld of %lld bytes\n", x->rcvd, total);
                return -1;
            }
            break;
        }
        for (; !x->loan;) {
            uint8_t *buf = ttcp_sink_at(&x->sink, (unsigned long long)x->reads);
            ssize_t n = receiver_recv(x, buf);
            if (n > 0) {
                x->wrong += ttcp_check(&x->pat, buf, (size_t)n, (unsigned long long)x->rcvd);
                x->rcvd += n;
                x->reads++;
                moved = 1;
                continue;
            }
            if (n == 0 || errno != EAGAIN) {
                fprintf(stderr, "ipb: recv ended at %lld of %lld bytes\n", x->rcvd, total);
                return -1;
            }
            break;
        }
        /* idle twice in a row (a frame one stack sent the other has
         * polled since): wait for a timer */
        quiet = moved ? 0 : quiet + 1;
        if (quiet >= 2)
            idle(next);
    }
    if (x->loan == 2 && x->held.handle.skb) { /* the last loan lyra_loan_next made */
        uint64_t t0 = mono_ns();
        int r = lyra_loan_return(x->b->s, &x->held);
        x->b->app_ns += mono_ns() - t0;
        x->b->app_calls++;
        if (r)
            return -1;
    }
    return 0;
}

static int run_until(struct end *a, struct end *b, int (*done)(void *), void *ctx)
{
    for (long i = 0; i < 200000; i++) {
        if (done(ctx))
            return 0;
        uint64_t da = lyra_stack_poll(a->s), db = lyra_stack_poll(b->s);
        if (da && db)
            idle(da < db ? da : db);
    }
    return -1;
}

struct acc {
    struct end *b;
    int lfd;
};

static int accepted(void *ctx)
{
    struct acc *c = ctx;
    c->b->fd = lyra_accept(c->b->s, c->lfd, NULL, NULL);
    return c->b->fd >= 0;
}

static int closed(void *ctx)
{
    struct end *b = ctx;
    uint8_t buf[256];
    return lyra_recv(b->s, b->fd, buf, sizeof(buf), MSG_DONTWAIT) == 0;
}

static void *heap_alloc(void *ctx, size_t size)
{
    (void)ctx;
    void *p = NULL;
    return posix_memalign(&p, TTCP_PAGE, size) ? NULL : p;
}

static void heap_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static void *pkt_alloc(void *ctx, size_t size)
{
    return lyra_pkt_alloc(ctx, size);
}

static void pkt_free(void *ctx, void *p)
{
    lyra_pkt_free(ctx, p);
}

static const struct ttcp_alloc heap = {heap_alloc, heap_free, NULL};

/* The options before SENDER; the index of SENDER, or -1. */
static int options(int argc, char **argv, struct xfer *x, const char **json)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--pkt")) {
            x->pkt = 1;
            continue;
        }
        if (!strcmp(argv[i], "--zerocopy")) {
            x->zerocopy = 1;
            continue;
        }
        if (!strcmp(argv[i], "--loan")) {
            x->loan = 1;
            continue;
        }
        if (!strcmp(argv[i], "--loan-next")) {
            x->loan = 2;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (!strcmp(argv[i - 1], "--rotate")) {
            if (ttcp_parse_size(v, TTCP_PAGE, 1ull << 30, &x->rotate))
                return -1;
        } else if (!strcmp(argv[i - 1], "--rlen")) {
            x->rlen = atol(v);
            if (x->rlen <= 0 || x->rlen > (1 << 20))
                return -1;
        } else if (!strcmp(argv[i - 1], "--json")) {
            *json = v;
        } else {
            return -1;
        }
    }
    return argc - i >= 4 ? i : -1;
}

/* ns of one clock read: what each timed interval (here and in the
 * accounting proxies) adds to what it times, for bench/zc_acct.py. */
static double clock_ns(void)
{
    uint64_t sum = 0, t0 = mono_ns();
    for (int i = 0; i < 200000; i++)
        sum += mono_ns();
    return sum ? (double)(mono_ns() - t0) / 200000 : 0;
}

static int write_json(const char *path, const struct xfer *x, uint64_t wall)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f,
            "{\"harness\": {\"bytes\": %lld, \"writes\": %ld, \"len\": %ld, \"rlen\": %ld, "
            "\"reads\": %lld, \"rotate\": %zu, \"pkt\": %d, \"wall_ns\": %llu, "
            "\"a_app_ns\": %llu, \"a_poll_ns\": %llu, \"b_app_ns\": %llu, \"b_poll_ns\": %llu, "
            "\"a_app_calls\": %llu, \"a_poll_calls\": %llu, \"b_app_calls\": %llu, "
            "\"b_poll_calls\": %llu, \"clock_ns\": %.2f, \"zerocopy\": %d, \"loan\": %d, "
            "\"zc_sends\": %lld, \"zc_completed\": %lld, \"zc_copied\": %lld},\n"
            "\"a\": ",
            x->rcvd, x->writes, x->len, x->rlen, x->reads, x->rotate, x->pkt,
            (unsigned long long)wall, (unsigned long long)x->a->app_ns,
            (unsigned long long)x->a->poll_ns, (unsigned long long)x->b->app_ns,
            (unsigned long long)x->b->poll_ns, (unsigned long long)x->a->app_calls,
            (unsigned long long)x->a->poll_calls, (unsigned long long)x->b->app_calls,
            (unsigned long long)x->b->poll_calls, clock_ns(), x->zerocopy, x->loan, x->zc_sends,
            x->zc_compl, x->zc_copied);
    lyra_stack_stats_json(x->a->s, f);
    fputs(",\n\"b\": ", f);
    lyra_stack_stats_json(x->b->s, f);
    fputs("}\n", f);
    return fclose(f);
}

int main(int argc, char **argv)
{
    struct xfer x = {.rlen = 0};
    const char *json = NULL;
    int k = options(argc, argv, &x, &json);
    if (k < 0) {
        fprintf(stderr,
                "usage: %s [--rotate SIZE] [--pkt] [--rlen N] [--zerocopy] [--loan | --loan-next] [--json FILE] "
                "SENDER RECEIVER "
                "WRITES LEN [a:INST.PARAM=V ...] [b:...]\n"
                "  SENDER, RECEIVER: pio, dma, zc-pio, zc-dma or a manifest (*.lyra)\n",
                argv[0]);
        return 1;
    }
    static char link[64];
    snprintf(link, sizeof(link), "dev.link=wire:ipb%ld", (long)getpid());
    struct end a = {.ovr = {link, "os.seed=1", "ip.addr=192.0.2.2/24", "dev.mac=02:00:00:00:00:02"},
                    .n = 4};
    struct end b = {.ovr = {link, "os.seed=2", "ip.addr=192.0.2.3/24", "dev.mac=02:00:00:00:00:03"},
                    .n = 4};
    for (int i = k + 4; i < argc; i++) {
        struct end *e = !strncmp(argv[i], "a:", 2) ? &a : !strncmp(argv[i], "b:", 2) ? &b : NULL;
        if (!e || e->n >= MAX_OVR) {
            fprintf(stderr, "ipb: '%s': a:INST.PARAM=V or b:INST.PARAM=V\n", argv[i]);
            return 1;
        }
        e->ovr[e->n++] = argv[i] + 2;
    }
    x.a = &a;
    x.b = &b;
    x.writes = atol(argv[k + 2]);
    x.len = atol(argv[k + 3]);
    if (x.writes <= 0 || x.len <= 0 || x.len > (1 << 20)) {
        fprintf(stderr, "ipb: WRITES > 0, 0 < LEN <= 1 MiB\n");
        return 1;
    }
    if (!x.rlen)
        x.rlen = x.len;
    if (make(argv[k + 1], &b) || make(argv[k], &a) || lyra_stack_start(b.s) ||
        lyra_stack_start(a.s))
        return 2;
    a.mem = b.mem = heap;
    if (x.pkt) {
        a.mem = (struct ttcp_alloc){pkt_alloc, pkt_free, a.s};
        b.mem = (struct ttcp_alloc){pkt_alloc, pkt_free, b.s};
    }
    long most = x.len > x.rlen ? x.len : x.rlen;
    if (ttcp_src_init(&x.src, x.rotate, (size_t)x.len, &a.mem) ||
        ttcp_src_init(&x.pat, 0, (size_t)most, &heap) ||
        ttcp_sink_init(&x.sink, x.rotate, (size_t)x.rlen, x.pkt, &b.mem)) {
        fprintf(stderr, "ipb: no memory for the buffers (%s)\n", x.pkt ? "lyra_pkt_alloc" : "heap");
        return 2;
    }

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(5001)};
    struct acc ac = {.b = &b, .lfd = lyra_socket(b.s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)};
    if (ac.lfd < 0 || lyra_bind(b.s, ac.lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
        lyra_listen(b.s, ac.lfd, 1)) {
        perror("ipb: listen");
        return 2;
    }
    inet_pton(AF_INET, "192.0.2.3", &sa.sin_addr);
    a.fd = lyra_socket(a.s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (a.fd < 0 || (lyra_connect(a.s, a.fd, (struct sockaddr *)&sa, sizeof(sa)) &&
                     errno != EINPROGRESS)) {
        perror("ipb: connect");
        return 2;
    }
    if (run_until(&a, &b, accepted, &ac)) {
        fprintf(stderr, "ipb: no connection\n");
        return 2;
    }
    lyra_fcntl(b.s, b.fd, F_SETFL, O_NONBLOCK);
    int one = 1;
    if (x.zerocopy && lyra_setsockopt(a.s, a.fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one))) {
        perror("ipb: SO_ZEROCOPY");
        return 2;
    }
    uint64_t c0 = cpu_ns(), w0 = mono_ns();
    int r = transfer_phase(&x);
    uint64_t cpu = cpu_ns() - c0, wall = mono_ns() - w0;
    lyra_shutdown(a.s, a.fd, SHUT_WR);
    if (!r && run_until(&a, &b, closed, &b))
        fprintf(stderr, "ipb: no FIN\n");
    if (x.zerocopy) { /* every id completed before the source goes */
        for (int i = 0; i < 100000 && x.zc_compl < x.zc_sends; i++) {
            completions(&x);
            uint64_t da = lyra_stack_poll(a.s), db = lyra_stack_poll(b.s);
            if (da && db && x.zc_compl < x.zc_sends)
                idle(da < db ? da : db);
        }
        if (x.zc_compl != x.zc_sends) {
            fprintf(stderr, "ipb: %lld MSG_ZEROCOPY sends, %lld completed\n", x.zc_sends,
                    x.zc_compl);
            r = -1;
        }
    }
    printf("bytes=%lld wrong=%lld a_tx_segments=%llu a_tx_bytes=%llu a_tx_retrans_segs=%llu "
           "b_rx_segments=%llu b_acks_sent=%llu cpu_ns=%llu wall_ns=%llu reads=%lld "
           "a_app_ns=%llu a_poll_ns=%llu b_app_ns=%llu b_poll_ns=%llu zc_sends=%lld "
           "zc_completed=%lld zc_copied=%lld\n",
           x.rcvd, x.wrong, (unsigned long long)lyra_stack_counter(a.s, "tcp", "tx_segments"),
           (unsigned long long)lyra_stack_counter(a.s, "tcp", "tx_bytes"),
           (unsigned long long)lyra_stack_counter(a.s, "tcp", "tx_retrans_segs"),
           (unsigned long long)lyra_stack_counter(b.s, "tcp", "rx_segments"),
           (unsigned long long)lyra_stack_counter(b.s, "tcp", "acks_sent"), (unsigned long long)cpu,
           (unsigned long long)wall, x.reads, (unsigned long long)a.app_ns,
           (unsigned long long)a.poll_ns, (unsigned long long)b.app_ns,
           (unsigned long long)b.poll_ns, x.zc_sends, x.zc_compl, x.zc_copied);
    if (json && write_json(json, &x, wall))
        perror("ipb: --json");
    lyra_close(a.s, a.fd);
    lyra_close(b.s, b.fd);
    lyra_close(b.s, ac.lfd);
    ttcp_src_fini(&x.src, &a.mem);
    ttcp_sink_fini(&x.sink, &b.mem);
    ttcp_src_fini(&x.pat, &heap);
    lyra_stack_destroy(a.s);
    lyra_stack_destroy(b.s);
    if (r)
        return 2;
    return x.wrong ? 3 : 0;
}
