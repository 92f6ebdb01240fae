/* CPU burnt by callers blocked with nothing to do: for each way of running
 * the stack, N threads block (recv, poll, recv with a long SO_RCVTIMEO)
 * for SECONDS, and the process CPU time over that period is printed; then
 * lyra_stack_stop must end every blocked call with ECANCELED.
 *
 *   idle_cpu [SECONDS]      (default 3)
 * Exit 0 when every scenario stays under 5% of one core, 1 otherwise. */
#include "stress.h"

enum op { OP_RECV, OP_POLL, OP_RECV_TIMEO };

struct blocker {
    struct lyra_stack *s;
    int fd;
    enum op op;
    pthread_t t;
    long r;
    int err;
};

static void *blocker_main(void *arg)
{
    struct blocker *b = arg;
    char buf[64];
    if (b->op == OP_POLL) {
        struct lyra_pollfd p = {b->fd, POLLIN, 0};
        b->r = lyra_poll(b->s, &p, 1, -1);
    } else {
        b->r = lyra_recv(b->s, b->fd, buf, sizeof(buf), 0);
    }
    b->err = errno;
    return NULL;
}

enum mode { M_DRIVE, M_LOOP, M_SLICES, M_WIRE_LOOP, M_WIRE_DRIVE };
static const char *mode_name[] = {"fake_l4, no loop thread (callers drive)",
                                  "fake_l4, loop thread (lyra_stack_run)",
                                  "fake_l4, pump thread calling lyra_stack_run_for(20 ms)",
                                  "copy-pio on a wire to copy-dma, loop threads",
                                  "copy-pio on a wire (callers drive), copy-dma loop thread"};

static atomic_int pump_stop;
static void *pump_main(void *arg)
{
    struct lyra_stack *s = arg;
    while (!atomic_load(&pump_stop) && !lyra_stack_stopping(s)) {
        lyra_stack_run_for(s, 20000000);
        sleep_ms(1); /* the gap between slices: a blocked caller takes over */
    }
    return NULL;
}

static int scenario(enum mode m, int nthreads, enum op op, double secs)
{
    struct lyra_stack *s;
    struct wire_stack x = {0}, y = {0};
    struct loop lp = {0}, ly = {0};
    pthread_t pump;
    int fds[8];
    if (m == M_WIRE_LOOP || m == M_WIRE_DRIVE) {
        const char *ov[] = {"eth.arp_timeout=3600s", NULL};
        wire_stack(&x, "copy-pio.lyra", "idle", ov);
        wire_stack(&y, "copy-dma.lyra", "idle", ov);
        s = x.s;
        loop_start(&ly, y.s, 0);
        for (int i = 0; i < nthreads; i++)
            fds[i] = udp_bound(s, NULL, (uint16_t)(5000 + i));
    } else {
        s = fake_stack(16);
        for (int i = 0; i < nthreads; i++)
            fds[i] = fake_bound(s, (uint16_t)(5000 + i));
    }
    if (m == M_LOOP || m == M_WIRE_LOOP)
        loop_start(&lp, s, 0);
    atomic_store(&pump_stop, 0);
    if (m == M_SLICES)
        pthread_create(&pump, NULL, pump_main, s);
    struct blocker b[8];
    for (int i = 0; i < nthreads; i++) {
        b[i] = (struct blocker){.s = s, .fd = fds[i], .op = op};
        if (op == OP_RECV_TIMEO)
            set_timeo(s, fds[i], SO_RCVTIMEO, 60);
        pthread_create(&b[i].t, NULL, blocker_main, &b[i]);
    }
    sleep_ms(300); /* settle: hand-overs, ARP, first steps */
    double c0 = process_cpu_s(), t0 = now_s();
    long w0 = atomic_load(&pp.calls); /* not lyra_stack_counter: stats take no lock */
    sleep_ms(secs * 1000);
    double cpu = process_cpu_s() - c0, wall = now_s() - t0;
    long waits = atomic_load(&pp.calls) - w0;
    if (m == M_WIRE_LOOP || m == M_WIRE_DRIVE) {
        /* the peer's idle loop is in the process too: measured apart below */
    }
    wd_arm(5, "stop must cancel %d blocked callers (%s)", nthreads, mode_name[m]);
    lyra_stack_stop(s);
    for (int i = 0; i < nthreads; i++) {
        pthread_join(b[i].t, NULL);
        CHECK(b[i].r == -1 && b[i].err == ECANCELED, "%s: blocked call ended %ld (%s), not ECANCELED",
              mode_name[m], b[i].r, strerror(b[i].err));
    }
    if (m == M_LOOP || m == M_WIRE_LOOP)
        pthread_join(lp.t, NULL);
    if (m == M_SLICES) {
        atomic_store(&pump_stop, 1);
        pthread_join(pump, NULL);
    }
    /* new blocking calls after stop: ECANCELED at once */
    char buf[8];
    errno = 0;
    CHECK(lyra_recv(s, fds[0], buf, sizeof(buf), 0) == -1 && errno == ECANCELED,
          "recv after stop: %s", strerror(errno));
    struct lyra_pollfd p = {fds[0], POLLIN, 0};
    errno = 0;
    CHECK(lyra_poll(s, &p, 1, 1000) == -1 && errno == ECANCELED, "poll after stop: %s",
          strerror(errno));
    wd_off();
    if (y.s) {
        lyra_stack_stop(y.s);
        pthread_join(ly.t, NULL);
        lyra_stack_destroy(y.s);
    }
    lyra_stack_destroy(s);
    const char *opn[] = {"recv", "poll(-1)", "recv SO_RCVTIMEO=60s"};
    int bad = cpu / wall > 0.05;
    printf("%-62s %d x %-20s cpu %.3f s / %.1f s wall (%4.1f%%), os waits (all stacks) %ld %s\n", mode_name[m],
           nthreads, opn[op], cpu, wall, 100 * cpu / wall, waits, bad ? "  <-- BUSY" : "");
    fflush(stdout);
    return bad;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 3;
    wd_init();
    int bad = 0;
    for (enum mode m = M_DRIVE; m <= M_WIRE_DRIVE; m++) {
        bad |= scenario(m, 1, OP_RECV, secs);
        bad |= scenario(m, 4, OP_RECV, secs);
        bad |= scenario(m, 1, OP_POLL, secs);
        bad |= scenario(m, 2, OP_RECV_TIMEO, secs);
    }
    printf("max threads seen inside one os wait: %d\n", atomic_load(&pp.max_seen));
    return bad;
}
