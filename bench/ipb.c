/* ttcp between two stacks in one process, for callgrind (bench/ipb.sh,
 * issue 11.4: instructions per payload byte).
 *
 *   ipb SENDER RECEIVER WRITES LEN [a:INST.PARAM=V ...] [b:INST.PARAM=V ...]
 *   SENDER, RECEIVER: pio (copy-pio) or dma (copy-dma), static assemblies
 *
 * What lyra-ttcp -t / -r do over one wire (WRITES sends of LEN bytes of a
 * pattern, reads of LEN bytes checked in order), but on one thread that
 * polls both stacks in turn with non-blocking sockets: no loop threads, so
 * the interleaving of the two stacks, and with it the count, does not
 * depend on how valgrind schedules threads. Connection set-up and teardown
 * lie outside transfer_phase, the part to count
 * (--toggle-collect=transfer_phase); the script takes the slope between
 * two WRITES, so what is left of them cancels too. When neither stack has
 * work it sleeps until the earlier deadline (delayed ACK, RTO) instead of
 * spinning through idle poll steps.
 *
 * Prints one line of KEY=VALUE: bytes, the sender's segments and
 * retransmissions, the receiver's segments and ACKs, and the process's CPU
 * (user + sys) over the transfer; exit 3 on wrong data. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lyra/os.h"
#include "lyra/socket.h"
#include "lyra/stack.h"

int lyra_assembly_copy_pio_create(const char *const *overrides, struct lyra_stack **out);
int lyra_assembly_copy_dma_create(const char *const *overrides, struct lyra_stack **out);

#define PERIOD 251 /* lyra-ttcp's pattern: a prime, so a misplaced segment shows */
#define MAX_OVR 32

struct end {
    struct lyra_stack *s;
    int fd;
    const char *ovr[MAX_OVR + 1];
    int n;
};

struct xfer {
    struct end *a, *b;
    long writes, len;
    const uint8_t *pat; /* PERIOD + len bytes */
    uint8_t *rbuf;
    long long sent, rcvd, wrong;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU (user + sys) of this process so far, ns. */
static uint64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

static int make(const char *kind, struct end *e)
{
    if (!strcmp(kind, "pio"))
        return lyra_assembly_copy_pio_create(e->ovr, &e->s);
    if (!strcmp(kind, "dma"))
        return lyra_assembly_copy_dma_create(e->ovr, &e->s);
    fprintf(stderr, "ipb: '%s': pio or dma\n", kind);
    return -1;
}

/* Both stacks one step each; returns 1 when either has work now. */
static int step(struct xfer *x, uint64_t *next)
{
    uint64_t da = lyra_stack_poll(x->a->s);
    uint64_t db = lyra_stack_poll(x->b->s);
    *next = da < db ? da : db;
    return da == 0 || db == 0;
}

/* The sleep of an idle loop: until the earlier deadline, at most 1 ms. */
static void idle(uint64_t next)
{
    uint64_t now = mono_ns();
    if (next <= now)
        return;
    uint64_t d = next - now > 1000000u ? 1000000u : next - now;
    struct timespec ts = {0, (long)d};
    nanosleep(&ts, NULL);
}

static long long check(const struct xfer *x, const uint8_t *buf, long n, long long off)
{
    const uint8_t *p = x->pat + off % PERIOD;
    if (!memcmp(buf, p, (size_t)n))
        return 0;
    long long w = 0;
    for (long i = 0; i < n; i++)
        w += buf[i] != p[i];
    return w;
}

/* The counted part: every byte sent (ttcp's writes of len, each retried
 * from where a short send stopped) and read (reads of len). */
__attribute__((noinline)) static int transfer_phase(struct xfer *x)
{
    long long total = (long long)x->writes * x->len;
    long off = 0; /* into the current write */
    int quiet = 0;
    while (x->rcvd < total) {
        int moved = 0;
        if (x->sent < total) {
            const uint8_t *p = x->pat + x->sent % PERIOD;
            ssize_t n = lyra_send(x->a->s, x->a->fd, p, (size_t)(x->len - off), MSG_DONTWAIT);
            if (n > 0) {
                x->sent += n;
                off = (off + n) % x->len;
                moved = 1;
            } else if (n < 0 && errno != EAGAIN) {
                perror("ipb: send");
                return -1;
            }
        }
        uint64_t next;
        moved |= step(x, &next);
        for (;;) {
            ssize_t n = lyra_recv(x->b->s, x->b->fd, x->rbuf, (size_t)x->len, MSG_DONTWAIT);
            if (n > 0) {
                x->wrong += check(x, x->rbuf, (long)n, x->rcvd);
                x->rcvd += n;
                moved = 1;
                continue;
            }
            if (n == 0 || errno != EAGAIN) {
                fprintf(stderr, "ipb: recv ended at %lld of %lld bytes\n", x->rcvd, total);
                return -1;
            }
            break;
        }
        /* idle twice in a row (a frame one stack sent the other has
         * polled since): wait for a timer */
        quiet = moved ? 0 : quiet + 1;
        if (quiet >= 2)
            idle(next);
    }
    return 0;
}

static int run_until(struct end *a, struct end *b, int (*done)(void *), void *ctx)
{
    for (long i = 0; i < 200000; i++) {
        if (done(ctx))
            return 0;
        uint64_t da = lyra_stack_poll(a->s), db = lyra_stack_poll(b->s);
        if (da && db)
            idle(da < db ? da : db);
    }
    return -1;
}

struct acc {
    struct end *b;
    int lfd;
};

static int accepted(void *ctx)
{
    struct acc *c = ctx;
    c->b->fd = lyra_accept(c->b->s, c->lfd, NULL, NULL);
    return c->b->fd >= 0;
}

static int closed(void *ctx)
{
    struct end *b = ctx;
    uint8_t buf[256];
    return lyra_recv(b->s, b->fd, buf, sizeof(buf), MSG_DONTWAIT) == 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s pio|dma pio|dma WRITES LEN [a:INST.PARAM=V ...] [b:...]\n",
                argv[0]);
        return 1;
    }
    static char link[64];
    snprintf(link, sizeof(link), "dev.link=wire:ipb%ld", (long)getpid());
    struct end a = {.ovr = {link, "os.seed=1", "ip.addr=192.0.2.2/24", "dev.mac=02:00:00:00:00:02"},
                    .n = 4};
    struct end b = {.ovr = {link, "os.seed=2", "ip.addr=192.0.2.3/24", "dev.mac=02:00:00:00:00:03"},
                    .n = 4};
    for (int i = 5; i < argc; i++) {
        struct end *e = !strncmp(argv[i], "a:", 2) ? &a : !strncmp(argv[i], "b:", 2) ? &b : NULL;
        if (!e || e->n >= MAX_OVR) {
            fprintf(stderr, "ipb: '%s': a:INST.PARAM=V or b:INST.PARAM=V\n", argv[i]);
            return 1;
        }
        e->ovr[e->n++] = argv[i] + 2;
    }
    struct xfer x = {.a = &a, .b = &b, .writes = atol(argv[3]), .len = atol(argv[4])};
    if (x.writes <= 0 || x.len <= 0 || x.len > (1 << 20)) {
        fprintf(stderr, "ipb: WRITES > 0, 0 < LEN <= 1 MiB\n");
        return 1;
    }
    if (make(argv[2], &b) || make(argv[1], &a) || lyra_stack_start(b.s) || lyra_stack_start(a.s))
        return 2;
    uint8_t *pat = malloc((size_t)(PERIOD + x.len));
    x.rbuf = malloc((size_t)x.len);
    if (!pat || !x.rbuf)
        return 2;
    for (long i = 0; i < PERIOD + x.len; i++)
        pat[i] = (uint8_t)(i % PERIOD);
    x.pat = pat;

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(5001)};
    struct acc ac = {.b = &b, .lfd = lyra_socket(b.s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)};
    if (ac.lfd < 0 || lyra_bind(b.s, ac.lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
        lyra_listen(b.s, ac.lfd, 1)) {
        perror("ipb: listen");
        return 2;
    }
    inet_pton(AF_INET, "192.0.2.3", &sa.sin_addr);
    a.fd = lyra_socket(a.s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (a.fd < 0 || (lyra_connect(a.s, a.fd, (struct sockaddr *)&sa, sizeof(sa)) &&
                     errno != EINPROGRESS)) {
        perror("ipb: connect");
        return 2;
    }
    if (run_until(&a, &b, accepted, &ac)) {
        fprintf(stderr, "ipb: no connection\n");
        return 2;
    }
    lyra_fcntl(b.s, b.fd, F_SETFL, O_NONBLOCK);
    uint64_t c0 = cpu_ns();
    int r = transfer_phase(&x);
    uint64_t cpu = cpu_ns() - c0;
    lyra_shutdown(a.s, a.fd, SHUT_WR);
    if (!r && run_until(&a, &b, closed, &b))
        fprintf(stderr, "ipb: no FIN\n");
    printf("bytes=%lld wrong=%lld a_tx_segments=%llu a_tx_bytes=%llu a_tx_retrans_segs=%llu "
           "b_rx_segments=%llu b_acks_sent=%llu cpu_ns=%llu\n",
           x.rcvd, x.wrong, (unsigned long long)lyra_stack_counter(a.s, "tcp", "tx_segments"),
           (unsigned long long)lyra_stack_counter(a.s, "tcp", "tx_bytes"),
           (unsigned long long)lyra_stack_counter(a.s, "tcp", "tx_retrans_segs"),
           (unsigned long long)lyra_stack_counter(b.s, "tcp", "rx_segments"),
           (unsigned long long)lyra_stack_counter(b.s, "tcp", "acks_sent"), (unsigned long long)cpu);
    lyra_close(a.s, a.fd);
    lyra_close(b.s, b.fd);
    lyra_close(b.s, ac.lfd);
    lyra_stack_destroy(a.s);
    lyra_stack_destroy(b.s);
    free(pat);
    free(x.rbuf);
    if (r)
        return 2;
    return x.wrong ? 3 : 0;
}
