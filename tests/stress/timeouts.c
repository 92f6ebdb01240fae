/* Timeouts of blocking calls (SO_RCVTIMEO on recv, lyra_poll's timeout)
 * under every way of running the loop, with and without unrelated traffic
 * that wakes sleepers on every step: a timeout must not expire early and
 * must not overrun by more than SLACK ms.
 *
 *   timeouts [ROUNDS] [SLACK_MS]      (defaults 3, 60)
 * Exit 1 when one expired early or overran. */
#include "stress.h"

static struct lyra_stack *S;
static atomic_int noise_on;

/* a ping-pong pair with its own loop traffic: broadcasts on every step */
static void *noise(void *arg)
{
    int *fds = arg;
    struct sockaddr_in to = sin4(NULL, 2100);
    char c;
    while (atomic_load(&noise_on)) {
        if (lyra_sendto(S, fds[0], "n", 1, 0, SA(to), sizeof(to)) < 0)
            break;
        if (lyra_recv(S, fds[1], &c, 1, 0) < 0)
            break;
    }
    return NULL;
}

enum mode { M_DRIVE, M_LOOP, M_SLICES, M_LATE_LOOP, M_LOOP_ENDS, M__N };
static const char *mname[] = {"callers drive", "loop thread", "run_for slices",
                              "loop starts mid-wait", "loop ends mid-wait"};

static atomic_int pump_on;
static void *pump(void *arg)
{
    enum mode m = *(enum mode *)arg;
    if (m == M_LOOP)
        lyra_stack_run(S);
    else if (m == M_LATE_LOOP) {
        sleep_ms(3);
        lyra_stack_run(S);
    } else if (m == M_LOOP_ENDS)
        lyra_stack_run_for(S, 3000000);
    else if (m == M_SLICES)
        while (atomic_load(&pump_on) && !lyra_stack_stopping(S)) {
            lyra_stack_run_for(S, 2000000);
            sleep_ms(1);
        }
    return NULL;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 3;
    double slack = (argc > 2 ? atof(argv[2]) : 60) / 1000;
    static const int tmo_ms[] = {5, 20, 100, 300};
    int bad = 0;
    wd_init();
    for (enum mode m = M_DRIVE; m < M__N; m++)
        for (int with_noise = 0; with_noise < 2; with_noise++) {
            double worst_early = 0, worst_late = 0;
            for (int r = 0; r < rounds; r++)
                for (unsigned k = 0; k < sizeof(tmo_ms) / sizeof(tmo_ms[0]); k++)
                    for (int use_poll = 0; use_poll < 2; use_poll++) {
                        S = fake_stack(8);
                        int fd = fake_bound(S, 2000);
                        int nf[2] = {fake_bound(S, 2200), fake_bound(S, 2100)};
                        pthread_t tp, tn;
                        atomic_store(&pump_on, 1);
                        if (m != M_DRIVE)
                            pthread_create(&tp, NULL, pump, &m);
                        atomic_store(&noise_on, with_noise);
                        if (with_noise)
                            pthread_create(&tn, NULL, noise, nf);
                        double want = tmo_ms[k] / 1000.0;
                        set_timeo(S, fd, SO_RCVTIMEO, want);
                        wd_arm(10, "%s noise %d: timeout %d ms never expired", mname[m],
                               with_noise, tmo_ms[k]);
                        char b[8];
                        double t0 = now_s();
                        long rr;
                        if (use_poll) {
                            struct lyra_pollfd p = {fd, POLLIN, 0};
                            rr = lyra_poll(S, &p, 1, tmo_ms[k]);
                            CHECK(rr == 0, "poll: %ld (%s)", rr, strerror(errno));
                        } else {
                            rr = lyra_recv(S, fd, b, sizeof(b), 0);
                            CHECK(rr == -1 && errno == EAGAIN, "recv: %ld (%s)", rr,
                                  strerror(errno));
                        }
                        double dt = now_s() - t0;
                        wd_off();
                        if (want - dt > worst_early)
                            worst_early = want - dt;
                        if (dt - want > worst_late)
                            worst_late = dt - want;
                        if (dt < want || dt > want + slack) {
                            printf("  %s, noise %d, %s timeout %d ms: returned after %.3f ms\n",
                                   mname[m], with_noise, use_poll ? "poll" : "SO_RCVTIMEO",
                                   tmo_ms[k], dt * 1000);
                            bad = 1;
                        }
                        atomic_store(&noise_on, 0);
                        atomic_store(&pump_on, 0);
                        lyra_stack_stop(S);
                        if (with_noise)
                            pthread_join(tn, NULL);
                        if (m != M_DRIVE)
                            pthread_join(tp, NULL);
                        lyra_stack_destroy(S);
                    }
            printf("%-22s noise %d: earliest %.3f ms early, latest %.3f ms late\n", mname[m],
                   with_noise, worst_early * 1000, worst_late * 1000);
            fflush(stdout);
        }
    return bad;
}
