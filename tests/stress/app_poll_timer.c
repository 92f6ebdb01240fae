/* An application's lyra_stack_poll can take the event that a loop thread's
 * os wait was about to see, and arm a timer the loop thread then never
 * waits for.
 *
 * X = copy-pio with eth.arp_timeout=ARP_MS, a loop thread (lyra_stack_run);
 * Y = copy-dma with a loop thread. For WINDOW ms a thread C calls
 * lyra_stack_poll(X) in a loop; meanwhile Y sends one datagram to X, so X
 * learns Y's address from Y's ARP request (an entry that expires after
 * ARP_MS: eth arms its timer in whichever step took the request). Then C
 * stops. 3 * ARP_MS later X's loop must have run that timer
 * (eth.arp_cache_expired = 1). Run with STRESS_PPOLL_DELAY_US=3000 to widen
 * the loop thread's window between its step and its ppoll.
 *
 *   app_poll_timer [ROUNDS] [ARP_MS]
 * Exit 1 when a round's timer did not run. */
#include "stress.h"

#define ADDR_X "192.0.2.2"

static struct lyra_stack *X;
static atomic_int c_on;

static void *poller(void *arg)
{
    (void)arg;
    while (atomic_load(&c_on))
        lyra_stack_poll(X);
    return NULL;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    int arp_ms = argc > 2 ? atoi(argv[2]) : 300;
    wd_init();
    int missed = 0;
    for (int r = 0; r < rounds; r++) {
        char arp[64], wire[32];
        snprintf(arp, sizeof(arp), "eth.arp_timeout=%dms", arp_ms);
        snprintf(wire, sizeof(wire), "apt%d", r);
        const char *ovx[] = {arp, NULL}, *ovy[] = {"eth.arp_timeout=3600s", NULL};
        struct wire_stack wx, wy;
        wire_stack(&wx, "copy-pio.lyra", wire, ovx);
        wire_stack(&wy, "copy-dma.lyra", wire, ovy);
        X = wx.s;
        struct loop lx, ly;
        loop_start(&lx, X, 0);
        loop_start(&ly, wy.s, 0);
        int fx = udp_bound(X, NULL, 9000), fy = udp_bound(wy.s, NULL, 9001);
        sleep_ms(50);
        atomic_store(&c_on, 1);
        pthread_t tc;
        pthread_create(&tc, NULL, poller, NULL);
        sleep_ms(5);
        struct sockaddr_in to = sin4(ADDR_X, 9000);
        CHECK(lyra_sendto(wy.s, fy, "x", 1, 0, SA(to), sizeof(to)) == 1, "send");
        sleep_ms(30);
        atomic_store(&c_on, 0);
        pthread_join(tc, NULL);
        char b[4];
        int got = lyra_recv(X, fx, b, 1, MSG_DONTWAIT) == 1;
        sleep_ms(3 * arp_ms);
        wd_arm(10, "stop");
        lyra_stack_stop(X);
        lyra_stack_stop(wy.s);
        pthread_join(lx.t, NULL);
        pthread_join(ly.t, NULL);
        wd_off();
        uint64_t expired = lyra_stack_counter(X, "eth", "arp_cache_expired");
        if (!expired)
            missed++;
        printf("round %2d: datagram %s; X's ARP entry for Y %s %d ms after it was due\n", r,
               got ? "arrived" : "NOT arrived", expired ? "expired" : "had NOT expired",
               2 * arp_ms);
        fflush(stdout);
        lyra_stack_destroy(X);
        lyra_stack_destroy(wy.s);
    }
    printf("%d of %d rounds: the loop thread slept through a timer armed by lyra_stack_poll\n",
           missed, rounds);
    return missed ? 1 : 0;
}
