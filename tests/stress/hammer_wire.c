/* Two real stacks on an in-process wire under threads: X = copy-pio,
 * Y = copy-dma. Y serves UDP echo on port 7 with two threads sharing one
 * descriptor (blocking recvfrom/sendto) and runs a loop thread. X has four
 * client threads, each a descriptor of its own, ping-ponging datagrams of
 * 1..3000 bytes (3000: fragmented both ways) with SO_RCVTIMEO = 2 s, and
 * its loop run one of the ways of hammer.c (none, run, late, early-end,
 * slices), chosen per iteration. After 50..400 ms the stacks are stopped
 * one after the other in a random order; every thread must end with
 * ECANCELED within 3 s of its own stack's stop; then join, destroy.
 *
 * A client whose recv timed out looks at its socket with lyra_poll(0): a
 * datagram there means it slept while its reply was queued (suspect lost
 * wake-up; a reply arriving just at the deadline can do the same, so this
 * is reported, not fatal). Never two threads inside one os wait.
 *
 *   hammer_wire [ITERATIONS] [SEED]                                       */
#include "stress.h"

#define ADDR_X "192.0.2.2"
#define ADDR_Y "192.0.2.3"
#define CLIENTS 4

static struct lyra_stack *X, *Y;
static atomic_long timeouts, suspect, trips;

struct cl {
    int fd;
    unsigned seed;
    pthread_t t;
    int err;
};

static void *client(void *arg)
{
    struct cl *c = arg;
    static _Thread_local uint8_t out[3000], in[3100];
    struct sockaddr_in to = sin4(ADDR_Y, 7);
    for (unsigned seq = 0;; seq++) {
        size_t len = xrand(&c->seed) % 8 == 0 ? 3000 : 1 + xrand(&c->seed) % 1200;
        for (size_t i = 0; i < len; i++)
            out[i] = (uint8_t)(i * 7 + seq);
        out[0] = (uint8_t)seq;
        ssize_t w = lyra_sendto(X, c->fd, out, len, 0, SA(to), sizeof(to));
        if (w < 0) {
            c->err = errno;
            if (errno == ECANCELED)
                return NULL;
            CHECK(errno == EAGAIN, "client sendto: %s", strerror(errno));
            continue;
        }
        for (;;) {
            ssize_t n = lyra_recv(X, c->fd, in, sizeof(in), 0);
            if (n < 0) {
                c->err = errno;
                if (errno == ECANCELED)
                    return NULL;
                CHECK(errno == EAGAIN, "client recv: %s", strerror(errno));
                atomic_fetch_add(&timeouts, 1);
                struct lyra_pollfd p = {c->fd, POLLIN, 0};
                if (lyra_poll(X, &p, 1, 0) == 1 && !lyra_stack_stopping(Y)) {
                    atomic_fetch_add(&suspect, 1);
                    fprintf(stderr, "client fd %d: recv timed out with a datagram queued\n",
                            c->fd);
                }
                break;
            }
            if ((size_t)n == len && in[0] == out[0]) {
                CHECK(!memcmp(in, out, len), "echo came back different");
                atomic_fetch_add(&trips, 1);
                break;
            } /* else a late echo of an earlier one */
        }
    }
}

struct echo {
    int fd;
    pthread_t t;
    int err;
};

static void *echo_main(void *arg)
{
    struct echo *e = arg;
    static _Thread_local uint8_t buf[65536];
    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = lyra_recvfrom(Y, e->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            e->err = errno;
            if (errno == ECANCELED)
                return NULL;
            continue;
        }
        if (lyra_sendto(Y, e->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) < 0 &&
            errno == ECANCELED) {
            e->err = errno;
            return NULL;
        }
    }
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
        lyra_stack_run(X);
        break;
    case L_LATE:
        sleep_ms(p->delay_ms);
        lyra_stack_run(X);
        break;
    case L_EARLY_END:
        lyra_stack_run_for(X, (uint64_t)p->delay_ms * 1000000u);
        break;
    case L_SLICES:
        while (!lyra_stack_stopping(X)) {
            lyra_stack_run_for(X, (uint64_t)(1 + xrand(&p->seed) % 5) * 1000000u);
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
    char wire[32];
    snprintf(wire, sizeof(wire), "hw%d", it);
    struct wire_stack wx, wy;
    const char *ov[] = {"eth.arp_timeout=3600s", NULL};
    wire_stack(&wx, "copy-pio.lyra", wire, ov);
    wire_stack(&wy, "copy-dma.lyra", wire, ov);
    X = wx.s;
    Y = wy.s;
    struct pump pm = {.m = (enum loopmode)(xrand(&st) % L__N), .seed = xrand(&st),
                      .delay_ms = (int)(xrand(&st) % 80)};
    int run_ms = 50 + (int)(xrand(&st) % 350), x_first = xrand(&st) % 2,
        gap_ms = (int)(xrand(&st) % 100);
    wd_arm(20, "iteration %d seed %u loop %s: traffic", it, seed, lname[pm.m]);
    struct loop ly;
    loop_start(&ly, Y, 0);
    struct echo e[2];
    int efd = udp_bound(Y, NULL, 7);
    for (int i = 0; i < 2; i++) {
        e[i] = (struct echo){.fd = efd};
        pthread_create(&e[i].t, NULL, echo_main, &e[i]);
    }
    struct cl c[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        c[i] = (struct cl){.fd = udp_bound(X, NULL, (uint16_t)(6000 + i)), .seed = xrand(&st)};
        set_timeo(X, c[i].fd, SO_RCVTIMEO, 2);
    }
    if (pm.m != L_NONE)
        pthread_create(&pm.t, NULL, pump_main, &pm);
    for (int i = 0; i < CLIENTS; i++)
        pthread_create(&c[i].t, NULL, client, &c[i]);
    sleep_ms(run_ms);

    wd_arm(20, "iteration %d seed %u loop %s: stop (%s first)", it, seed, lname[pm.m],
           x_first ? "X" : "Y");
    struct lyra_stack *first = x_first ? X : Y, *second = x_first ? Y : X;
    lyra_stack_stop(first);
    sleep_ms(gap_ms);
    lyra_stack_stop(second);
    double t_stop = now_s();
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(c[i].t, NULL);
        CHECK(c[i].err == ECANCELED, "client ended with %s", strerror(c[i].err));
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(e[i].t, NULL);
        CHECK(e[i].err == ECANCELED, "echo thread ended with %s", strerror(e[i].err));
    }
    CHECK(now_s() - t_stop < 3, "threads took %.1f s to end after stop", now_s() - t_stop);
    if (pm.m != L_NONE)
        pthread_join(pm.t, NULL);
    pthread_join(ly.t, NULL);
    wd_off();
    lyra_stack_destroy(X);
    lyra_stack_destroy(Y);
    if (it % 10 == 0 || getenv("STRESS_VERBOSE"))
        printf("iteration %3d seed %10u loop %-9s run %3d ms, %s stopped first: %ld round "
               "trips so far, %ld timeouts, %ld suspect\n",
               it, seed, lname[pm.m], run_ms, x_first ? "X" : "Y", atomic_load(&trips),
               atomic_load(&timeouts), atomic_load(&suspect));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 40;
    unsigned seed = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : (unsigned)time(NULL);
    atomic_store(&pp.abort_on_two, 1);
    wd_init();
    printf("hammer_wire: %d iterations from seed %u\n", n, seed);
    fflush(stdout);
    unsigned st = seed;
    for (int i = 0; i < n; i++)
        iteration(i, xrand(&st) * 2654435761u + (unsigned)i);
    printf("hammer_wire: done: %ld round trips, %ld timeouts, %ld suspect lost wake-ups, most "
           "threads in one os wait %d\n",
           atomic_load(&trips), atomic_load(&timeouts), atomic_load(&suspect),
           atomic_load(&pp.max_seen));
    return atomic_load(&suspect) ? 1 : 0;
}
