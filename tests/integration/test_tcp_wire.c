/* TCP between two stacks over the in-process wire (issue 10.7), no root
 * needed, through the public socket API from application threads while
 * each stack runs its loop on a thread of its own (lyra_stack_run):
 *
 *   bulk: one connection carrying 24 MB in each direction at once, each
 *   side sending and receiving on threads of its own, byte-exact (SHA-256
 *   of what was sent against what arrived, and the first wrong offset when
 *   not), under (a) no impairment, (b) 5% loss, (c) 2% reordering and 1%
 *   duplication, (d) 0.5% corruption, (e) all of them with 5 ms delay, on
 *   copy-pio and on copy-dma (two stacks of the same assembly, the second
 *   one readdressed); one function, bulk_case(), takes the assembly pair
 *   and the impairment set; on zc-pio and zc-dma clean and with 5% loss,
 *   and each of them against a copy stack clean (ctest's
 *   entry test_integ_tcp_wire_zc, skipped while their manifests are missing);
 *
 *   sack: 1 MB one way under 5% loss both ways, six times with SACK and
 *   six times without (NewReno), the same seeds: SACK must take clearly less
 *   time and resend fewer bytes (figures printed);
 *
 *   many: 1,000 connections established at once, each then moving 64 KB
 *   (client copy-pio, server copy-dma; tcp.max_conns, sock.max_fds and the
 *   skb pool raised by overrides), each connection's bytes checked.
 *
 * Impairment is what each device does to the frames it sends, on both
 * stacks, seeded by os.seed. Every case ends with both loops stopped and a
 * leak check (every descriptor closed, every skb back in its pool but for
 * those posted on nic_dma's receive ring), and prints one line: bytes,
 * seconds, retransmissions (tcp's counters). Under AddressSanitizer the
 * transfers are shorter (BULK_BYTES, MANY_CONNS). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "lyra/socket.h"
#include "lyra/stack.h"
#include "lt_asm.h"
#include "sha256.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifdef UNDER_ASAN
#define BULK_BYTES (2ull << 20) /* each way */
#define MANY_CONNS 100
#define STALL_S 60
#define CASE_LIMIT_S 280
#else
#define BULK_BYTES (24ull << 20)
#define MANY_CONNS 1000
#define STALL_S 30
#define CASE_LIMIT_S 240
#endif
#define MANY_BYTES 65536 /* per connection */

/* tcp's counter of segments sent again (timeouts and fast retransmits) */
#define TCP_RETRANS "tx_retrans_segs"

#define ADDR_A "192.0.2.2"
#define ADDR_B "192.0.2.3"
#define PORT 5001

static const char *env(const char *n)
{
    const char *s = getenv(n);
    cr_assert(s, "%s is not set (run through ctest)", n);
    return s;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&d, &d) && errno == EINTR)
        ;
}

/* ----- stacks -------------------------------------------------------------- */

struct node {
    struct lyra_stack *s;
    pthread_t t;
    int running;
    char link[64], seed[32]; /* overrides, alive as long as the stack */
};

static void *loop_thread(void *arg)
{
    lyra_stack_run(arg);
    return NULL;
}

#define MAX_OV 40

/* Loads assemblies/MANIFEST.lyra on wire tcpw<PID>-<wire> with os.seed=seed and
 * the overrides of each NULL-terminated list in `lists` (NULL-terminated
 * too), names it, starts it and its loop thread. */
static void node_up(struct node *nd, const char *manifest, const char *name, int wire, int seed,
                    const char *const *const *lists)
{
    memset(nd, 0, sizeof(*nd));
    snprintf(nd->link, sizeof(nd->link), "dev.link=wire:tcpw%d-%d", (int)getpid(), wire);
    snprintf(nd->seed, sizeof(nd->seed), "os.seed=%d", seed);
    const char *ov[MAX_OV + 1] = {nd->link, nd->seed};
    unsigned n = 2;
    for (; lists && *lists; lists++)
        for (const char *const *o = *lists; *o; o++) {
            cr_assert_lt(n, MAX_OV, "too many overrides");
            ov[n++] = *o;
        }
    ov[n] = NULL;
    char path[1024];
    snprintf(path, sizeof(path), "%s/assemblies/%s.lyra", env("LYRA_SOURCE_DIR"), manifest);
    cr_assert_eq(lyra_stack_load(path, ov, &nd->s), 0, "cannot load %s", manifest);
    lyra_stack_set_name(nd->s, name);
    cr_assert_eq(lyra_stack_start(nd->s), 0, "cannot start %s", name);
    cr_assert_eq(pthread_create(&nd->t, NULL, loop_thread, nd->s), 0);
    nd->running = 1;
}

/* Stops the loop and joins its thread; counters may be read after this. */
static void node_halt(struct node *nd)
{
    if (!nd->running)
        return;
    lyra_stack_stop(nd->s);
    pthread_join(nd->t, NULL);
    nd->running = 0;
}

static uint64_t ctr(struct node *nd, const char *inst, const char *name)
{
    cr_assert(!nd->running, "counters are read after the loop stopped");
    uint64_t v = lyra_stack_counter(nd->s, inst, name);
    cr_assert_neq(v, UINT64_MAX, "%s has no counter %s.%s", lyra_stack_name(nd->s), inst, name);
    return v;
}

static void dump(struct node *nd)
{
    fprintf(stderr, "== %s ==\n", lyra_stack_name(nd->s));
    lyra_stack_stats_print(nd->s, stderr);
}

/* After the loop stopped: no skb left behind (every descriptor closed, no
 * connection holding data), then the stack is destroyed (its components
 * stopped). Buffers posted on a receive ring (nic_dma) are the driver's
 * until it stops: not a leak. */
static void node_down_checked(struct node *nd)
{
    node_halt(nd);
    const char *nm = lyra_stack_name(nd->s);
    uint64_t in_use = lt_skbs_left(nd->s, ctr(nd, "skb", "in_use"));
    if (in_use)
        dump(nd);
    cr_expect_eq(in_use, 0, "%s: skb leak: %llu buffers in use after stop (counters on stderr)",
                 nm, (unsigned long long)in_use);
    cr_expect_eq(ctr(nd, "skb", "bad_free"), 0, "%s: skb bad_free", nm);
    cr_expect_eq(ctr(nd, "sock", "open"), 0, "%s: every descriptor was closed", nm);
    lyra_stack_destroy(nd->s);
    nd->s = NULL;
}

static struct sockaddr_in sin4(const char *ip, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    cr_assert_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

#define SA(a) ((const struct sockaddr *)&(a))

static void set_timeo(struct lyra_stack *s, int fd, int name, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    cr_assert_eq(lyra_setsockopt(s, fd, SOL_SOCKET, name, &tv, sizeof(tv)), 0, "SO_%sTIMEO: %s",
                 name == SO_RCVTIMEO ? "RCV" : "SND", strerror(errno));
}

/* ----- the data: a seeded random pattern with a prime period ---------------- */

/* Byte i of a stream is pat[i % PAT_PERIOD]: a segment delivered at another
 * offset than its own shows (the period is prime, no window or segment
 * size divides it). pat holds PAT_PERIOD + PAT_SPAN bytes, so any piece up
 * to PAT_SPAN long starting anywhere in a period is contiguous. */
#define PAT_PERIOD 1000003u
#define PAT_SPAN 65536u

struct pattern {
    uint8_t *b;
};

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void pattern_make(struct pattern *p, uint64_t seed)
{
    p->b = malloc(PAT_PERIOD + PAT_SPAN);
    cr_assert(p->b);
    for (size_t i = 0; i < PAT_PERIOD; i += 8) {
        uint64_t v = splitmix(&seed);
        for (unsigned k = 0; k < 8 && i + k < PAT_PERIOD; k++)
            p->b[i + k] = (uint8_t)(v >> (8 * k));
    }
    memcpy(p->b + PAT_PERIOD, p->b, PAT_SPAN);
}

static const uint8_t *pattern_at(const struct pattern *p, uint64_t off)
{
    return p->b + off % PAT_PERIOD;
}

/* ----- impairments and assembly pairs -------------------------------------- */

/* What an impairment set does; each must show in the links' counters. */
#define I_LOSS 1u
#define I_REORDER 2u
#define I_DUP 4u
#define I_CORRUPT 8u
#define I_NO_TSO 16u /* not an impairment: the NICs' TSO off (nic.tso=off) */

struct impair {
    const char *name;
    const char *const *ov; /* on both stacks */
    unsigned what;         /* I_* */
};

/* Lossy cases: a shorter minimum RTO and delayed ACK, or a lost segment
 * costs 200 ms each time and the test its budget (the retransmission
 * logic is the same). And a shorter initial RTO: with 1 s a lost SYN or
 * SYN-ACK cost a second, and, when no timestamp then gave an RTT sample,
 * RFC 6298 5.7's three initial RTOs (3 s) for the first loss in the data.
 * That is how sack_beats_newreno_under_loss failed about one CI run in
 * thirty (a SACK run of 1 s against its usual 0.2). */
#define LOSSY "tcp.rto_min_ms=20", "tcp.delack_ms=10", "tcp.rto_init_ms=20"

static const char *const OV_NONE[] = {NULL};
static const char *const OV_LOSS[] = {"dev.loss=5%", LOSSY, NULL};
/* the same loss with CUBIC (RFC 9438) on both stacks */
static const char *const OV_LOSS_CUBIC[] = {"dev.loss=5%", "tcp.cc=cubic", LOSSY, NULL};
static const char *const OV_REORDER[] = {"dev.reorder=2%", "dev.dup=1%", LOSSY, NULL};
static const char *const OV_CORRUPT[] = {"dev.corrupt=0.5%", LOSSY, NULL};
/* loss on the e1000 stacks without TSO: one segment per frame, as before it */
static const char *const OV_LOSS_NO_TSO[] = {"dev.loss=5%", "nic.tso=off", LOSSY, NULL};
/* loss with the device models as the datasheets say (a DP8390's transmit
 * ends at the card's next step, so the NE2000's driver holds a TSO frame
 * across poll steps and writes its segments as buffers free; the ring's
 * count includes the CRC) */
static const char *const OV_LOSS_DATASHEET[] = {"dev.loss=5%", "dev.quirks=datasheet", LOSSY,
                                                NULL};
static const char *const OV_ALL[] = {"dev.loss=5%",     "dev.reorder=2%", "dev.dup=1%",
                                     "dev.corrupt=0.5%", "dev.delay=5",   LOSSY, NULL};

static const struct impair IMP_NONE = {"clean", OV_NONE, 0};
static const struct impair IMP_REORDER = {"reord2%+dup1%", OV_REORDER, I_REORDER | I_DUP};
static const struct impair IMP_LOSS = {"loss5%", OV_LOSS, I_LOSS};
static const struct impair IMP_LOSS_CUBIC = {"loss5%,cubic", OV_LOSS_CUBIC, I_LOSS};
static const struct impair IMP_CORRUPT = {"corrupt0.5%", OV_CORRUPT, I_CORRUPT};
static const struct impair IMP_LOSS_NO_TSO = {"loss5%,noTSO", OV_LOSS_NO_TSO, I_LOSS | I_NO_TSO};
static const struct impair IMP_LOSS_DATASHEET = {"loss5%,datasheet", OV_LOSS_DATASHEET, I_LOSS};
static const struct impair IMP_ALL = {"all+delay5ms", OV_ALL,
                                                   I_LOSS | I_REORDER | I_DUP | I_CORRUPT};

/* Two stacks: a (192.0.2.2) and b (192.0.2.3). Two stacks of one assembly
 * need their own addresses: the second gets them by overrides. */
struct pair {
    const char *name;
    const char *ma, *mb;     /* manifests */
    const char *const *ov_a; /* overrides making each side itself */
    const char *const *ov_b;
};

static const char *const AS_A[] = {"ip.addr=" ADDR_A "/24", "dev.mac=02:00:00:00:00:02", NULL};
static const char *const AS_B[] = {"ip.addr=" ADDR_B "/24", "dev.mac=02:00:00:00:00:03", NULL};

static const struct pair PAIR_PIO = {"copy-pio", "copy-pio", "copy-pio", AS_A, AS_B};
static const struct pair PAIR_DMA = {"copy-dma", "copy-dma", "copy-dma", AS_A, AS_B};
static const struct pair PAIR_MIXED = {"pio-dma", "copy-pio", "copy-dma", AS_A, AS_B};
/* the zero-copy stacks (issue 12.5, tests/support/lt_asm.h), alone and
 * each with a copy stack */
static const struct pair PAIR_ZC_PIO = {"zc-pio", "zc-pio", "zc-pio", AS_A, AS_B};
static const struct pair PAIR_ZC_DMA = {"zc-dma", "zc-dma", "zc-dma", AS_A, AS_B};
static const struct pair PAIR_ZC_COPY = {"zc-pio/copy-dma", "zc-pio", "copy-dma", AS_A, AS_B};
static const struct pair PAIR_COPY_ZC = {"copy-pio/zc-dma", "copy-pio", "zc-dma", AS_A, AS_B};

static void pair_up(struct node *a, struct node *b, const struct pair *p, int wire, int seed,
                    const char *const *extra)
{
    char na[64], nb[64];
    snprintf(na, sizeof(na), "%s-a", p->name);
    snprintf(nb, sizeof(nb), "%s-b", p->name);
    const char *const *la[] = {p->ov_a, extra, NULL};
    const char *const *lb[] = {p->ov_b, extra, NULL};
    lt_need_assembly(p->ma);
    lt_need_assembly(p->mb);
    node_up(a, p->ma, na, wire, seed, la);
    node_up(b, p->mb, nb, wire, seed + 1, lb);
}

/* A case that has not ended by its limit is cut short here, before
 * Criterion's timeout would kill it without a word: both loops are stopped,
 * so every blocking call returns (ECANCELED) and the case reports what it
 * saw, with both stacks' counters. */
struct watchdog {
    pthread_t t;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, fired, limit_s;
    struct node *n[2];
};

static void *watchdog_thread(void *arg)
{
    struct watchdog *w = arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += w->limit_s;
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT)
            break;
    if (!w->done) {
        w->fired = 1;
        for (int i = 0; i < 2; i++)
            lyra_stack_stop(w->n[i]->s);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void watchdog_start(struct watchdog *w, struct node *a, struct node *b, int limit_s)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->limit_s = limit_s;
    w->n[0] = a;
    w->n[1] = b;
    cr_assert_eq(pthread_create(&w->t, NULL, watchdog_thread, w), 0);
}

/* Ends the watch; 1 if it fired. */
static int watchdog_end(struct watchdog *w)
{
    pthread_mutex_lock(&w->mu);
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->t, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    return w->fired;
}

/* A step before the transfer failed: both stacks' counters, then the
 * failure. */
static void setup_failed(struct node *a, struct node *b, const char *what, int err)
{
    node_halt(a);
    node_halt(b);
    dump(a);
    dump(b);
    cr_assert_fail("%s: %s (counters of both stacks on stderr)", what, strerror(err));
}

/* One connection from a to b's PORT (b's listener, backlog `backlog`,
 * closed once it accepted), with the watchdog w started just before the
 * connect: *afd and *bfd are its ends; returns when the connect began. */
static double connect_pair(struct node *a, struct node *b, int backlog, struct watchdog *w,
                           int *afd, int *bfd)
{
    int lfd = lyra_socket(b->s, AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(lfd, 0, "socket(SOCK_STREAM): %s", strerror(errno));
    struct sockaddr_in sb = sin4(ADDR_B, PORT);
    cr_assert_eq(lyra_bind(b->s, lfd, SA(sb), sizeof(sb)), 0, "bind: %s", strerror(errno));
    cr_assert_eq(lyra_listen(b->s, lfd, backlog), 0, "listen: %s", strerror(errno));
    *afd = lyra_socket(a->s, AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(*afd, 0);
    watchdog_start(w, a, b, CASE_LIMIT_S);
    double t0 = now_s();
    if (lyra_connect(a->s, *afd, SA(sb), sizeof(sb)) < 0)
        setup_failed(a, b, "connect", errno);
    set_timeo(b->s, lfd, SO_RCVTIMEO, STALL_S * 1000);
    *bfd = lyra_accept(b->s, lfd, NULL, NULL);
    if (*bfd < 0)
        setup_failed(a, b, "accept", errno);
    lyra_close(b->s, lfd);
    return t0;
}

/* ----- bulk: 24 MB each way on one connection ------------------------------- */

/* One direction of the connection as one side sees it: the sender's
 * thread sends the pattern in pieces of varying size and then shuts its
 * side down; the receiver's reads in pieces of varying size until EOF,
 * checking each against the pattern. Both hash what they handled. */
struct flow {
    struct lyra_stack *s;
    int fd;
    const struct pattern *pat;
    uint64_t total;  /* bytes the sender sends */
    uint64_t bytes;  /* sent (taken by send) or received */
    uint64_t first_bad; /* receiver: offset of the first wrong byte, or UINT64_MAX */
    uint64_t rng;    /* piece sizes */
    uint8_t digest[SHA256_DIGEST_LEN];
    int eof;
    char why[256];
    atomic_int *failed; /* any flow failed: the others are cancelled */
    struct node *stop[2];
};

static void flow_fail(struct flow *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void flow_fail(struct flow *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->why, sizeof(f->why), fmt, ap);
    va_end(ap);
    /* the first failure ends the others' blocking calls (ECANCELED): the
     * counters are then read as the failure left them */
    if (!atomic_exchange(f->failed, 1))
        for (int i = 0; i < 2; i++)
            lyra_stack_stop(f->stop[i]->s);
}

static size_t piece(uint64_t *rng)
{
    /* mostly large, sometimes tiny: 1..64 KB, a fifth of them under 2 KB */
    uint64_t r = splitmix(rng);
    size_t n = (r >> 8) % 5 ? 1 + (r >> 16) % 65536 : 1 + (r >> 16) % 2048;
    return n;
}

static void *send_thread(void *arg)
{
    struct flow *f = arg;
    struct sha256 h;
    sha256_init(&h);
    while (f->bytes < f->total) {
        size_t n = piece(&f->rng);
        if (n > f->total - f->bytes)
            n = (size_t)(f->total - f->bytes);
        const uint8_t *p = pattern_at(f->pat, f->bytes);
        ssize_t r = lyra_send(f->s, f->fd, p, n, 0);
        if (r > 0) { /* a send cut short (SO_SNDTIMEO) gives the count so far */
            sha256_update(&h, p, (size_t)r);
            f->bytes += (uint64_t)r;
        }
        if (r == (ssize_t)n)
            continue;
        if (r < 0 && errno == EAGAIN)
            flow_fail(f, "%s: send stalled for %d s at byte %llu of %llu", lyra_stack_name(f->s),
                      STALL_S, (unsigned long long)f->bytes, (unsigned long long)f->total);
        else if (r < 0)
            flow_fail(f, "%s: send at byte %llu: %s", lyra_stack_name(f->s),
                      (unsigned long long)f->bytes, strerror(errno));
        else
            flow_fail(f, "%s: send took %zd of %zu bytes (stalled) at byte %llu",
                      lyra_stack_name(f->s), r, n, (unsigned long long)f->bytes);
        break;
    }
    sha256_final(&h, f->digest);
    if (f->bytes == f->total && lyra_shutdown(f->s, f->fd, SHUT_WR) < 0)
        flow_fail(f, "%s: shutdown(SHUT_WR): %s", lyra_stack_name(f->s), strerror(errno));
    return NULL;
}

static void *recv_thread(void *arg)
{
    struct flow *f = arg;
    static _Thread_local uint8_t buf[PAT_SPAN];
    struct sha256 h;
    sha256_init(&h);
    f->first_bad = UINT64_MAX;
    for (;;) {
        size_t want = piece(&f->rng);
        ssize_t n = lyra_recv(f->s, f->fd, buf, want, 0);
        if (n == 0) {
            f->eof = 1;
            break;
        }
        if (n < 0) {
            if (errno == EAGAIN)
                flow_fail(f, "%s: recv stalled for %d s at byte %llu of %llu",
                          lyra_stack_name(f->s), STALL_S, (unsigned long long)f->bytes,
                          (unsigned long long)f->total);
            else
                flow_fail(f, "%s: recv at byte %llu: %s", lyra_stack_name(f->s),
                          (unsigned long long)f->bytes, strerror(errno));
            break;
        }
        if (f->bytes + (uint64_t)n > f->total) {
            flow_fail(f, "%s: %llu bytes arrived, %llu were sent", lyra_stack_name(f->s),
                      (unsigned long long)(f->bytes + (uint64_t)n), (unsigned long long)f->total);
            break;
        }
        const uint8_t *p = pattern_at(f->pat, f->bytes);
        if (f->first_bad == UINT64_MAX && memcmp(buf, p, (size_t)n))
            for (ssize_t i = 0; i < n; i++)
                if (buf[i] != p[i]) {
                    f->first_bad = f->bytes + (uint64_t)i;
                    break;
                }
        sha256_update(&h, buf, (size_t)n);
        f->bytes += (uint64_t)n;
    }
    sha256_final(&h, f->digest);
    return NULL;
}

static uint64_t retrans(struct node *n)
{
    return ctr(n, "tcp", TCP_RETRANS);
}

/* The full-duplex transfer on the connection a_fd (on a) / b_fd (on b):
 * four threads, each side sending one stream and receiving the other. */
static void bulk_case(const struct pair *p, const struct impair *imp, int wire, int seed)
{
    struct node a, b;
    pair_up(&a, &b, p, wire, seed, imp->ov);
    static struct pattern pat_ab, pat_ba;
    pattern_make(&pat_ab, 0xab00u + (uint64_t)seed);
    pattern_make(&pat_ba, 0xba00u + (uint64_t)seed);

    struct watchdog wd;
    int afd, bfd;
    double t0 = connect_pair(&a, &b, 4, &wd, &afd, &bfd);
    int fds[2] = {afd, bfd};
    struct node *nodes[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        set_timeo(nodes[i]->s, fds[i], SO_RCVTIMEO, STALL_S * 1000);
        set_timeo(nodes[i]->s, fds[i], SO_SNDTIMEO, STALL_S * 1000);
    }

    atomic_int failed = 0;
    /* [0] a sends, [1] b receives it; [2] b sends, [3] a receives it */
    struct flow fl[4] = {
        {.s = a.s, .fd = afd, .pat = &pat_ab, .rng = 1},
        {.s = b.s, .fd = bfd, .pat = &pat_ab, .rng = 2},
        {.s = b.s, .fd = bfd, .pat = &pat_ba, .rng = 3},
        {.s = a.s, .fd = afd, .pat = &pat_ba, .rng = 4},
    };
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        fl[i].total = BULK_BYTES;
        fl[i].failed = &failed;
        fl[i].stop[0] = &a;
        fl[i].stop[1] = &b;
        cr_assert_eq(pthread_create(&th[i], NULL, i % 2 ? recv_thread : send_thread, &fl[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    double secs = now_s() - t0;
    if (watchdog_end(&wd)) {
        cr_log_error("%s %s: not over after %d s: both loops stopped", p->name, imp->name,
                     CASE_LIMIT_S);
        atomic_store(&failed, 1);
    }

    if (!atomic_load(&failed)) {
        /* both streams are over: close, lingering until what is left (the
         * FINs) is acknowledged, so nothing is in flight at the leak check */
        struct linger lg = {1, 10};
        for (int i = 0; i < 2; i++) {
            cr_expect_eq(lyra_setsockopt(nodes[i]->s, fds[i], SOL_SOCKET, SO_LINGER, &lg,
                                         sizeof(lg)),
                         0, "SO_LINGER: %s", strerror(errno));
            cr_expect_eq(lyra_close(nodes[i]->s, fds[i]), 0, "%s: close: %s",
                         lyra_stack_name(nodes[i]->s), strerror(errno));
        }
        sleep_ms(100);
    } else {
        lyra_close(a.s, afd);
        lyra_close(b.s, bfd);
    }
    node_halt(&a);
    node_halt(&b);

    char hs[SHA256_HEX_LEN], hr[SHA256_HEX_LEN];
    int bad = 0;
    for (int d = 0; d < 2; d++) {
        struct flow *tx = &fl[2 * d], *rx = &fl[2 * d + 1];
        const char *dir = d ? "b->a" : "a->b";
        if (tx->why[0] || rx->why[0]) {
            bad = 1;
            cr_log_error("%s %s %s: %s%s%s", p->name, imp->name, dir, tx->why,
                         tx->why[0] && rx->why[0] ? "; " : "", rx->why);
        }
        cr_expect_eq(tx->bytes, BULK_BYTES, "%s %s %s: sent %llu of %llu", p->name, imp->name, dir,
                     (unsigned long long)tx->bytes, (unsigned long long)BULK_BYTES);
        cr_expect_eq(rx->bytes, tx->bytes, "%s %s %s: %llu bytes sent, %llu arrived", p->name,
                     imp->name, dir, (unsigned long long)tx->bytes, (unsigned long long)rx->bytes);
        cr_expect(rx->eof, "%s %s %s: no EOF after the last byte", p->name, imp->name, dir);
        cr_expect_eq(rx->first_bad, UINT64_MAX, "%s %s %s: byte %llu arrived wrong", p->name,
                     imp->name, dir, (unsigned long long)rx->first_bad);
        cr_expect_str_eq(sha256_hex(rx->digest, hr), sha256_hex(tx->digest, hs),
                         "%s %s %s: SHA-256 of what arrived differs from what was sent", p->name,
                         imp->name, dir);
        bad |= rx->bytes != tx->bytes || rx->first_bad != UINT64_MAX ||
               memcmp(rx->digest, tx->digest, SHA256_DIGEST_LEN);
    }
    uint64_t ra = retrans(&a), rb = retrans(&b);
    static const char *const link_ctr[4] = {"link_loss", "link_reorder", "link_dup",
                                            "link_corrupt"};
    uint64_t lc[4];
    for (int i = 0; i < 4; i++)
        lc[i] = ctr(&a, "os", link_ctr[i]) + ctr(&b, "os", link_ctr[i]);
    printf("tcp_wire %-8s %-13s: %llu bytes each way, both at once, %6.2f s, "
           "retransmissions a %llu b %llu (link: lost %llu, reordered %llu, duplicated %llu, "
           "corrupted %llu)\n",
           p->name, imp->name, (unsigned long long)fl[0].bytes, secs, (unsigned long long)ra,
           (unsigned long long)rb, (unsigned long long)lc[0], (unsigned long long)lc[1],
           (unsigned long long)lc[2], (unsigned long long)lc[3]);
    fflush(stdout);
    if (bad) {
        dump(&a);
        dump(&b);
    }
    /* the impairment happened (and only it), and what was lost or
     * corrupted was sent again */
    for (int i = 0; i < 4; i++)
        if (imp->what & (1u << i))
            cr_expect_gt(lc[i], 0, "%s %s: %s is 0", p->name, imp->name, link_ctr[i]);
        else
            cr_expect_eq(lc[i], 0, "%s %s: %s is %llu", p->name, imp->name, link_ctr[i],
                         (unsigned long long)lc[i]);
    if (imp->what & (I_LOSS | I_CORRUPT))
        cr_expect_gt(ra + rb, 0, "%s %s: nothing was retransmitted", p->name, imp->name);
    if (imp->what & I_CORRUPT) /* most corrupted bytes fall in a segment, not a header */
        cr_expect_gt(ctr(&a, "tcp", "rx_bad_csum") + ctr(&b, "tcp", "rx_bad_csum"), 0,
                     "%s %s: corruption and no checksum failed", p->name, imp->name);
    /* every stack sends by TSO (tso=on, the default on both NICs): tcp
     * handed frames of several segments down, and the e1000 cut them, or
     * the NE2000's driver did as it wrote them to the card. Either way
     * every byte above arrived right. */
    for (int i = 0; i < 2; i++) {
        struct node *nd = i ? &b : &a;
        uint64_t tso = ctr(nd, "tcp", "tx_tso");
        if (!(imp->what & I_NO_TSO)) {
            cr_expect_gt(tso, 0, "%s %s: side %d sent no TSO frame", p->name, imp->name, i);
            cr_expect_gt(ctr(nd, "nic", "tx_tso_segments"), ctr(nd, "nic", "tx_tso_frames"),
                         "%s: the NIC cut none", p->name);
            cr_expect_gt(ctr(nd, "nic", "tx_tso_frames"), 0, "%s: the NIC took none", p->name);
        } else {
            cr_expect_eq(tso, 0, "%s %s: TSO with nic.tso=off", p->name, imp->name);
        }
    }
    /* receive coalescing (gro=on on both NICs, skb 2.6): a side whose
     * peer sends TSO bursts hands runs up; on a clean link tcp takes
     * segments by header prediction on every side, in runs or alone */
    for (int i = 0; i < 2; i++) {
        struct node *nd = i ? &b : &a;
        bool peer_tso = !(imp->what & I_NO_TSO);
        uint64_t pred = ctr(nd, "tcp", "rx_predicted");
        if (peer_tso)
            cr_expect_gt(ctr(nd, "nic", "rx_gro_runs"), 0, "%s %s: side %d saw no run", p->name,
                         imp->name, i);
        if (!imp->what)
            cr_expect_gt(pred, 0, "%s %s: side %d predicted nothing", p->name, imp->name, i);
    }
    node_down_checked(&a);
    node_down_checked(&b);
    free(pat_ab.b);
    free(pat_ba.b);
}

#define BULK_TIMEOUT (CASE_LIMIT_S + 60)

Test(tcp_wire, pio_clean, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_PIO, &IMP_NONE, 1, 101);
}
Test(tcp_wire, pio_reorder_dup, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_PIO, &IMP_REORDER, 3, 105);
}
Test(tcp_wire, dma_reorder_dup, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_DMA, &IMP_REORDER, 13, 205);
}

/* Loss and corruption (both assemblies; copy-dma's loss case with CUBIC),
 * and a clean run on copy-dma (whose e1000 receive ring overruns now and
 * then: a lost frame the connection must repair). */
Test(tcp_wire, dma_clean, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_DMA, &IMP_NONE, 11, 201);
}
Test(tcp_wire, pio_corrupt, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_PIO, &IMP_CORRUPT, 4, 107);
}
Test(tcp_wire, dma_loss, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_DMA, &IMP_LOSS_CUBIC, 12, 203);
}
Test(tcp_wire, dma_corrupt, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_DMA, &IMP_CORRUPT, 14, 207);
}
Test(tcp_wire, dma_loss_without_tso, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_DMA, &IMP_LOSS_NO_TSO, 16, 211);
}

/* Loss on copy-pio, and every impairment at once with 5 ms of delay each
 * way on both assemblies: the longest cases (the delay makes the RTT 10 ms
 * and loss keeps the window small: about 50 s each, with NewReno alone). */
Test(tcp_wire, pio_loss, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_PIO, &IMP_LOSS, 2, 103);
}
Test(tcp_wire, pio_loss_datasheet, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_PIO, &IMP_LOSS_DATASHEET, 6, 113);
}
Test(tcp_wire, pio_all_delay, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_PIO, &IMP_ALL, 5, 109);
}
Test(tcp_wire, dma_all_delay, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_DMA, &IMP_ALL, 15, 209);
}

/* The zero-copy stacks (issue 12.5): each clean and under loss (the one
 * lossy case each: retransmissions from referenced memory), and each
 * against a copy stack, clean. The other impairments and the long
 * all+delay cases stay on the copy pairs (CI's time budget): the
 * retransmission and reassembly logic they test is the same. */
Test(tcp_wire, zc_pio_clean, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_ZC_PIO, &IMP_NONE, 31, 401);
}
Test(tcp_wire, zc_dma_clean, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_ZC_DMA, &IMP_NONE, 32, 403);
}
Test(tcp_wire, zc_pio_loss, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_ZC_PIO, &IMP_LOSS, 33, 405);
}
Test(tcp_wire, zc_dma_loss, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_ZC_DMA, &IMP_LOSS, 34, 407);
}
Test(tcp_wire, zc_pio_with_copy_dma_clean, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_ZC_COPY, &IMP_NONE, 35, 409);
}
Test(tcp_wire, copy_pio_with_zc_dma_clean, .timeout = BULK_TIMEOUT)
{
    bulk_case(&PAIR_COPY_ZC, &IMP_NONE, 36, 411);
}

/* ----- SACK against NewReno under 5% loss (issue 11.1) ------------------------ */

/* One connection, a to b, LOSS_BYTES one way over copy-pio with 5% loss
 * each way (data and ACKs) and the lossy cases' 20 ms minimum RTO. With
 * tcp.sack=off on the receiver SACK is not negotiated and the sender
 * recovers with NewReno (RFC 6582); otherwise with its scoreboard and RFC
 * 6675. The figures are the sender's. */
#define LOSS_BYTES (1u << 20) /* the same under ASan: the time is the timers' */
#define LOSS_RUNS 6

struct loss_run {
    double secs;
    uint64_t rtx_bytes, rtx_segs, rtos, fast, sack_rec, rescue, lost, lost_rtx;
};

static void loss_run(int sack, int run, struct loss_run *o)
{
    static const char *const ov[] = {"dev.loss=5%", LOSSY, NULL};
    static const char *const off[] = {"tcp.sack=off", NULL};
    static const char *const none[] = {NULL};
    int seed = 401 + 2 * run, wire = 30 + 2 * run + sack;
    struct node a, b;
    const char *const *la[] = {AS_A, ov, NULL};
    const char *const *lb[] = {AS_B, ov, sack ? none : off, NULL};
    node_up(&a, "copy-pio", sack ? "sack-a" : "newreno-a", wire, seed, la);
    node_up(&b, "copy-pio", sack ? "sack-b" : "newreno-b", wire, seed + 1, lb);
    static struct pattern pat;
    if (!pat.b)
        pattern_make(&pat, 0x5ac4);
    struct watchdog wd;
    int afd, bfd;
    (void)connect_pair(&a, &b, 1, &wd, &afd, &bfd);
    /* timed from the connection on: the handshake's losses (ARP, SYN)
     * are the same for both and not what is compared */
    double t0 = now_s();
    set_timeo(a.s, afd, SO_SNDTIMEO, STALL_S * 1000);
    set_timeo(b.s, bfd, SO_RCVTIMEO, STALL_S * 1000);
    atomic_int failed = 0;
    struct flow fl[2] = {
        {.s = a.s, .fd = afd, .pat = &pat, .rng = 5, .total = LOSS_BYTES, .failed = &failed,
         .stop = {&a, &b}},
        {.s = b.s, .fd = bfd, .pat = &pat, .rng = 6, .total = LOSS_BYTES, .failed = &failed,
         .stop = {&a, &b}},
    };
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, i ? recv_thread : send_thread, &fl[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    o->secs = now_s() - t0;
    cr_expect_not(watchdog_end(&wd), "%s run %d: not over after %d s",
                  sack ? "sack" : "newreno", run, CASE_LIMIT_S);
    cr_expect_str_empty(fl[0].why, "%s", fl[0].why);
    cr_expect_str_empty(fl[1].why, "%s", fl[1].why);
    cr_expect_eq(fl[1].bytes, LOSS_BYTES, "%llu of %u bytes arrived",
                 (unsigned long long)fl[1].bytes, LOSS_BYTES);
    cr_expect(fl[1].eof && !memcmp(fl[0].digest, fl[1].digest, SHA256_DIGEST_LEN),
              "what arrived is not what was sent");
    /* the receiver's side first: the sender's close then lingers only
     * until its FIN is acknowledged */
    struct linger lg = {1, 10};
    lyra_setsockopt(a.s, afd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    lyra_close(b.s, bfd);
    lyra_close(a.s, afd);
    sleep_ms(50);
    node_halt(&a);
    node_halt(&b);
    o->rtx_bytes = ctr(&a, "tcp", "tx_retrans_bytes");
    o->rtx_segs = ctr(&a, "tcp", "tx_retrans_segs");
    o->rtos = ctr(&a, "tcp", "rto_expiries");
    o->fast = ctr(&a, "tcp", "fast_retransmits");
    o->sack_rec = ctr(&a, "tcp", "sack_recoveries");
    o->rescue = ctr(&a, "tcp", "sack_rescue_rtx");
    o->lost_rtx = ctr(&a, "tcp", "sack_lost_rtx");
    o->lost = ctr(&a, "os", "link_loss"); /* a sends data (and a handful of ACKs) */
    if (failed) {
        dump(&a);
        dump(&b);
    }
    node_down_checked(&a);
    node_down_checked(&b);
}

/* RFC 6675 against RFC 6582 on the same transfers (the same seeds: the
 * link loses the same frames until the two senders' traffic differs),
 * LOSS_RUNS runs each. Every lost segment has to go again, so what differs
 * is what goes needlessly: segments resent beyond those the link lost,
 * mostly NewReno's go-back-N after a timeout over data the receiver holds;
 * and time, mostly timeouts (SACK repairs several holes per round trip
 * and starts recovery before three duplicates when the scoreboard shows
 * the loss). Asserted on the totals, with margins well inside what was
 * measured under gcc and ASan: SACK takes under 85% of the time (47-56%
 * measured under ASan, 4 threads on 2 cores even alone, timed from the
 * established connection) with under two thirds of the timeouts, and
 * resends at most a tenth of what the link lost beyond it. Timeouts:
 * alone, SACK had 7-19 to NewReno's 60-68 (15-25 before a lost
 * retransmission went again without waiting for the timer, sack_lost_rtx).
 * A SACK sender that repaired no holes would time out as often as NewReno
 * (a ratio near 1).
 * The case is timer-bound, so it runs as a ctest entry of its own with
 * nothing beside it (RUN_SERIAL): under CI's load (ctest -j2 on 2 cores) a
 * starved thread lets a 20 ms RTO fire before the ACK is read, which adds
 * timeouts and needless resends to both senders alike (seen: 34 timeouts
 * to 63; 16 needless segments to NewReno's 14).
 * Printed, not asserted: needless resends against NewReno's (both are
 * small: 3-16 against 10-21 alone, so their order is noise), and total
 * resent bytes, which follow what the link lost, and that differs between
 * the two once their traffic differs (seen 2% to 6% apart, either way). */
Test(tcp_wire, sack_beats_newreno_under_loss, .timeout = CASE_LIMIT_S + 60)
{
    double secs[2] = {0, 0};
    uint64_t rtx[2] = {0, 0};
    int64_t needless[2] = {0, 0};
    uint64_t rtos[2] = {0, 0}, lost[2] = {0, 0};
    for (int run = 0; run < LOSS_RUNS; run++)
        for (int sack = 0; sack < 2; sack++) {
            struct loss_run o;
            loss_run(sack, run, &o);
            secs[sack] += o.secs;
            rtx[sack] += o.rtx_bytes;
            needless[sack] += (int64_t)o.rtx_segs - (int64_t)o.lost;
            rtos[sack] += o.rtos;
            lost[sack] += o.lost;
            printf("tcp_wire sack-vs-newreno %-7s run %d: %u bytes, %6.3f s, resent %llu bytes "
                   "in %llu segments (link lost %llu), %llu RTOs, %llu fast retransmits, "
                   "%llu SACK recoveries, %llu rescues, %llu lost retransmissions resent\n",
                   sack ? "sack" : "newreno", run, LOSS_BYTES, o.secs,
                   (unsigned long long)o.rtx_bytes, (unsigned long long)o.rtx_segs,
                   (unsigned long long)o.lost, (unsigned long long)o.rtos,
                   (unsigned long long)o.fast, (unsigned long long)o.sack_rec,
                   (unsigned long long)o.rescue, (unsigned long long)o.lost_rtx);
            fflush(stdout);
            if (sack)
                cr_expect_gt(o.sack_rec, 0, "run %d: SACK negotiated, no RFC 6675 recovery", run);
            else
                cr_expect_eq(o.sack_rec, 0, "run %d: SACK off, yet an RFC 6675 recovery", run);
        }
    printf("tcp_wire sack-vs-newreno over %d runs: newreno %.3f s, %llu bytes resent, %lld "
           "segments beyond those lost; sack %.3f s, %llu bytes resent, %lld beyond "
           "(%.0f%% of the time, %.0f%% of the bytes); timeouts: newreno %llu, sack %llu\n",
           LOSS_RUNS, secs[0], (unsigned long long)rtx[0], (long long)needless[0], secs[1],
           (unsigned long long)rtx[1], (long long)needless[1], 100.0 * secs[1] / secs[0],
           100.0 * (double)rtx[1] / (double)rtx[0], (unsigned long long)rtos[0],
           (unsigned long long)rtos[1]);
    fflush(stdout);
    cr_expect_leq(10 * needless[1], (int64_t)lost[1],
                  "SACK resent %lld segments beyond the %llu lost: over a tenth",
                  (long long)needless[1], (unsigned long long)lost[1]);
    cr_expect_lt(3 * rtos[1], 2 * rtos[0],
                 "SACK had %llu timeouts, NewReno %llu: not under two thirds",
                 (unsigned long long)rtos[1], (unsigned long long)rtos[0]);
    cr_expect_lt(secs[1], 0.85 * secs[0], "SACK took %.3f s, NewReno %.3f s: not clearly faster",
                 secs[1], secs[0]);
}

/* ----- many: 1,000 connections at once, 64 KB each -------------------------- */

/* Client (a) and server (b) run a poll loop each over non-blocking
 * sockets. The client connects all of them first and starts sending only
 * once every one is established, so all are open at once; each sends
 * MANY_BYTES from the pattern at an offset its local port picks, then
 * shuts down its side and waits for the server's FIN. The server accepts,
 * reads each to EOF, hashing it under the client's port, and closes. */
struct many_conn {
    int fd;
    uint16_t port; /* the client's */
    int state;     /* client: 0 connecting, 1 sending, 2 waiting for EOF, 3 done */
    uint64_t bytes;
    struct sha256 h;
};

struct many_side {
    struct lyra_stack *s;
    const struct pattern *pat;
    struct many_conn *c;
    unsigned n;        /* connections (server: accepted so far) */
    unsigned done;
    unsigned max_established; /* client: open at once */
    uint8_t (*digest)[SHA256_DIGEST_LEN]; /* by client port */
    uint64_t *bytes;                      /* by client port */
    int lfd;
    char why[256];
    atomic_int *failed;
    struct node *stop[2];
};

static void many_fail(struct many_side *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void many_fail(struct many_side *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->why, sizeof(m->why), fmt, ap);
    va_end(ap);
    if (!atomic_exchange(m->failed, 1))
        for (int i = 0; i < 2; i++)
            lyra_stack_stop(m->stop[i]->s);
}

static uint64_t port_base(uint16_t port)
{
    return (uint64_t)port * 104729u; /* a prime: ports far apart in the pattern */
}

static void *many_client(void *arg)
{
    struct many_side *m = arg;
    struct lyra_pollfd *pf = calloc(m->n, sizeof(*pf));
    unsigned *idx = calloc(m->n, sizeof(*idx));
    struct sockaddr_in sb = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    inet_pton(AF_INET, ADDR_B, &sb.sin_addr);
    if (!pf || !idx) {
        many_fail(m, "client: out of memory");
        goto out;
    }
    for (unsigned i = 0; i < m->n; i++) {
        struct many_conn *c = &m->c[i];
        c->fd = lyra_socket(m->s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (c->fd < 0) {
            many_fail(m, "client socket %u: %s", i, strerror(errno));
            goto out;
        }
        if (lyra_connect(m->s, c->fd, SA(sb), sizeof(sb)) == 0 || errno != EINPROGRESS) {
            many_fail(m, "client connect %u: %s (EINPROGRESS expected)", i, strerror(errno));
            goto out;
        }
        sha256_init(&c->h);
    }
    unsigned established = 0;
    double last = now_s();
    while (m->done < m->n && !atomic_load(m->failed)) {
        unsigned k = 0;
        for (unsigned i = 0; i < m->n; i++) {
            struct many_conn *c = &m->c[i];
            if (c->state == 3)
                continue;
            /* sending waits until every connection is established */
            short ev = c->state == 0 ? POLLOUT
                       : c->state == 1 ? (established == m->n ? POLLOUT : 0)
                                       : POLLIN;
            if (!ev)
                continue;
            pf[k] = (struct lyra_pollfd){c->fd, ev, 0};
            idx[k++] = i;
        }
        int r = lyra_poll(m->s, pf, k, 1000);
        if (r < 0) {
            many_fail(m, "client poll: %s", strerror(errno));
            break;
        }
        if (r > 0)
            last = now_s();
        else if (now_s() - last > STALL_S) {
            many_fail(m, "client: nothing happened for %d s (%u established, %u of %u done)",
                      STALL_S, established, m->done, m->n);
            break;
        }
        for (unsigned j = 0; j < k; j++) {
            struct many_conn *c = &m->c[idx[j]];
            if (!pf[j].revents)
                continue;
            if (c->state == 0) {
                int err = 0;
                socklen_t el = sizeof(err);
                lyra_getsockopt(m->s, c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err) {
                    many_fail(m, "client connect %u: %s", idx[j], strerror(err));
                    goto out;
                }
                struct sockaddr_in me;
                socklen_t ml = sizeof(me);
                if (lyra_getsockname(m->s, c->fd, (struct sockaddr *)&me, &ml) < 0) {
                    many_fail(m, "client getsockname: %s", strerror(errno));
                    goto out;
                }
                c->port = ntohs(me.sin_port);
                c->state = 1;
                if (++established > m->max_established)
                    m->max_established = established;
                continue;
            }
            if (c->state == 1) {
                while (c->bytes < MANY_BYTES) {
                    size_t n = MANY_BYTES - c->bytes;
                    if (n > 16384)
                        n = 16384;
                    const uint8_t *p = pattern_at(m->pat, port_base(c->port) + c->bytes);
                    ssize_t s = lyra_send(m->s, c->fd, p, n, 0);
                    if (s < 0 && errno == EAGAIN)
                        break;
                    if (s <= 0) {
                        many_fail(m, "client send (port %u, byte %llu): %s", c->port,
                                  (unsigned long long)c->bytes, strerror(errno));
                        goto out;
                    }
                    sha256_update(&c->h, p, (size_t)s);
                    c->bytes += (uint64_t)s;
                }
                if (c->bytes == MANY_BYTES) {
                    sha256_final(&c->h, m->digest[c->port]);
                    m->bytes[c->port] = c->bytes;
                    if (lyra_shutdown(m->s, c->fd, SHUT_WR) < 0) {
                        many_fail(m, "client shutdown (port %u): %s", c->port, strerror(errno));
                        goto out;
                    }
                    c->state = 2;
                }
                continue;
            }
            char x[64];
            ssize_t n = lyra_recv(m->s, c->fd, x, sizeof(x), 0);
            if (n < 0 && errno == EAGAIN)
                continue;
            if (n != 0) {
                many_fail(m, "client (port %u) waiting for EOF: %zd (%s)", c->port, n,
                          n < 0 ? strerror(errno) : "data from a discard server");
                goto out;
            }
            lyra_close(m->s, c->fd);
            c->fd = -1;
            c->state = 3;
            m->done++;
        }
    }
out:
    for (unsigned i = 0; i < m->n; i++)
        if (m->c[i].state != 3 && m->c[i].fd >= 0)
            lyra_close(m->s, m->c[i].fd);
    free(pf);
    free(idx);
    return NULL;
}

static void *many_server(void *arg)
{
    struct many_side *m = arg;
    unsigned cap = m->n;
    m->n = 0;
    struct lyra_pollfd *pf = calloc(cap + 1, sizeof(*pf));
    unsigned *idx = calloc(cap + 1, sizeof(*idx));
    static _Thread_local uint8_t buf[16384];
    if (!pf || !idx) {
        many_fail(m, "server: out of memory");
        goto out;
    }
    double last = now_s();
    while (m->done < cap && !atomic_load(m->failed)) {
        unsigned k = 0;
        if (m->n < cap) {
            pf[k] = (struct lyra_pollfd){m->lfd, POLLIN, 0};
            idx[k++] = UINT32_MAX;
        }
        for (unsigned i = 0; i < m->n; i++)
            if (m->c[i].fd >= 0) {
                pf[k] = (struct lyra_pollfd){m->c[i].fd, POLLIN, 0};
                idx[k++] = i;
            }
        int r = lyra_poll(m->s, pf, k, 1000);
        if (r < 0) {
            many_fail(m, "server poll: %s", strerror(errno));
            break;
        }
        if (r > 0)
            last = now_s();
        else if (now_s() - last > STALL_S) {
            many_fail(m, "server: nothing happened for %d s (%u accepted, %u done)", STALL_S,
                      m->n, m->done);
            break;
        }
        for (unsigned j = 0; j < k; j++) {
            if (!pf[j].revents)
                continue;
            if (idx[j] == UINT32_MAX) {
                for (;;) {
                    struct sockaddr_in from;
                    socklen_t fl = sizeof(from);
                    int fd = lyra_accept(m->s, m->lfd, (struct sockaddr *)&from, &fl);
                    if (fd < 0 && errno == EAGAIN)
                        break;
                    if (fd < 0 || m->n == cap) {
                        many_fail(m, "server accept (%u so far): %s", m->n,
                                  fd < 0 ? strerror(errno) : "one connection too many");
                        goto out;
                    }
                    lyra_fcntl(m->s, fd, F_SETFL, O_NONBLOCK);
                    struct many_conn *c = &m->c[m->n++];
                    c->fd = fd;
                    c->port = ntohs(from.sin_port);
                    sha256_init(&c->h);
                }
                continue;
            }
            struct many_conn *c = &m->c[idx[j]];
            for (;;) {
                ssize_t n = lyra_recv(m->s, c->fd, buf, sizeof(buf), 0);
                if (n < 0 && errno == EAGAIN)
                    break;
                if (n < 0) {
                    many_fail(m, "server recv (port %u, byte %llu): %s", c->port,
                              (unsigned long long)c->bytes, strerror(errno));
                    goto out;
                }
                if (n == 0) {
                    sha256_final(&c->h, m->digest[c->port]);
                    m->bytes[c->port] = c->bytes;
                    lyra_close(m->s, c->fd);
                    c->fd = -1;
                    m->done++;
                    break;
                }
                sha256_update(&c->h, buf, (size_t)n);
                c->bytes += (uint64_t)n;
            }
        }
    }
out:
    for (unsigned i = 0; i < m->n; i++)
        if (m->c[i].fd >= 0)
            lyra_close(m->s, m->c[i].fd);
    free(pf);
    free(idx);
    return NULL;
}

Test(tcp_wire, thousand_connections_at_once_64k_each, .timeout = CASE_LIMIT_S + 60)
{
    /* a: MANY_CONNS clients (then as many in TIME_WAIT); b: as many
     * accepted and the listener. The pools hold 16 KB of send and receive
     * buffer for each (tcp.snd_buf/rcv_buf), the rest waits (back-pressure). */
    static const char *const ov[] = {"tcp.max_conns=1100", "tcp.backlog_max=1024",
                                     "sock.max_fds=1100",  "tcp.snd_buf=16k",
                                     "tcp.rcv_buf=16k",    "skb.count=16384",
                                     "skb.segs=16384",     "skb.reserve_rx=256",
                                     "tcp.time_wait_ms=2000", NULL};
    struct node a, b;
    pair_up(&a, &b, &PAIR_MIXED, 21, 301, ov);
    static struct pattern pat;
    pattern_make(&pat, 0x3e3e);
    int lfd = lyra_socket(b.s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    cr_assert_geq(lfd, 0, "socket(SOCK_STREAM): %s", strerror(errno));
    struct sockaddr_in sb = sin4(ADDR_B, PORT);
    cr_assert_eq(lyra_bind(b.s, lfd, SA(sb), sizeof(sb)), 0, "bind: %s", strerror(errno));
    cr_assert_eq(lyra_listen(b.s, lfd, 1024), 0, "listen: %s", strerror(errno));

    /* ARP both ways first: one connection, blocking, opened and closed */
    int w = lyra_socket(a.s, AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(w, 0);
    cr_assert_eq(lyra_connect(a.s, w, SA(sb), sizeof(sb)), 0, "connect: %s", strerror(errno));
    struct lyra_pollfd lp = {lfd, POLLIN, 0};
    cr_assert_eq(lyra_poll(b.s, &lp, 1, 5000), 1);
    int wb = lyra_accept(b.s, lfd, NULL, NULL);
    cr_assert_geq(wb, 0, "accept: %s", strerror(errno));
    lyra_close(a.s, w);
    lyra_close(b.s, wb);

    static uint8_t dig_c[65536][SHA256_DIGEST_LEN], dig_s[65536][SHA256_DIGEST_LEN];
    static uint64_t bytes_c[65536], bytes_s[65536];
    static struct many_conn cc[MANY_CONNS], sc[MANY_CONNS];
    memset(bytes_c, 0, sizeof(bytes_c));
    memset(bytes_s, 0, sizeof(bytes_s));
    atomic_int failed = 0;
    struct many_side cli = {.s = a.s, .pat = &pat, .c = cc, .n = MANY_CONNS, .digest = dig_c,
                            .bytes = bytes_c, .lfd = -1, .failed = &failed, .stop = {&a, &b}};
    struct many_side srv = {.s = b.s, .pat = &pat, .c = sc, .n = MANY_CONNS, .digest = dig_s,
                            .bytes = bytes_s, .lfd = lfd, .failed = &failed, .stop = {&a, &b}};
    struct watchdog wd;
    watchdog_start(&wd, &a, &b, CASE_LIMIT_S);
    double t0 = now_s();
    pthread_t tc, ts;
    cr_assert_eq(pthread_create(&ts, NULL, many_server, &srv), 0);
    cr_assert_eq(pthread_create(&tc, NULL, many_client, &cli), 0);
    pthread_join(tc, NULL);
    pthread_join(ts, NULL);
    double secs = now_s() - t0;
    cr_expect_not(watchdog_end(&wd), "not over after %d s: both loops stopped", CASE_LIMIT_S);
    lyra_close(b.s, lfd);
    sleep_ms(300); /* the last ACKs of the servers' FINs */
    node_halt(&a);
    node_halt(&b);

    cr_expect_str_empty(cli.why, "%s", cli.why);
    cr_expect_str_empty(srv.why, "%s", srv.why);
    cr_expect_eq(cli.max_established, MANY_CONNS, "only %u connections were open at once",
                 cli.max_established);
    cr_expect_eq(cli.done, MANY_CONNS, "%u of %u client connections finished", cli.done,
                 MANY_CONNS);
    cr_expect_eq(srv.done, MANY_CONNS, "%u of %u server connections finished", srv.done,
                 MANY_CONNS);
    unsigned wrong = 0, checked = 0;
    uint64_t total = 0;
    for (unsigned i = 0; i < MANY_CONNS; i++) {
        uint16_t port = cc[i].port;
        if (cc[i].state != 3)
            continue;
        checked++;
        total += bytes_s[port];
        if (bytes_s[port] != MANY_BYTES || memcmp(dig_c[port], dig_s[port], SHA256_DIGEST_LEN)) {
            if (!wrong++)
                cr_log_error("port %u: %llu bytes arrived of %d, SHA-256 %s", port,
                             (unsigned long long)bytes_s[port], MANY_BYTES,
                             memcmp(dig_c[port], dig_s[port], SHA256_DIGEST_LEN) ? "differs"
                                                                                 : "equal");
        }
    }
    cr_expect_eq(wrong, 0, "%u of %u connections delivered other bytes than were sent", wrong,
                 checked);
    uint64_t ra = retrans(&a), rb = retrans(&b);
    printf("tcp_wire %-8s %-13s: %u connections at once x %d bytes = %llu bytes, %6.2f s, "
           "retransmissions a %llu b %llu\n",
           PAIR_MIXED.name, "many", MANY_CONNS, MANY_BYTES, (unsigned long long)total, secs,
           (unsigned long long)ra, (unsigned long long)rb);
    fflush(stdout);
    if (cli.why[0] || srv.why[0] || wrong) {
        dump(&a);
        dump(&b);
    }
    node_down_checked(&a);
    node_down_checked(&b);
    free(pat.b);
}

/* ----- a next hop that never answers ARP ---------------------------------- */

/* The link's give-up reaches the sender (l2 2.2, ip's tx_link_unreachable,
 * l3 2.4 local) as host unreachable, as Linux reports a failed neighbour:
 * a connect ends with EHOSTUNREACH once ARP gives up (3 requests 100 ms
 * apart here), not after its SYN retries (tcp's defaults: over three
 * minutes, then ETIMEDOUT), and a connected UDP socket's next call fails
 * with it. Nobody holds 192.0.2.99 on the wire. */
Test(tcp_wire, unresolvable_next_hop_is_host_unreachable, .timeout = 60)
{
    static const char *const ov[] = {"eth.arp_retry=100ms", NULL};
    const char *const *const lists[] = {AS_A, ov, NULL};
    struct node a;
    node_up(&a, "copy-dma", "a", 90, 1, lists);
    int fd = lyra_socket(a.s, AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in dst = sin4("192.0.2.99", 7);
    double t0 = now_s();
    errno = 0;
    cr_assert_eq(lyra_connect(a.s, fd, SA(dst), sizeof(dst)), -1);
    int e = errno;
    double took = now_s() - t0;
    cr_assert_eq(e, EHOSTUNREACH, "connect: %s after %.1f s", strerror(e), took);
    /* ARP's 0.3 s and the wire's poll steps; the first SYN retry alone
     * would come at 1 s (rto_init_ms) */
    cr_assert_lt(took, 5.0, "connect took %.1f s to fail", took);
    lyra_close(a.s, fd);

    int u = lyra_socket(a.s, AF_INET, SOCK_DGRAM, 0);
    cr_assert_geq(u, 0);
    struct sockaddr_in d9 = sin4("192.0.2.99", 9);
    cr_assert_eq(lyra_connect(a.s, u, SA(d9), sizeof(d9)), 0);
    cr_assert_eq(lyra_send(a.s, u, "x", 1, 0), 1, "queued for ARP: sent as far as we know");
    set_timeo(a.s, u, SO_RCVTIMEO, 5000);
    char b[8];
    errno = 0;
    cr_assert_eq(lyra_recv(a.s, u, b, sizeof(b), 0), -1);
    e = errno;
    cr_assert_eq(e, EHOSTUNREACH, "recv: %s", strerror(e));
    lyra_close(a.s, u);
    node_halt(&a);
    cr_assert_geq(ctr(&a, "ip", "tx_link_unreachable"), 2);
    cr_assert_geq(ctr(&a, "eth", "arp_failed"), 1);
    cr_assert_eq(ctr(&a, "tcp", "conns_unreachable"), 1);
    node_down_checked(&a);
}
