/* Wake-ups of blocked socket calls (issue 8.3), counted by the accounting
 * proxy on sock's l4 binding (calls into the transport), so the figures do
 * not depend on timing. Two copy stacks on an in-process wire: X
 * (copy-pio, 192.0.2.2, sock.l4 accounted) receives, Y (copy-dma,
 * 192.0.2.3) sends; both have a loop thread.
 *
 *   wakeups recv32          32 threads blocked in recv on 32 UDP sockets of
 *                           X, 200 datagrams to one of them: transport recv
 *                           calls per datagram
 *   wakeups poll N          a lyra_poll on N idle sockets + 1, while 200
 *                           datagrams go to a socket it does not watch, then
 *                           one to the watched one: transport poll calls
 *                           per datagram and the poller's CPU
 * Built with the tree (build/bench/wakeups); bench/wakeups.sh runs it. */

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lyra/socket.h"
#include "lyra/stack.h"

#define DIE(...) (fprintf(stderr, "wakeups: " __VA_ARGS__), fputc('\n', stderr), exit(2))
#define N_DGRAMS 200

static struct lyra_stack *X, *Y;

static void sleep_ms(double ms)
{
    struct timespec t = {(time_t)(ms / 1000), (long)((ms - (double)(long)(ms / 1000) * 1000) * 1e6)};
    nanosleep(&t, NULL);
}

static double thread_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* copy-pio.lyra with sock's bindings accounted, written to a temp file. */
static struct lyra_stack *load(const char *manifest, int account, const char *const *ov)
{
    const char *src = getenv("LYRA_SOURCE_DIR");
    char path[1024], tmp[128];
    snprintf(path, sizeof(path), "%s/assemblies/%s", src ? src : ".", manifest);
    if (account) {
        FILE *f = fopen(path, "r");
        if (!f)
            DIE("cannot read %s", path);
        static char text[65536];
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[n] = 0;
        char *sock = strstr(text, "component = socket\n");
        if (!sock)
            DIE("%s has no socket instance", path);
        snprintf(tmp, sizeof(tmp), "/tmp/lyra-wakeups-%d.lyra", (int)getpid());
        f = fopen(tmp, "w");
        if (!f)
            DIE("cannot write %s", tmp);
        sock += strlen("component = socket\n");
        fwrite(text, 1, (size_t)(sock - text), f);
        fputs("account = l4\n", f);
        fputs(sock, f);
        fclose(f);
        snprintf(path, sizeof(path), "%s", tmp);
    }
    struct lyra_stack *s;
    int r = lyra_stack_load(path, ov, &s);
    if (account)
        unlink(path);
    if (r || lyra_stack_start(s))
        DIE("cannot load or start %s (LYRA_COMPONENT_PATH, LYRA_SOURCE_DIR)", manifest);
    return s;
}

struct calls {
    const char *op;
    uint64_t n;
};

static void count_binding(void *ctx, const char *user, const char *slot, const char *prov,
                          const char *iface, const char *op, int is_event, uint64_t calls,
                          uint64_t bytes, uint64_t ns)
{
    struct calls *c = ctx;
    (void)iface, (void)bytes, (void)ns;
    if (!strcmp(user, "sock") && !strcmp(slot, "l4") && !strcmp(prov, "udp") && !is_event &&
        !strcmp(op, c->op))
        c->n += calls;
}

/* Calls of sock into udp's op so far. */
static uint64_t l4_calls(const char *op)
{
    struct calls c = {op, 0};
    struct lyra_stats_visitor v = {.binding = count_binding, .ctx = &c};
    lyra_stack_stats(X, &v);
    return c.n;
}

static void *loop_main(void *arg)
{
    lyra_stack_run(arg);
    return NULL;
}

static struct sockaddr_in sin4(const char *ip, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = inet_addr(ip);
    return a;
}

static int udp_bound(struct lyra_stack *s, uint16_t port)
{
    int fd = lyra_socket(s, AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = sin4("0.0.0.0", port);
    if (fd < 0 || lyra_bind(s, fd, (struct sockaddr *)&a, sizeof(a)))
        DIE("socket/bind %u: %s", port, strerror(errno));
    return fd;
}

/* ---- recv32 ---- */

struct rx {
    int fd;
    atomic_long got;
};

static void *rx_main(void *arg)
{
    struct rx *r = arg;
    char buf[64];
    while (lyra_recv(X, r->fd, buf, sizeof(buf), 0) >= 0)
        atomic_fetch_add(&r->got, 1);
    return NULL;
}

static void recv32(int fy)
{
    enum { T = 32 };
    static struct rx rx[T];
    pthread_t t[T];
    for (int i = 0; i < T; i++) {
        rx[i].fd = udp_bound(X, (uint16_t)(9000 + i));
        pthread_create(&t[i], NULL, rx_main, &rx[i]);
    }
    sleep_ms(300); /* every thread blocked in recv */
    uint64_t c0 = l4_calls("recv");
    struct sockaddr_in to = sin4("192.0.2.2", 9000);
    for (int i = 0; i < N_DGRAMS; i++) {
        if (lyra_sendto(Y, fy, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) != 1)
            DIE("sendto: %s", strerror(errno));
        /* one at a time: each datagram is a wake-up of its own */
        for (int k = 0; k < 2000 && atomic_load(&rx[0].got) <= i; k++)
            sleep_ms(0.05);
    }
    sleep_ms(200);
    uint64_t calls = l4_calls("recv") - c0;
    long got = atomic_load(&rx[0].got);
    printf("recv32: %d datagrams received of %d; transport recv calls %llu; per datagram %.2f\n",
           (int)got, N_DGRAMS, (unsigned long long)calls, got ? (double)calls / (double)got : 0.0);
    lyra_stack_stop(X);
    for (int i = 0; i < T; i++)
        pthread_join(t[i], NULL);
}

/* ---- poll N ---- */

static struct lyra_pollfd *pfd;
static unsigned npfd;
static double poll_cpu;
static int poll_ret;

static void *poller(void *arg)
{
    (void)arg;
    double c = thread_cpu_s();
    poll_ret = lyra_poll(X, pfd, npfd, -1);
    poll_cpu = thread_cpu_s() - c;
    return NULL;
}

static struct rx other;

static void poll_n(int fy, unsigned n)
{
    npfd = n + 1;
    pfd = calloc(npfd, sizeof(*pfd));
    for (unsigned i = 0; i < npfd; i++)
        pfd[i] = (struct lyra_pollfd){udp_bound(X, (uint16_t)(10000 + i)), POLLIN, 0};
    other.fd = udp_bound(X, 9999); /* not watched: a thread reads it */
    pthread_t to, tp;
    pthread_create(&to, NULL, rx_main, &other);
    sleep_ms(100);
    uint64_t c0 = l4_calls("poll");
    pthread_create(&tp, NULL, poller, NULL);
    sleep_ms(200); /* the poller scanned once and sleeps */
    uint64_t c1 = l4_calls("poll");
    struct sockaddr_in a = sin4("192.0.2.2", 9999);
    for (int i = 0; i < N_DGRAMS; i++) {
        if (lyra_sendto(Y, fy, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)) != 1)
            DIE("sendto: %s", strerror(errno));
        for (int k = 0; k < 2000 && atomic_load(&other.got) <= i; k++)
            sleep_ms(0.05);
    }
    sleep_ms(100);
    uint64_t c2 = l4_calls("poll");
    a = sin4("192.0.2.2", (uint16_t)(10000 + n)); /* the last watched one */
    lyra_sendto(Y, fy, "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
    pthread_join(tp, NULL);
    uint64_t c3 = l4_calls("poll");
    printf("poll %u: first scan %llu transport poll calls; while %d datagrams went to another "
           "socket %llu (%.2f per datagram); the wake-up that ended it %llu; returned %d; poller CPU "
           "%.1f us per datagram\n",
           n, (unsigned long long)(c1 - c0), (int)atomic_load(&other.got),
           (unsigned long long)(c2 - c1), (double)(c2 - c1) / N_DGRAMS,
           (unsigned long long)(c3 - c2), poll_ret, poll_cpu * 1e6 / N_DGRAMS);
    lyra_stack_stop(X);
    pthread_join(to, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "recv32") && strcmp(argv[1], "poll")))
        DIE("usage: wakeups recv32 | wakeups poll N");
    unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
    char link[64], fds[64], socks[64];
    snprintf(link, sizeof(link), "dev.link=wire:wakeups-%d", (int)getpid());
    snprintf(fds, sizeof(fds), "sock.max_fds=%u", n + 64);
    snprintf(socks, sizeof(socks), "udp.max_sockets=%u", n + 64);
    const char *ovx[] = {link, fds, socks, "eth.arp_timeout=3600s", NULL};
    const char *ovy[] = {link, "eth.arp_timeout=3600s", NULL};
    X = load("copy-pio.lyra", 1, ovx);
    Y = load("copy-dma.lyra", 0, ovy);
    pthread_t lx, ly;
    pthread_create(&lx, NULL, loop_main, X);
    pthread_create(&ly, NULL, loop_main, Y);
    int fy = udp_bound(Y, 7000);
    /* resolve ARP both ways before counting */
    int fx = udp_bound(X, 7001);
    struct sockaddr_in ax = sin4("192.0.2.2", 7001), ay = sin4("192.0.2.3", 7000);
    char b[8];
    lyra_sendto(Y, fy, "a", 1, 0, (struct sockaddr *)&ax, sizeof(ax));
    if (lyra_recv(X, fx, b, sizeof(b), 0) != 1)
        DIE("no datagram through the wire");
    lyra_sendto(X, fx, "a", 1, 0, (struct sockaddr *)&ay, sizeof(ay));
    if (lyra_recv(Y, fy, b, sizeof(b), 0) != 1)
        DIE("no datagram back through the wire");
    if (!strcmp(argv[1], "recv32"))
        recv32(fy);
    else
        poll_n(fy, n);
    lyra_stack_stop(X);
    lyra_stack_stop(Y);
    pthread_join(lx, NULL);
    pthread_join(ly, NULL);
    lyra_stack_destroy(X);
    lyra_stack_destroy(Y);
    return 0;
}
