/* Stop, join and destroy one stack while the other end of its wire keeps
 * sending to it (and has threads blocked in its own calls), then bring a
 * new stack up on the same wire; repeated. Y = copy-dma runs a loop thread,
 * a flooding thread (non-blocking sendto to X) and a thread blocked in
 * recvfrom; X = copy-pio comes and goes, with a loop thread and an echo
 * thread. ASan / TSan must stay quiet; Y's threads must end with ECANCELED.
 *
 *   wire_destroy [ROUNDS]                                                  */
#include "stress.h"

static struct lyra_stack *Y;
static atomic_int flood_on;
static atomic_long flood_sent;

static void *flood(void *arg)
{
    int fd = *(int *)arg;
    struct sockaddr_in to = sin4("192.0.2.2", 7);
    static char buf[1400];
    while (atomic_load(&flood_on)) {
        if (lyra_sendto(Y, fd, buf, 1 + (size_t)(atomic_load(&flood_sent) % 1400), MSG_DONTWAIT,
                        SA(to), sizeof(to)) > 0)
            atomic_fetch_add(&flood_sent, 1);
        else if (errno == ECANCELED)
            break;
        else
            sched_yield();
    }
    return NULL;
}

struct rx {
    int fd;
    pthread_t t;
    int err;
    long got;
};

static void *y_rx(void *arg)
{
    struct rx *r = arg;
    char b[2048];
    for (;;) {
        if (lyra_recv(Y, r->fd, b, sizeof(b), 0) < 0) {
            r->err = errno;
            if (errno == ECANCELED)
                return NULL;
        } else {
            r->got++;
        }
    }
}

static struct lyra_stack *X;
static void *x_echo(void *arg)
{
    int fd = *(int *)arg;
    char b[2048];
    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = lyra_recvfrom(X, fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            if (errno == ECANCELED)
                return NULL;
            continue;
        }
        struct sockaddr_in back = sin4("192.0.2.3", 7001);
        lyra_sendto(X, fd, b, (size_t)n, MSG_DONTWAIT, SA(back), sizeof(back));
    }
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 30;
    atomic_store(&pp.abort_on_two, 1);
    wd_init();
    const char *ov[] = {"eth.arp_timeout=3600s", NULL};
    struct wire_stack wy;
    wire_stack(&wy, "copy-dma.lyra", "wdes", ov);
    Y = wy.s;
    struct loop ly;
    loop_start(&ly, Y, 0);
    int fy = udp_bound(Y, NULL, 7000), fr = udp_bound(Y, NULL, 7001);
    struct rx r = {.fd = fr};
    pthread_create(&r.t, NULL, y_rx, &r);
    atomic_store(&flood_on, 1);
    pthread_t tf;
    pthread_create(&tf, NULL, flood, &fy);
    for (int i = 0; i < rounds; i++) {
        wd_arm(20, "round %d", i);
        struct wire_stack wx;
        wire_stack(&wx, "copy-pio.lyra", "wdes", ov);
        X = wx.s;
        struct loop lx;
        loop_start(&lx, X, 0);
        int fx = udp_bound(X, NULL, 7);
        pthread_t te;
        pthread_create(&te, NULL, x_echo, &fx);
        sleep_ms(20 + i % 50);
        lyra_stack_stop(X);
        pthread_join(te, NULL);
        pthread_join(lx.t, NULL);
        lyra_stack_destroy(X); /* Y keeps sending to this end meanwhile */
        X = NULL;
        sleep_ms(i % 7);
    }
    wd_arm(20, "end");
    lyra_stack_stop(Y);
    atomic_store(&flood_on, 0);
    pthread_join(tf, NULL);
    pthread_join(r.t, NULL);
    pthread_join(ly.t, NULL);
    CHECK(r.err == ECANCELED, "Y's receiver ended with %s", strerror(r.err));
    lyra_stack_destroy(Y);
    wd_off();
    printf("wire_destroy: %d rounds, Y sent %ld datagrams, got %ld echoes back\n", rounds,
           atomic_load(&flood_sent), r.got);
    return 0;
}
