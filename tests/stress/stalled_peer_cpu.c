/* CPU while a sender is blocked because the wire's other end does not
 * read: X (MANIFEST_X, loop thread or callers drive) sends datagrams to Y,
 * whose stack is started but never stepped, so Y's receive queue on the
 * wire fills and X's device cannot put frames on the link. X's sender has
 * SO_SNDTIMEO = 5 s and sends until a send blocks; the process CPU time of
 * the following SECONDS is printed (it should be ~0: nothing can move);
 * exit 1 when it is over 5% (BUSY), so a script can act on it.
 *
 *   stalled_peer_cpu [loop|drive] [copy-pio.lyra|copy-dma.lyra] [SECONDS]  */
#include "stress.h"

int main(int argc, char **argv)
{
    int busy = 0;
    int drive = argc > 1 && !strcmp(argv[1], "drive");
    const char *mx = argc > 2 ? argv[2] : "copy-pio.lyra";
    double secs = argc > 3 ? atof(argv[3]) : 3;
    const char *my = strcmp(mx, "copy-pio.lyra") ? "copy-pio.lyra" : "copy-dma.lyra";
    const char *ip_y = strcmp(mx, "copy-pio.lyra") ? "192.0.2.2" : "192.0.2.3";
    wd_init();
    struct wire_stack wx, wy;
    const char *ov[] = {"eth.arp_timeout=3600s", NULL};
    wire_stack(&wx, mx, "stall", ov);
    wire_stack(&wy, my, "stall", ov);
    struct lyra_stack *X = wx.s, *Y = wy.s;
    struct loop lx, ly;
    /* resolve ARP both ways with Y running for a moment */
    loop_start(&ly, Y, 300000000u);
    if (!drive)
        loop_start(&lx, X, 0);
    int fx = udp_bound(X, NULL, 9100);
    udp_bound(Y, NULL, 9101);
    struct sockaddr_in to = sin4(ip_y, 9101);
    set_timeo(X, fx, SO_SNDTIMEO, 5);
    static char buf[1000];
    CHECK(lyra_sendto(X, fx, buf, 10, 0, SA(to), sizeof(to)) == 10, "first send: %s",
          strerror(errno));
    pthread_join(ly.t, NULL); /* Y's loop is over: nobody reads Y's side of the wire */
    long sent = 0;
    double t_block = 0;
    for (;;) {
        double t0 = now_s();
        double c0 = process_cpu_s();
        ssize_t r = lyra_sendto(X, fx, buf, sizeof(buf), 0, SA(to), sizeof(to));
        double dt = now_s() - t0, cpu = process_cpu_s() - c0;
        if (r < 0 || dt > 0.5) {
            t_block = dt;
            printf("%s (%s): send %ld %s after %.2f s; CPU during that send %.2f s (%.0f%% of a "
                   "core)\n",
                   mx, drive ? "callers drive" : "loop thread", sent,
                   r < 0 ? strerror(errno) : "went through", dt, cpu, 100 * cpu / dt);
            break;
        }
        sent++;
        if (sent == 20000) {
            /* the devices drop what the link cannot take: sends never block.
             * Is anyone spinning now that X has nothing to do? */
            sleep_ms(300);
            double c1 = process_cpu_s(), w1 = now_s();
            sleep_ms(secs * 1000);
            double cpu1 = process_cpu_s() - c1, wall1 = now_s() - w1;
            printf("%s (%s): 20000 sends never blocked (the device drops when the wire is "
                   "full); idle afterwards: CPU %.3f s in %.1f s (%.1f%%)%s\n",
                   mx, drive ? "callers drive" : "loop thread", cpu1, wall1, 100 * cpu1 / wall1,
                   cpu1 / wall1 > 0.05 ? "  <-- BUSY" : "");
            busy = cpu1 / wall1 > 0.05;
            break;
        }
    }
    (void)t_block;
    (void)secs;
    wd_arm(10, "stop");
    lyra_stack_stop(X);
    lyra_stack_stop(Y);
    if (!drive)
        pthread_join(lx.t, NULL);
    wd_off();
    printf("  X: skb in_use %llu, nic/dev counters: tx_busy %llu\n",
           (unsigned long long)lyra_stack_counter(X, "skb", "in_use"),
           (unsigned long long)lyra_stack_counter(X, "nic", "tx_busy"));
    lyra_stack_destroy(X);
    lyra_stack_destroy(Y);
    return busy;
}
