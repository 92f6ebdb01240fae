/* A receive that frees a buffer must wake a sender blocked for want of one.
 *
 * X = copy-pio with a small pool (skb.count=24), Y = copy-dma, on a wire,
 * each with a loop thread ("loop", default) or X without one ("drive": the
 * blocked sender drives X's loop). Y sends datagrams of LEN bytes to a
 * socket R on X that nobody reads, until X's pool is empty (R's queue holds
 * every buffer). A thread S on X then blocks in sendto (no buffer: EAGAIN
 * from udp, so the call waits), or in lyra_poll(POLLOUT) with "poll".
 * The main thread takes one datagram from R (MSG_DONTWAIT), which frees a
 * buffer; S must complete at once.
 *
 *   zero_len_recv LEN [loop|drive] [send|poll]
 * LEN 0 (zero-length datagrams, recv returns 0) or 1. Exit 1 when S is
 * still blocked 3 s after the buffer came back. */
#include "stress.h"

#define ADDR_X "192.0.2.2"
#define ADDR_Y "192.0.2.3"

static struct lyra_stack *X;
static int fs, use_poll;
static atomic_int s_done;
static double s_end;
static long s_ret;
static int s_err;

static void *sender(void *arg)
{
    (void)arg;
    struct sockaddr_in to = sin4(ADDR_Y, 7101);
    if (use_poll) {
        struct lyra_pollfd p = {fs, POLLOUT, 0};
        s_ret = lyra_poll(X, &p, 1, -1);
    } else {
        s_ret = lyra_sendto(X, fs, "after", 5, 0, SA(to), sizeof(to));
    }
    s_err = errno;
    s_end = now_s();
    atomic_store(&s_done, 1);
    return NULL;
}

int main(int argc, char **argv)
{
    size_t len = argc > 1 ? (size_t)atoi(argv[1]) : 0;
    int drive = argc > 2 && !strcmp(argv[2], "drive");
    use_poll = argc > 3 && !strcmp(argv[3], "poll");
    wd_init();
    struct wire_stack wx, wy;
    const char *ovx[] = {"eth.arp_timeout=3600s", "skb.count=24", "udp.rx_queue=1000", NULL};
    const char *ovy[] = {"eth.arp_timeout=3600s", NULL};
    wire_stack(&wx, "copy-pio.lyra", "zlen", ovx);
    wire_stack(&wy, "copy-dma.lyra", "zlen", ovy);
    X = wx.s;
    struct lyra_stack *Y = wy.s;
    struct loop lx, ly;
    loop_start(&ly, Y, 0);
    /* drive: X gets a loop thread for the set-up only (run_for 1.5 s) */
    loop_start(&lx, X, drive ? 1500000000u : 0);
    int fr = udp_bound(X, NULL, 7100);
    fs = udp_bound(X, NULL, 7102);
    int fy = udp_bound(Y, NULL, 7101);
    set_timeo(Y, fy, SO_RCVTIMEO, 2);
    /* resolve both ways first */
    struct sockaddr_in to_y = sin4(ADDR_Y, 7101), to_r = sin4(ADDR_X, 7100);
    char buf[64];
    set_timeo(X, fs, SO_SNDTIMEO, 2);
    CHECK(lyra_sendto(X, fs, "hi", 2, 0, SA(to_y), sizeof(to_y)) == 2, "hi: %s", strerror(errno));
    CHECK(lyra_recv(Y, fy, buf, sizeof(buf), 0) == 2, "Y never got hi: %s", strerror(errno));
    set_timeo(X, fs, SO_SNDTIMEO, 0);
    /* fill X's pool through R's queue */
    static char payload[16];
    for (int i = 0; i < 60; i++) {
        CHECK(lyra_sendto(Y, fy, payload, len, 0, SA(to_r), sizeof(to_r)) == (ssize_t)len,
              "fill: %s", strerror(errno));
        sleep_ms(2);
    }
    sleep_ms(300);
    if (drive) {
        pthread_join(lx.t, NULL); /* X's set-up loop is over */
        lyra_stack_poll(X);
    }
    struct lyra_pollfd p = {fs, POLLOUT, 0};
    int pr = lyra_poll(X, &p, 1, 0);
    CHECK(pr == 0, "X's pool is not empty (POLLOUT on a UDP socket), the test cannot run");
    pthread_t ts;
    pthread_create(&ts, NULL, sender, NULL);
    sleep_ms(300);
    CHECK(!atomic_load(&s_done), "S did not block: %ld (%s)", s_ret, strerror(s_err));
    /* free one buffer */
    double t0 = now_s();
    ssize_t r = lyra_recv(X, fr, buf, sizeof(buf), MSG_DONTWAIT);
    CHECK(r == (ssize_t)len, "recv from R: %zd (%s)", r, strerror(errno));
    pr = lyra_poll(X, &p, 1, 0);
    printf("LEN=%zu, X %s, S blocked in %s: recv returned %zd; a buffer is free now (POLLOUT %s)\n",
           len, drive ? "driven by S" : "with a loop thread", use_poll ? "lyra_poll(POLLOUT)" : "sendto",
           r, pr == 1 ? "set" : "NOT set");
    for (int i = 0; i < 300 && !atomic_load(&s_done); i++)
        sleep_ms(10);
    int lost = !atomic_load(&s_done);
    if (lost)
        printf("  S is still blocked 3 s later -> LOST WAKE-UP\n");
    else
        printf("  S returned %ld after %.1f ms\n", s_ret, (s_end - t0) * 1000);
    fflush(stdout);
    wd_arm(10, "teardown");
    lyra_stack_stop(X);
    lyra_stack_stop(Y);
    pthread_join(ts, NULL);
    if (lost)
        printf("  after lyra_stack_stop: S returned %ld (%s)\n", s_ret, strerror(s_err));
    pthread_join(ly.t, NULL);
    if (!drive)
        pthread_join(lx.t, NULL);
    lyra_stack_destroy(X);
    lyra_stack_destroy(Y);
    wd_off();
    return lost;
}
