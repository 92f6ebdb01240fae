/* An application thread calling lyra_stack_poll while another thread is
 * blocked in a socket call.
 *
 * X = copy-pio, Y = copy-dma, on one in-process wire; Y runs a loop thread.
 * On X, thread A is an echo server with a blocking recvfrom (no timeout)
 * and thread C calls lyra_stack_poll(X) in a loop, as an application that
 * pumps the stack itself would. The main thread ping-pongs N datagrams from
 * Y to A (recv with SO_RCVTIMEO = 2 s on Y).
 *
 *   app_poll_theft N [drive|loop]
 *     drive: X has no loop thread: A drives X's loop (os wait)    [default]
 *     loop:  X has a loop thread too: A sleeps on the condition
 *
 * When a reply does not come, the program looks at A's socket with a
 * lyra_poll of timeout 0 (which wakes nobody): POLLIN while A is still
 * inside its blocking recvfrom is a lost wake-up. Exit 1 then, 0 when
 * every echo came back. */
#include "stress.h"

#define ADDR_X "192.0.2.2"
#define ADDR_Y "192.0.2.3"

static struct lyra_stack *X, *Y;
static int fd_a;
static atomic_int a_in_recv, stop_all;
static atomic_long a_served, c_steps;

static void *server_a(void *arg)
{
    (void)arg;
    char buf[256];
    while (!atomic_load(&stop_all)) {
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        atomic_store(&a_in_recv, 1);
        ssize_t n = lyra_recvfrom(X, fd_a, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        atomic_store(&a_in_recv, 0);
        if (n < 0) {
            if (errno == ECANCELED)
                break;
            continue;
        }
        lyra_sendto(X, fd_a, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
        atomic_fetch_add(&a_served, 1);
    }
    return NULL;
}

static void *poller_c(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_all)) {
        lyra_stack_poll(X);
        atomic_fetch_add(&c_steps, 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000;
    int with_loop = argc > 2 && !strcmp(argv[2], "loop");
    wd_init();
    struct wire_stack wx, wy;
    const char *ov[] = {"eth.arp_timeout=3600s", NULL};
    wire_stack(&wx, "copy-pio.lyra", "theft", ov);
    wire_stack(&wy, "copy-dma.lyra", "theft", ov);
    X = wx.s;
    Y = wy.s;
    struct loop ly, lx;
    loop_start(&ly, Y, 0);
    if (with_loop)
        loop_start(&lx, X, 0);
    fd_a = udp_bound(X, NULL, 7000);
    int fy = udp_bound(Y, NULL, 7001);
    set_timeo(Y, fy, SO_RCVTIMEO, 2.0);
    pthread_t ta, tc;
    pthread_create(&ta, NULL, server_a, NULL);
    pthread_create(&tc, NULL, poller_c, NULL);
    struct sockaddr_in to = sin4(ADDR_X, 7000);
    int lost = 0;
    double worst = 0;
    long i;
    for (i = 0; i < n && !lost; i++) {
        char out[32], in[64];
        int len = snprintf(out, sizeof(out), "echo %ld", i);
        double t0 = now_s();
        CHECK(lyra_sendto(Y, fy, out, (size_t)len, 0, SA(to), sizeof(to)) == len, "sendto: %s",
              strerror(errno));
        for (;;) {
            ssize_t r = lyra_recv(Y, fy, in, sizeof(in), 0);
            if (r == len && !memcmp(in, out, (size_t)len))
                break;
            if (r >= 0)
                continue; /* a late echo of an earlier datagram */
            CHECK(errno == EAGAIN, "recv on Y: %s", strerror(errno));
            /* no echo within 2 s: where is the datagram? */
            struct lyra_pollfd p = {fd_a, POLLIN, 0};
            int pr = lyra_poll(X, &p, 1, 0);
            printf("echo %ld: no reply in 2 s; A %s its blocking recvfrom; A's socket %s; "
                   "C ran %ld steps\n",
                   i, atomic_load(&a_in_recv) ? "is still inside" : "is not in",
                   pr == 1 && (p.revents & POLLIN) ? "HAS the datagram queued (POLLIN)"
                                                   : "is empty",
                   atomic_load(&c_steps));
            if (pr == 1 && (p.revents & POLLIN) && atomic_load(&a_in_recv)) {
                sleep_ms(3000);
                pr = lyra_poll(X, &p, 1, 0);
                printf("  3 s later: A %s inside recvfrom, POLLIN %s -> LOST WAKE-UP\n",
                       atomic_load(&a_in_recv) ? "still" : "no longer",
                       pr == 1 ? "still set" : "gone");
                lost = 1;
            }
            break;
        }
        double dt = now_s() - t0;
        worst = dt > worst ? dt : worst;
    }
    printf("%s: %ld echoes, %ld served, worst round trip %.1f ms, %s\n",
           with_loop ? "X with a loop thread" : "X driven by its blocked caller", i,
           atomic_load(&a_served), worst * 1000, lost ? "LOST WAKE-UP" : "no stall");
    fflush(stdout);
    wd_arm(10, "teardown");
    atomic_store(&stop_all, 1);
    lyra_stack_stop(X);
    lyra_stack_stop(Y);
    pthread_join(ta, NULL);
    pthread_join(tc, NULL);
    pthread_join(ly.t, NULL);
    if (with_loop)
        pthread_join(lx.t, NULL);
    lyra_close(X, fd_a);
    lyra_close(Y, fy);
    lyra_stack_destroy(X);
    lyra_stack_destroy(Y);
    wd_off();
    return lost;
}
