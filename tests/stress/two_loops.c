/* Two threads running one stack's loop at once: lyra_stack_run on one
 * thread and lyra_stack_run (mode "run") or lyra_stack_run_for slices
 * (mode "slices") on another, with a little traffic so that both step.
 * os_loop.c allows one thread at a time in os wait (its pfd array is
 * shared); the ppoll interposer of stress.h counts them.
 *
 *   two_loops [run|slices] [SECONDS]
 * Exit 1 when two threads were inside one os wait at once. */
#include "stress.h"

static atomic_int done;

static void *slicer(void *arg)
{
    struct lyra_stack *s = arg;
    while (!atomic_load(&done))
        lyra_stack_run_for(s, 2000000);
    return NULL;
}

int main(int argc, char **argv)
{
    int slices = argc > 1 && !strcmp(argv[1], "slices");
    double secs = argc > 2 ? atof(argv[2]) : 2;
    wd_init();
    struct lyra_stack *s = fake_stack(8);
    int a = fake_bound(s, 1000), b = fake_bound(s, 2000);
    struct loop l1, l2;
    pthread_t ts;
    loop_start(&l1, s, 0);
    if (slices)
        pthread_create(&ts, NULL, slicer, s);
    else
        loop_start(&l2, s, 0);
    struct sockaddr_in to = sin4(NULL, 2000);
    set_timeo(s, b, SO_RCVTIMEO, 2);
    long n = 0;
    double end = now_s() + secs;
    while (now_s() < end) {
        CHECK(lyra_sendto(s, a, "x", 1, 0, SA(to), sizeof(to)) == 1, "send: %s", strerror(errno));
        char c;
        CHECK(lyra_recv(s, b, &c, 1, 0) == 1, "recv: %s", strerror(errno));
        n++;
        if (n % 64 == 0)
            sleep_ms(1); /* let both loops go idle into os wait */
    }
    int most = atomic_load(&pp.max_seen);
    printf("%s: %ld round trips; most threads inside one os wait at once: %d%s\n",
           slices ? "lyra_stack_run + lyra_stack_run_for slices" : "two lyra_stack_run threads", n,
           most, most > 1 ? "  <-- two waiters" : "");
    wd_arm(30, "stop");
    atomic_store(&done, 1);
    lyra_stack_stop(s);
    int lost_stop = 0;
    pthread_t th[2] = {l1.t, slices ? ts : l2.t};
    for (int i = 0; i < 2; i++) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += 2;
        if (pthread_timedjoin_np(th[i], NULL, &dl)) {
            printf("  loop thread %d still running 2 s after lyra_stack_stop (its os wait missed "
                   "the one wake-up) -> STOP LOST; a second lyra_stack_stop ends it\n", i + 1);
            lost_stop = 1;
            lyra_stack_stop(s);
            pthread_join(th[i], NULL);
        }
    }
    wd_off();
    lyra_stack_destroy(s);
    fflush(stdout);
    return most > 1 || lost_stop;
}
