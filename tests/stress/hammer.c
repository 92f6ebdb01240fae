/* Many application threads on one fake_l4 stack, every way of running its
 * loop, then lyra_stack_stop in the middle of the traffic.
 *
 * Per iteration (a fresh stack, seeded choices):
 *   - loop: none (callers drive) | lyra_stack_run from the start | started
 *     late | lyra_stack_run_for once, ending early | a pump thread calling
 *     lyra_stack_run_for slices with gaps; optionally an application thread
 *     calling lyra_stack_poll in a loop besides;
 *   - 3 ping-pong pairs on separate descriptors (blocking sendto/recvfrom,
 *     no timeouts: a lost wake-up shows as a round trip over 3 s);
 *   - 2 threads sharing one descriptor (blocking lyra_poll then a
 *     MSG_DONTWAIT recv), fed one datagram at a time by a churn thread that
 *     opens, binds, sends from and closes a descriptor each time;
 *   - after 20..200 ms, lyra_stack_stop from the main thread: every thread
 *     must end with ECANCELED within 3 s, new blocking calls must fail with
 *     ECANCELED at once; join, lyra_stack_destroy (ASan: no use after free).
 * Invariants: never two threads inside the stack's os wait at once
 * (ppoll interposer), no round trip over 3 s, no datagram lost or
 * duplicated between a pair.
 *
 *   hammer [ITERATIONS] [SEED]                                            */
#include "stress.h"

#define PAIRS 3

static struct lyra_stack *S;
static atomic_int quit;          /* set after stop, for threads that never block */
static atomic_long rtt_over;     /* round trips over 3 s */
static atomic_long shared_got, shared_sent;
static atomic_int feeder_alive;
static double hang_limit = 3.0;

struct pair {
    int cfd, sfd;
    uint16_t cport, sport;
    pthread_t tc, ts;
    long trips;
    int cerr, serr;
};

static int canceled(long r)
{
    return r < 0 && errno == ECANCELED;
}

static void *server(void *arg)
{
    struct pair *p = arg;
    char buf[64];
    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = lyra_recvfrom(S, p->sfd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            p->serr = errno;
            if (errno == ECANCELED)
                return NULL;
            DIE("server recvfrom: %s", strerror(errno));
        }
        ssize_t w = lyra_sendto(S, p->sfd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
        if (w < 0) {
            p->serr = errno;
            if (errno == ECANCELED)
                return NULL;
            DIE("server sendto: %s", strerror(errno));
        }
    }
}

static void *client(void *arg)
{
    struct pair *p = arg;
    struct sockaddr_in to = sin4(NULL, p->sport);
    for (long seq = 0;; seq++) {
        char out[32], in[64];
        int len = snprintf(out, sizeof(out), "%u:%ld", p->cport, seq);
        double t0 = now_s();
        ssize_t w = lyra_sendto(S, p->cfd, out, (size_t)len, 0, SA(to), sizeof(to));
        if (w < 0) {
            p->cerr = errno;
            if (canceled(w))
                return NULL;
            DIE("client sendto: %s", strerror(errno));
        }
        ssize_t n = lyra_recv(S, p->cfd, in, sizeof(in), 0);
        if (n < 0) {
            p->cerr = errno;
            if (canceled(n))
                return NULL;
            DIE("client recv: %s", strerror(errno));
        }
        CHECK(n == len && !memcmp(in, out, (size_t)len), "pair %u: sent '%.*s' got '%.*s'",
              p->cport, len, out, (int)n, in);
        if (now_s() - t0 > hang_limit) {
            atomic_fetch_add(&rtt_over, 1);
            fprintf(stderr, "pair %u: round trip %ld took %.2f s\n", p->cport, seq, now_s() - t0);
        }
        p->trips++;
    }
}

struct sharer {
    int fd;
    pthread_t t;
    int err;
};

static void *sharer_main(void *arg)
{
    struct sharer *x = arg;
    for (;;) {
        struct lyra_pollfd pf = {x->fd, POLLIN, 0};
        int r = lyra_poll(S, &pf, 1, -1);
        if (r < 0) {
            x->err = errno;
            if (errno == ECANCELED)
                return NULL;
            DIE("shared poll: %s", strerror(errno));
        }
        char b[64];
        ssize_t n = lyra_recv(S, x->fd, b, sizeof(b), MSG_DONTWAIT);
        if (n >= 0)
            atomic_fetch_add(&shared_got, 1);
        else
            CHECK(errno == EAGAIN, "shared recv: %s", strerror(errno)); /* the other took it */
    }
}

/* One datagram at a time to the shared descriptor, each from a fresh one. */
static void *feeder(void *arg)
{
    uint16_t port = *(uint16_t *)arg;
    struct sockaddr_in to = sin4(NULL, port);
    unsigned k = 0;
    while (!atomic_load(&quit)) {
        int fd = lyra_socket(S, AF_INET, SOCK_DGRAM, FAKE_PROTO);
        if (fd < 0) {
            CHECK(errno == EMFILE || errno == ENOBUFS, "feeder socket: %s", strerror(errno));
            sleep_ms(1);
            continue;
        }
        struct sockaddr_in me = sin4(NULL, (uint16_t)(5000 + (k++ % 100)));
        if (lyra_bind(S, fd, SA(me), sizeof(me)) == 0) {
            ssize_t w = lyra_sendto(S, fd, "f", 1, MSG_DONTWAIT, SA(to), sizeof(to));
            if (w == 1) {
                long want = atomic_fetch_add(&shared_sent, 1) + 1;
                double t0 = now_s();
                /* wait until a sharer got it (the loop must deliver it) */
                while (atomic_load(&shared_got) < want && !atomic_load(&quit)) {
                    if (now_s() - t0 > hang_limit) {
                        atomic_fetch_add(&rtt_over, 1);
                        fprintf(stderr, "shared datagram %ld not taken in %.1f s\n", want,
                                hang_limit);
                        break;
                    }
                    sched_yield();
                }
            }
        }
        CHECK(lyra_close(S, fd) == 0, "feeder close: %s", strerror(errno));
    }
    atomic_store(&feeder_alive, 0);
    return NULL;
}

static void *app_poller(void *arg)
{
    (void)arg;
    while (!atomic_load(&quit)) {
        lyra_stack_poll(S);
        sched_yield();
    }
    return NULL;
}

enum loopmode { L_NONE, L_RUN, L_LATE, L_EARLY_END, L_SLICES, L__N };
static const char *lname[] = {"none", "run", "late", "early-end", "slices"};

struct pump {
    pthread_t t;
    enum loopmode m;
    unsigned seed;
    int delay_ms;
};

static void *pump_main(void *arg)
{
    struct pump *p = arg;
    switch (p->m) {
    case L_RUN:
        lyra_stack_run(S);
        break;
    case L_LATE:
        sleep_ms(p->delay_ms);
        lyra_stack_run(S);
        break;
    case L_EARLY_END:
        lyra_stack_run_for(S, (uint64_t)p->delay_ms * 1000000u);
        break;
    case L_SLICES:
        while (!lyra_stack_stopping(S)) {
            lyra_stack_run_for(S, (uint64_t)(1 + xrand(&p->seed) % 5) * 1000000u);
            sleep_ms(xrand(&p->seed) % 3);
        }
        break;
    default:
        break;
    }
    return NULL;
}

static void iteration(int it, unsigned seed)
{
    unsigned st = seed;
    S = fake_stack(8);
    atomic_store(&quit, 0);
    atomic_store(&shared_got, 0);
    atomic_store(&shared_sent, 0);
    atomic_store(&feeder_alive, 1);
    struct pump pm = {.m = (enum loopmode)(xrand(&st) % L__N), .seed = xrand(&st),
                      .delay_ms = (int)(xrand(&st) % 60)};
    int with_poller = xrand(&st) % 3 == 0;
    int stop_ms = 20 + (int)(xrand(&st) % 180);
    struct pair p[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        memset(&p[i], 0, sizeof(p[i]));
        p[i].cport = (uint16_t)(1000 + i);
        p[i].sport = (uint16_t)(2000 + i);
        p[i].cfd = fake_bound(S, p[i].cport);
        p[i].sfd = fake_bound(S, p[i].sport);
    }
    uint16_t shared_port = 3000;
    struct sharer sh[2];
    int sfd = fake_bound(S, shared_port);
    wd_arm(hang_limit + 10, "iteration %d (seed %u, loop %s, poller %d): traffic", it, seed,
           lname[pm.m], with_poller);
    if (pm.m != L_NONE)
        pthread_create(&pm.t, NULL, pump_main, &pm);
    pthread_t tp, tf;
    if (with_poller)
        pthread_create(&tp, NULL, app_poller, NULL);
    for (int i = 0; i < PAIRS; i++) {
        pthread_create(&p[i].ts, NULL, server, &p[i]);
        pthread_create(&p[i].tc, NULL, client, &p[i]);
    }
    for (int i = 0; i < 2; i++) {
        sh[i] = (struct sharer){.fd = sfd};
        pthread_create(&sh[i].t, NULL, sharer_main, &sh[i]);
    }
    pthread_create(&tf, NULL, feeder, &shared_port);
    sleep_ms(stop_ms);

    wd_arm(hang_limit + 5, "iteration %d (seed %u, loop %s, poller %d): stop", it, seed,
           lname[pm.m], with_poller);
    lyra_stack_stop(S);
    for (int i = 0; i < PAIRS; i++) {
        pthread_join(p[i].tc, NULL);
        pthread_join(p[i].ts, NULL);
        CHECK(p[i].cerr == ECANCELED && p[i].serr == ECANCELED, "pair %d ended with %s / %s", i,
              strerror(p[i].cerr), strerror(p[i].serr));
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(sh[i].t, NULL);
        CHECK(sh[i].err == ECANCELED, "sharer ended with %s", strerror(sh[i].err));
    }
    atomic_store(&quit, 1);
    pthread_join(tf, NULL);
    if (with_poller)
        pthread_join(tp, NULL);
    if (pm.m != L_NONE)
        pthread_join(pm.t, NULL);
    /* after stop: blocking calls fail at once, non-blocking ones still work
     * (on a fresh descriptor: the others may hold late datagrams) */
    char b[8];
    int nfd = lyra_socket(S, AF_INET, SOCK_DGRAM, FAKE_PROTO);
    if (nfd < 0) { /* the feeder's descriptors are all closed: there is room */
        DIE("socket after stop: %s", strerror(errno));
    }
    errno = 0;
    CHECK(lyra_recv(S, nfd, b, sizeof(b), 0) == -1 && errno == ECANCELED,
          "recv after stop: %s", strerror(errno));
    struct lyra_pollfd pf = {nfd, POLLIN, 0};
    errno = 0;
    CHECK(lyra_poll(S, &pf, 1, 100) == -1 && errno == ECANCELED, "poll after stop: %s",
          strerror(errno));
    errno = 0;
    CHECK(lyra_recv(S, nfd, b, sizeof(b), MSG_DONTWAIT) == -1 && errno == EAGAIN,
          "MSG_DONTWAIT recv after stop: %s", strerror(errno));
    CHECK(lyra_close(S, nfd) == 0, "close after stop");
    CHECK(lyra_stack_run(S) == 0, "run after stop");
    wd_off();
    long trips = 0;
    for (int i = 0; i < PAIRS; i++)
        trips += p[i].trips;
    lyra_stack_destroy(S);
    S = NULL;
    if (it % 20 == 0 || getenv("STRESS_VERBOSE"))
        printf("iteration %3d seed %10u loop %-9s poller %d stop at %3d ms: %6ld round trips, "
               "%4ld shared\n",
               it, seed, lname[pm.m], with_poller, stop_ms, trips, atomic_load(&shared_got));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    unsigned seed = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : (unsigned)time(NULL);
    if (getenv("STRESS_HANG_LIMIT"))
        hang_limit = atof(getenv("STRESS_HANG_LIMIT"));
    atomic_store(&pp.abort_on_two, 1);
    wd_init();
    printf("hammer: %d iterations from seed %u\n", n, seed);
    fflush(stdout);
    unsigned st = seed;
    for (int i = 0; i < n; i++)
        iteration(i, xrand(&st) * 2654435761u + (unsigned)i);
    long over = atomic_load(&rtt_over);
    printf("hammer: done; waits over %.1f s: %ld; most threads in one os wait: %d\n", hang_limit,
           over, atomic_load(&pp.max_seen));
    return over ? 1 : 0;
}
