/* Links of os_posix impair what they receive (os 2.1, the rx_ fields of
 * struct lyra_link_params): loss, duplication, reordering, corruption,
 * delay, each seeded from os.seed on a stream of its own (what the end
 * sends does not move its receive draws), counted in link_rx_*, composed
 * with the sender's impairment, and captured as what the stack got. Wire
 * names carry the PID. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lt.h"
#include "os_posix.h"

struct os {
    struct lt_inst *inst;
    const struct lyra_os_ops *ops;
    void *self;
};

static struct os os_up(const char *seed)
{
    struct os o;
    char sp[64];
    snprintf(sp, sizeof(sp), "seed=%s", seed ? seed : "1");
    const char *params[] = {seed ? sp : NULL, NULL};
    o.inst = lt_create(&lyra_component_os_posix, params);
    cr_assert_not_null(o.inst);
    cr_assert_eq(lt_start(o.inst), 0);
    o.ops = lt_ops(o.inst, LYRA_OS_IFACE);
    cr_assert_not_null(o.ops);
    o.self = o.inst->self;
    return o;
}

static const char *wname(const char *tag)
{
    static char buf[4][64];
    static int i;
    char *b = buf[i++ % 4];
    snprintf(b, 64, "wire:lr%d-%s", (int)getpid(), tag);
    return b;
}

static struct lyra_link *lopen(struct os *o, const char *spec, const struct lyra_link_params *p)
{
    struct lyra_link *l = NULL;
    int r = o->ops->link_open(o->self, spec, p, &l);
    cr_assert_eq(r, 0, "link_open(%s): %s", spec, strerror(-r));
    return l;
}

/* frame i: broadcast, ethertype 0x88b5, the sequence number, a pattern */
static size_t mkframe(uint8_t *f, uint32_t i, size_t len)
{
    memset(f, 0xff, 6);
    memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    memcpy(f + 14, &i, 4);
    for (size_t k = 18; k < len; k++)
        f[k] = (uint8_t)(k ^ i);
    return len;
}

static uint32_t seqof(const uint8_t *f)
{
    uint32_t i;
    memcpy(&i, f + 14, 4);
    return i;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

struct run {
    uint32_t got[4096];
    unsigned n;                       /* frames b's stack got */
    uint64_t tx_loss, b_tx_loss, rx_loss, rx_dup, rx_reorder, rx_corrupt, rx, tx;
};

/* a sends n frames of 100 bytes with impairment pa; b receives them
 * through rx impairment pb (seeded sb) and, when b_sends, sends a frame
 * back through its own tx impairment after each one it gets (so its tx
 * stream is drawn between its rx draws). */
static void run_rx(const char *sb, const struct lyra_link_params *pa,
                   const struct lyra_link_params *pb, unsigned n, int b_sends, struct run *out)
{
    struct os a = os_up("7"), b = os_up(sb);
    const char *nm = wname("rx");
    struct lyra_link *la = lopen(&a, nm, pa), *lb = lopen(&b, nm, pb);
    uint8_t f[128], g[2048];
    memset(out, 0, sizeof(*out));
    /* in bursts of 50, drained at once: a frame held for reordering is
     * released by the frames behind it, not by its 10 ms running out on a
     * loaded machine */
    for (uint32_t i = 0; i <= n; i += 50) {
        if (i < n) {
            for (uint32_t k = i; k < i + 50 && k < n; k++) {
                mkframe(f, k, 100);
                cr_assert_eq(a.ops->link_send(a.self, la, f, 100), 0);
            }
        } else {
            sleep_ms(20); /* the last held frame goes after 10 ms */
            b.ops->run_timers(b.self);
        }
        int r;
        while ((r = b.ops->link_recv(b.self, lb, g, sizeof(g))) > 0) {
            cr_assert_eq(r, 100);
            if (out->n < 4096)
                out->got[out->n++] = seqof(g);
            if (b_sends)
                b.ops->link_send(b.self, lb, g, (size_t)r);
        }
        while (a.ops->link_recv(a.self, la, g, sizeof(g)) > 0)
            ;
    }
    out->tx_loss = lt_stat(a.inst, "link_loss");
    out->rx_loss = lt_stat(b.inst, "link_rx_loss");
    out->rx_dup = lt_stat(b.inst, "link_rx_dup");
    out->rx_reorder = lt_stat(b.inst, "link_rx_reorder");
    out->rx_corrupt = lt_stat(b.inst, "link_rx_corrupt");
    out->rx = lt_stat(b.inst, "link_rx");
    out->tx = lt_stat(a.inst, "link_tx");
    cr_assert_eq(lt_stat(a.inst, "link_rx_loss") + lt_stat(a.inst, "link_rx_dup"), 0,
                 "a's receive is not impaired");
    out->b_tx_loss = lt_stat(b.inst, "link_loss");
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    lt_destroy(a.inst);
    lt_destroy(b.inst);
}

Test(links_rx, seeded_rx_loss_is_reproducible_within_bounds_and_apart_from_tx)
{
    struct lyra_link_params pb = {.rx_loss_ppm = 100000}; /* 10% */
    struct lyra_link_params pbt = {.rx_loss_ppm = 100000, .loss_ppm = 500000};
    static struct run r1, r2, r3, r4;
    run_rx("42", NULL, &pb, 2000, 0, &r1);
    run_rx("42", NULL, &pb, 2000, 0, &r2);
    run_rx("43", NULL, &pb, 2000, 0, &r3);
    run_rx("42", NULL, &pbt, 2000, 1, &r4); /* b also sends, losing half */
    cr_assert_eq(r1.n + r1.rx_loss, 2000, "every frame either lost or delivered");
    cr_assert_eq(r1.rx, r1.n, "link_rx counts what the stack got");
    /* 10% of 2000: mean 200, sd 13.4; the window is 4.5 sd */
    cr_assert(r1.rx_loss >= 140 && r1.rx_loss <= 260, "lost %llu of 2000",
              (unsigned long long)r1.rx_loss);
    cr_assert_eq(r1.n, r2.n);
    cr_assert_arr_eq(r1.got, r2.got, r1.n * sizeof(uint32_t), "the same seed loses the same");
    cr_assert(r1.n != r3.n || memcmp(r1.got, r3.got, r1.n * sizeof(uint32_t)),
              "another seed loses other frames");
    cr_assert_eq(r1.b_tx_loss, 0);
    cr_assert_gt(r4.b_tx_loss, 100, "b drew on its tx stream (%llu lost)",
                 (unsigned long long)r4.b_tx_loss);
    cr_assert_eq(r4.n, r1.n);
    cr_assert_arr_eq(r1.got, r4.got, r1.n * sizeof(uint32_t),
                     "the end's own sending (and its tx draws) does not move its rx draws");
    for (unsigned i = 1; i < r1.n; i++)
        cr_assert_gt(r1.got[i], r1.got[i - 1], "loss alone keeps the order");
}

Test(links_rx, rx_dup_delivers_copies_after_their_original)
{
    struct lyra_link_params pb = {.rx_dup_ppm = 250000};
    static struct run r;
    run_rx("5", NULL, &pb, 1000, 0, &r);
    cr_assert_eq(r.n, 1000 + r.rx_dup);
    cr_assert(r.rx_dup >= 190 && r.rx_dup <= 310, "25%% of 1000: %llu",
              (unsigned long long)r.rx_dup);
    unsigned seen[1000] = {0};
    for (unsigned i = 0; i < r.n; i++) {
        cr_assert_lt(r.got[i], 1000);
        seen[r.got[i]]++;
        if (i)
            cr_assert_geq(r.got[i], r.got[i - 1]);
    }
    for (unsigned i = 0; i < 1000; i++)
        cr_assert(seen[i] == 1 || seen[i] == 2);
}

Test(links_rx, rx_reorder_changes_the_order_and_loses_nothing)
{
    struct lyra_link_params pb = {.rx_reorder_ppm = 200000, .rx_reorder_depth = 3};
    static struct run r;
    run_rx("9", NULL, &pb, 1000, 0, &r);
    cr_assert_eq(r.n, 1000, "nothing lost");
    unsigned seen[1000] = {0}, inversions = 0;
    for (unsigned i = 0; i < r.n; i++) {
        cr_assert_lt(r.got[i], 1000);
        seen[r.got[i]]++;
        if (i && r.got[i] < r.got[i - 1]) {
            inversions++;
            /* behind depth frames; fewer when its 10 ms ran out first */
            cr_assert_leq(r.got[i - 1] - r.got[i], 3, "held behind at most depth frames");
        }
    }
    for (unsigned i = 0; i < 1000; i++)
        cr_assert_eq(seen[i], 1);
    cr_assert_leq(inversions, r.rx_reorder, "a held frame is one inversion at most");
    cr_assert_geq(inversions, r.rx_reorder * 3 / 4, "%u inversions for %llu held", inversions,
                  (unsigned long long)r.rx_reorder);
    cr_assert(r.rx_reorder >= 80 && r.rx_reorder <= 200, "held %llu",
              (unsigned long long)r.rx_reorder);
}

Test(links_rx, rx_corrupt_flips_exactly_one_byte_of_what_arrives)
{
    struct os a = os_up("1"), b = os_up("3");
    const char *nm = wname("corrupt");
    struct lyra_link_params pb = {.rx_corrupt_ppm = 1000000};
    struct lyra_link *la = lopen(&a, nm, NULL), *lb = lopen(&b, nm, &pb);
    uint8_t f[200], g[2048];
    for (uint32_t i = 0; i < 50; i++) {
        mkframe(f, i, 200);
        cr_assert_eq(a.ops->link_send(a.self, la, f, 200), 0);
        cr_assert_eq(b.ops->link_recv(b.self, lb, g, sizeof(g)), 200);
        unsigned diff = 0;
        for (unsigned k = 0; k < 200; k++)
            diff += f[k] != g[k];
        cr_assert_eq(diff, 1, "frame %u: %u bytes differ", i, diff);
    }
    cr_assert_eq(lt_stat(b.inst, "link_rx_corrupt"), 50);
    cr_assert_eq(lt_stat(a.inst, "link_corrupt"), 0);
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    lt_destroy(a.inst);
    lt_destroy(b.inst);
}

Test(links_rx, rx_delay_holds_received_frames_and_its_timer_wakes_the_loop)
{
    struct os a = os_up(NULL), b = os_up(NULL);
    const char *nm = wname("delay");
    struct lyra_link_params pb = {.rx_delay_ns = 50000000};
    struct lyra_link *la = lopen(&a, nm, NULL), *lb = lopen(&b, nm, &pb);
    uint8_t f[60], g[64];
    uint64_t t0 = b.ops->now_ns(b.self);
    for (uint32_t i = 0; i < 3; i++) {
        mkframe(f, i, 60);
        cr_assert_eq(a.ops->link_send(a.self, la, f, 60), 0);
    }
    long early = b.ops->link_recv(b.self, lb, g, sizeof(g));
    /* a thread paused past the delay may get the first frame here: only
     * before it is that a failure */
    if (b.ops->now_ns(b.self) - t0 < 50000000u)
        cr_assert_eq(early, 0, "not before the delay");
    /* the frames left the medium: what wakes b's wait now is the timer */
    uint64_t next = b.ops->run_timers(b.self);
    cr_assert_leq(next, b.ops->now_ns(b.self) + 50000000, "a timer is due with the first frame");
    unsigned k = 0;
    if (early > 0) {
        cr_assert_eq(seqof(g), 0);
        k = 1;
    }
    while (k < 3 && b.ops->now_ns(b.self) - t0 < 2000000000ull) {
        b.ops->wait(b.self, b.ops->run_timers(b.self));
        while (k < 3 && b.ops->link_recv(b.self, lb, g, sizeof(g)) > 0) {
            cr_assert_eq(seqof(g), k);
            cr_assert_geq(b.ops->now_ns(b.self) - t0, 50000000u);
            k++;
        }
    }
    cr_assert_eq(k, 3);
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    lt_destroy(a.inst);
    lt_destroy(b.inst);
}

Test(links_rx, tx_and_rx_loss_compose)
{
    struct lyra_link_params pa = {.loss_ppm = 300000}, pb = {.rx_loss_ppm = 300000};
    static struct run r;
    run_rx("11", &pa, &pb, 2000, 0, &r);
    cr_assert_eq(r.tx, 2000 - r.tx_loss, "a put on the medium what it did not lose");
    cr_assert_eq(r.n + r.rx_loss, r.tx, "b lost or got every frame that arrived");
    /* 0.7 * 0.7 = 49% arrive: mean 980, sd 22 */
    cr_assert(r.n >= 880 && r.n <= 1080, "%u of 2000 arrived", r.n);
    cr_assert(r.rx_loss >= 300 && r.rx_loss <= 540, "b lost %llu of %llu",
              (unsigned long long)r.rx_loss, (unsigned long long)r.tx);
}

Test(links_rx, open_refuses_rx_rates_over_100_percent)
{
    struct os a = os_up(NULL);
    struct lyra_link *l = NULL;
    struct lyra_link_params p = {.rx_dup_ppm = 1000001};
    cr_assert_eq(a.ops->link_open(a.self, wname("bad"), &p, &l), -EINVAL);
    cr_assert_null(l);
    lt_destroy(a.inst);
}

/* pcap records: count of frames whose ethertype is 0x88b5 */
static unsigned pcap_frames(const char *path)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp);
    uint8_t hdr[24], rec[16], f[2048];
    cr_assert_eq(fread(hdr, 1, 24, fp), 24);
    unsigned n = 0;
    while (fread(rec, 1, 16, fp) == 16) {
        uint32_t incl;
        memcpy(&incl, rec + 8, 4);
        cr_assert_leq(incl, sizeof(f));
        cr_assert_eq(fread(f, 1, incl, fp), incl);
        n += incl >= 14 && f[12] == 0x88 && f[13] == 0xb5;
    }
    fclose(fp);
    return n;
}

Test(links_rx, the_capture_shows_what_the_stack_got)
{
    char path[128];
    snprintf(path, sizeof(path), "/tmp/lyra-lr-%d.pcap", (int)getpid());
    struct lyra_link_params pb = {.rx_loss_ppm = 400000, .rx_dup_ppm = 200000, .pcap = path};
    struct os a = os_up("1"), b = os_up("8");
    const char *nm = wname("pcap");
    struct lyra_link *la = lopen(&a, nm, NULL), *lb = lopen(&b, nm, &pb);
    uint8_t f[100], g[2048];
    unsigned got = 0;
    for (uint32_t i = 0; i < 300; i++) {
        mkframe(f, i, 100);
        cr_assert_eq(a.ops->link_send(a.self, la, f, 100), 0);
        while (b.ops->link_recv(b.self, lb, g, sizeof(g)) > 0)
            got++;
    }
    b.ops->link_close(b.self, lb);
    a.ops->link_close(a.self, la);
    cr_assert_eq(lt_stat(b.inst, "link_rx"), got);
    cr_assert_eq(got, 300 - lt_stat(b.inst, "link_rx_loss") + lt_stat(b.inst, "link_rx_dup"));
    cr_assert_eq(pcap_frames(path), got, "the capture holds the frames the stack got");
    unlink(path);
    lt_destroy(a.inst);
    lt_destroy(b.inst);
}

Test(links_rx, rx_rate_serializes_what_arrives)
{
    struct os a = os_up(NULL), b = os_up(NULL);
    const char *nm = wname("rate");
    struct lyra_link_params pb = {.rx_rate_bps = 1000000}; /* 1250 B: 10 ms each */
    struct lyra_link *la = lopen(&a, nm, NULL), *lb = lopen(&b, nm, &pb);
    uint8_t f[1250], g[2048];
    uint64_t t0 = b.ops->now_ns(b.self), at[10];
    for (uint32_t i = 0; i < 10; i++) {
        mkframe(f, i, sizeof(f));
        cr_assert_eq(a.ops->link_send(a.self, la, f, sizeof(f)), 0);
    }
    unsigned k = 0;
    while (k < 10 && b.ops->now_ns(b.self) - t0 < 3000000000ull) {
        uint64_t next = b.ops->run_timers(b.self), cap = b.ops->now_ns(b.self) + 1000000;
        while (k < 10 && b.ops->link_recv(b.self, lb, g, sizeof(g)) > 0) {
            cr_assert_eq(seqof(g), k);
            at[k++] = b.ops->now_ns(b.self) - t0;
        }
        b.ops->wait(b.self, next < cap ? next : cap);
    }
    cr_assert_eq(k, 10);
    cr_assert_geq(at[0], 10000000u);
    cr_assert_geq(at[9], 100000000u, "10 x 10 ms: last at %llu ns", (unsigned long long)at[9]);
    cr_assert_lt(at[9], 1500000000u);
    cr_assert_eq(lt_stat(a.inst, "link_tx"), 10, "the sender was not slowed");
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    lt_destroy(a.inst);
    lt_destroy(b.inst);
}

/* On a TAP: what Linux sends (neighbour discovery when the link comes up,
 * the ARP request of a ping to 192.0.2.2) comes off the medium and
 * rx_loss=100% loses every frame before the stack would see it. */
static int tap_child(const char *ns)
{
    char path[128];
    snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET))
        return 20;
    close(fd);
    struct os o = os_up("4");
    struct lyra_link *l = NULL;
    struct lyra_link_params p = {.rx_loss_ppm = 1000000};
    if (o.ops->link_open(o.self, "tap:lyra0", &p, &l))
        return 21;
    if (system("ip link set lo up && ip link set lyra0 up && "
               "ip addr add 192.0.2.1/24 dev lyra0"))
        return 22;
    if (system("(ping -c1 -W1 192.0.2.2 >/dev/null 2>&1 &)"))
        return 23;
    uint8_t g[2048];
    int got = 0;
    uint64_t t0 = o.ops->now_ns(o.self);
    while (o.ops->now_ns(o.self) - t0 < 500000000ull ||
           (!lt_stat(o.inst, "link_rx_loss") && o.ops->now_ns(o.self) - t0 < 3000000000ull)) {
        while (o.ops->link_recv(o.self, l, g, sizeof(g)) > 0)
            got++;
        o.ops->wait(o.self, o.ops->now_ns(o.self) + 10000000);
    }
    uint64_t lost = lt_stat(o.inst, "link_rx_loss"), rx = lt_stat(o.inst, "link_rx");
    o.ops->link_close(o.self, l);
    lt_destroy(o.inst);
    if (!lost)
        return 24;
    return got || rx ? 25 : 0;
}

Test(links_rx, rx_loss_on_a_tap_loses_what_linux_sends, .timeout = 30)
{
    const char *why = lt_netns_missing();
    if (why)
        cr_skip_test("SKIPPED: %s: the TAP test needs root with CAP_NET_ADMIN (ip netns, "
                     "/dev/net/tun); rx_loss on tap:IFNAME was NOT tested", why);
    char ns[64], cmd[160];
    snprintf(ns, sizeof(ns), "lyrarxtap%d", (int)getpid());
    snprintf(cmd, sizeof(cmd), "ip netns add %s", ns);
    if (system(cmd))
        cr_skip_test("SKIPPED: `ip netns add` failed; rx_loss on tap:IFNAME was NOT tested");
    pid_t pid = fork();
    if (!pid)
        _exit(tap_child(ns));
    int st = -1;
    waitpid(pid, &st, 0);
    snprintf(cmd, sizeof(cmd), "ip netns del %s", ns);
    int del = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "tap child failed with %d (20 setns, 21 open, 22 ip, 23 ping, 24 nothing lost, "
              "25 a frame got through)",
              WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    cr_assert_eq(del, 0, "ip netns del %s", ns);
}

/* The sender's delay and the receiver's add up: each end's queue holds the
 * frame for its own delay. */
Test(links_rx, tx_delay_and_rx_delay_add_up)
{
    struct os a = os_up(NULL), b = os_up(NULL);
    const char *nm = wname("delays");
    struct lyra_link_params pa = {.delay_ns = 30000000}, pb = {.rx_delay_ns = 40000000};
    struct lyra_link *la = lopen(&a, nm, &pa), *lb = lopen(&b, nm, &pb);
    uint8_t f[60], g[64];
    uint64_t t0 = a.ops->now_ns(a.self), at = 0;
    mkframe(f, 1, 60);
    cr_assert_eq(a.ops->link_send(a.self, la, f, 60), 0);
    while (!at && a.ops->now_ns(a.self) - t0 < 2000000000ull) {
        uint64_t na = a.ops->run_timers(a.self), nb = b.ops->run_timers(b.self);
        if (b.ops->link_recv(b.self, lb, g, sizeof(g)) == 60)
            at = a.ops->now_ns(a.self) - t0;
        uint64_t cap = a.ops->now_ns(a.self) + 1000000, next = na < nb ? na : nb;
        a.ops->wait(a.self, next < cap ? next : cap);
    }
    cr_assert_geq(at, 70000000u, "30 ms + 40 ms: arrived after %llu ns", (unsigned long long)at);
    cr_assert_lt(at, 1000000000u);
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    lt_destroy(a.inst);
    lt_destroy(b.inst);
}
