/* Links (os 1.1) of os_posix: wire:NAME in one process and across two,
 * seeded impairment, shaping, pcap capture, tap:IFNAME against Linux; and
 * the links of fake_os. Wire names carry the PID: other test runs on this
 * host (other build directories) use the same abstract socket names. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_os.h"
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
    cr_assert_not_null(o.ops->link_open);
    o.self = o.inst->self;
    return o;
}

static void os_down(struct os *o)
{
    lt_destroy(o->inst);
}

static const char *wname(const char *tag)
{
    static char buf[8][64];
    static int i;
    char *b = buf[i++ % 8];
    snprintf(b, 64, "wire:lt%d-%s", (int)getpid(), tag);
    return b;
}

static struct lyra_link *lopen(struct os *o, const char *spec, const struct lyra_link_params *p)
{
    struct lyra_link *l = NULL;
    int r = o->ops->link_open(o->self, spec, p, &l);
    cr_assert_eq(r, 0, "link_open(%s): %s", spec, strerror(-r));
    cr_assert_not_null(l);
    return l;
}

/* frame i: broadcast header, ethertype 0x88b5 (local experimental), then
 * the sequence number, then a pattern; at least 60 bytes */
static size_t mkframe(uint8_t *f, uint32_t i, size_t len)
{
    if (len < 60)
        len = 60;
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

static uint64_t now(struct os *o)
{
    return o->ops->now_ns(o->self);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- wire in one process ---- */

Test(links, wire_carries_frames_both_ways)
{
    struct os a = os_up(NULL), b = os_up(NULL);
    const char *n = wname("both");
    struct lyra_link *la = lopen(&a, n, NULL), *lb = lopen(&b, n, NULL);
    uint8_t f[1514], g[2048];
    for (uint32_t i = 0; i < 20; i++) {
        size_t len = mkframe(f, i, 60 + i * 70);
        cr_assert_eq(a.ops->link_send(a.self, la, f, len), 0);
        int r = b.ops->link_recv(b.self, lb, g, sizeof(g));
        cr_assert_eq(r, (int)len);
        cr_assert_arr_eq(g, f, len);
        len = mkframe(f, 1000 + i, 1514);
        cr_assert_eq(b.ops->link_send(b.self, lb, f, len), 0);
        cr_assert_eq(a.ops->link_recv(a.self, la, g, sizeof(g)), (int)len);
        cr_assert_arr_eq(g, f, len);
    }
    cr_assert_eq(a.ops->link_recv(a.self, la, g, sizeof(g)), 0, "nothing more");
    cr_assert_eq(b.ops->link_recv(b.self, lb, g, sizeof(g)), 0);
    /* a short buffer drops the frame */
    cr_assert_eq(a.ops->link_send(a.self, la, f, 1514), 0);
    cr_assert_eq(b.ops->link_recv(b.self, lb, g, 100), -EMSGSIZE);
    cr_assert_eq(b.ops->link_recv(b.self, lb, g, sizeof(g)), 0);
    cr_assert_eq(lt_stat(a.inst, "link_tx"), 21);
    cr_assert_eq(lt_stat(a.inst, "link_rx"), 20);
    cr_assert_eq(lt_stat(b.inst, "link_rx"), 20);
    cr_assert_eq(lt_stat(b.inst, "link_drop_size"), 1);
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    os_down(&a);
    os_down(&b);
}

Test(links, a_third_end_is_busy_and_a_place_frees_on_close)
{
    struct os a = os_up(NULL), b = os_up(NULL), c = os_up(NULL);
    const char *n = wname("busy");
    struct lyra_link *la = lopen(&a, n, NULL), *lb = lopen(&b, n, NULL), *lc = NULL;
    cr_assert_eq(c.ops->link_open(c.self, n, NULL, &lc), -EBUSY);
    cr_assert_null(lc);
    b.ops->link_close(b.self, lb);
    lc = lopen(&c, n, NULL);
    uint8_t f[60], g[64];
    mkframe(f, 7, 60);
    cr_assert_eq(c.ops->link_send(c.self, lc, f, 60), 0);
    cr_assert_eq(a.ops->link_recv(a.self, la, g, sizeof(g)), 60);
    cr_assert_eq(seqof(g), 7);
    /* bad specs */
    struct lyra_link *x;
    cr_assert_eq(a.ops->link_open(a.self, "cable:x", NULL, &x), -EINVAL);
    cr_assert_eq(a.ops->link_open(a.self, "wire:", NULL, &x), -EINVAL);
    a.ops->link_close(a.self, la);
    c.ops->link_close(c.self, lc);
    /* with both gone the name is free again */
    la = lopen(&a, n, NULL);
    lb = lopen(&b, n, NULL);
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    os_down(&a);
    os_down(&b);
    os_down(&c);
}

Test(links, a_full_wire_refuses_and_counts)
{
    struct os a = os_up(NULL), b = os_up(NULL);
    const char *n = wname("full");
    struct lyra_link *la = lopen(&a, n, NULL), *lb = lopen(&b, n, NULL);
    uint8_t f[60];
    int ok = 0, full = 0;
    for (uint32_t i = 0; i < 300; i++) {
        mkframe(f, i, 60);
        int r = a.ops->link_send(a.self, la, f, 60);
        cr_assert(r == 0 || r == -EAGAIN);
        ok += !r;
        full += r == -EAGAIN;
    }
    cr_assert_eq(ok, 256);
    cr_assert_eq(full, 44);
    cr_assert_eq(lt_stat(a.inst, "link_drop_full"), 44);
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    os_down(&a);
    os_down(&b);
}

Test(links, sending_with_no_other_end_drops)
{
    struct os a = os_up(NULL);
    struct lyra_link *la = lopen(&a, wname("alone"), NULL);
    uint8_t f[60];
    mkframe(f, 1, 60);
    cr_assert_eq(a.ops->link_send(a.self, la, f, 60), 0);
    cr_assert_eq(lt_stat(a.inst, "link_drop_nopeer"), 1);
    a.ops->link_close(a.self, la);
    os_down(&a);
}

Test(links, a_frame_ends_the_receivers_wait)
{
    struct os a = os_up(NULL), b = os_up(NULL);
    const char *n = wname("wake");
    struct lyra_link *la = lopen(&a, n, NULL), *lb = lopen(&b, n, NULL);
    uint64_t t0 = now(&b);
    cr_assert_eq(b.ops->wait(b.self, t0 + 20000000u), 0, "nothing to read: times out");
    uint8_t f[60], g[64];
    mkframe(f, 3, 60);
    cr_assert_eq(a.ops->link_send(a.self, la, f, 60), 0);
    t0 = now(&b);
    cr_assert_gt(b.ops->wait(b.self, t0 + 5000000000ull), 0);
    cr_assert_lt(now(&b) - t0, 1000000000ull);
    cr_assert_eq(b.ops->link_recv(b.self, lb, g, sizeof(g)), 60);
    t0 = now(&b);
    cr_assert_eq(b.ops->wait(b.self, t0 + 20000000u), 0, "drained: readable no more");
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    os_down(&a);
    os_down(&b);
}

/* ---- impairment ---- */

/* Sends n frames from a fresh pair with seed and params; marks what b got. */
static unsigned run_impaired(const char *seed, const struct lyra_link_params *p, unsigned n,
                             uint32_t *got, unsigned cap, unsigned *nrx)
{
    struct os a = os_up(seed), b = os_up(NULL);
    const char *nm = wname("imp");
    struct lyra_link *la = lopen(&a, nm, p), *lb = lopen(&b, nm, NULL);
    uint8_t f[256], g[2048];
    unsigned k = 0;
    for (uint32_t i = 0; i < n; i++) {
        mkframe(f, i, 100);
        cr_assert_eq(a.ops->link_send(a.self, la, f, 100), 0);
        int r;
        while ((r = b.ops->link_recv(b.self, lb, g, sizeof(g))) > 0)
            if (k < cap)
                got[k++] = seqof(g);
    }
    sleep_ms(20); /* a frame held for reordering leaves after 10 ms */
    a.ops->run_timers(a.self);
    int r;
    while ((r = b.ops->link_recv(b.self, lb, g, sizeof(g))) > 0)
        if (k < cap)
            got[k++] = seqof(g);
    *nrx = k;
    unsigned lost = (unsigned)lt_stat(a.inst, "link_loss");
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    os_down(&a);
    os_down(&b);
    return lost;
}

Test(links, seeded_loss_loses_the_same_frames_and_about_half)
{
    struct lyra_link_params p = {.loss_ppm = 500000};
    static uint32_t g1[400], g2[400], g3[400];
    unsigned n1, n2, n3;
    unsigned l1 = run_impaired("42", &p, 400, g1, 400, &n1);
    unsigned l2 = run_impaired("42", &p, 400, g2, 400, &n2);
    unsigned l3 = run_impaired("43", &p, 400, g3, 400, &n3);
    cr_assert_eq(n1 + l1, 400);
    cr_assert_eq(n1, n2);
    cr_assert_eq(l1, l2);
    cr_assert_arr_eq(g1, g2, n1 * sizeof(uint32_t), "the same seed loses the same frames");
    cr_assert(n1 > 150 && n1 < 250, "about half arrive: %u of 400", n1);
    cr_assert(n1 != n3 || memcmp(g1, g3, n1 * sizeof(uint32_t)),
              "another seed loses other frames");
    (void)l3;
}

Test(links, dup_sends_copies_and_counts_them)
{
    struct lyra_link_params p = {.dup_ppm = 300000};
    static uint32_t g[800];
    unsigned n;
    run_impaired("5", &p, 200, g, 800, &n);
    cr_assert(n > 230 && n < 290, "30%% duplicated: %u frames for 200", n);
    unsigned seen[200] = {0};
    for (unsigned i = 0; i < n; i++) {
        cr_assert_lt(g[i], 200);
        seen[g[i]]++;
        if (i)
            cr_assert_geq(g[i], g[i - 1], "duplicates follow their original");
    }
    for (unsigned i = 0; i < 200; i++)
        cr_assert(seen[i] == 1 || seen[i] == 2);
}

Test(links, reorder_changes_the_order_and_loses_nothing)
{
    struct lyra_link_params p = {.reorder_ppm = 200000, .reorder_depth = 3};
    static uint32_t g[400];
    unsigned n;
    run_impaired("9", &p, 200, g, 400, &n);
    cr_assert_eq(n, 200, "nothing lost");
    unsigned seen[200] = {0}, out_of_order = 0;
    for (unsigned i = 0; i < n; i++) {
        cr_assert_lt(g[i], 200);
        seen[g[i]]++;
        if (i && g[i] < g[i - 1])
            out_of_order++;
    }
    for (unsigned i = 0; i < 200; i++)
        cr_assert_eq(seen[i], 1);
    cr_assert_gt(out_of_order, 10, "order differs (%u inversions)", out_of_order);
    /* a held frame comes back after exactly `depth` others */
    for (unsigned i = 1; i < n; i++)
        if (g[i] < g[i - 1] && i < 190)
            cr_assert_leq(g[i - 1] - g[i], 3);
}

Test(links, corrupt_flips_exactly_one_byte)
{
    struct os a = os_up("3"), b = os_up(NULL);
    const char *nm = wname("corrupt");
    struct lyra_link_params p = {.corrupt_ppm = 1000000};
    struct lyra_link *la = lopen(&a, nm, &p), *lb = lopen(&b, nm, NULL);
    uint8_t f[300], g[300];
    unsigned where[300] = {0};
    for (uint32_t i = 0; i < 100; i++) {
        size_t len = mkframe(f, i, 300);
        cr_assert_eq(a.ops->link_send(a.self, la, f, len), 0);
        cr_assert_eq(b.ops->link_recv(b.self, lb, g, sizeof(g)), (int)len);
        unsigned diff = 0;
        for (size_t k = 0; k < len; k++)
            if (f[k] != g[k]) {
                diff++;
                where[k]++;
            }
        cr_assert_eq(diff, 1, "frame %u: %u bytes differ", i, diff);
    }
    unsigned places = 0;
    for (unsigned k = 0; k < 300; k++)
        places += where[k] != 0;
    cr_assert_gt(places, 50, "the byte is random (%u places)", places);
    cr_assert_eq(lt_stat(a.inst, "link_corrupt"), 100);
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    os_down(&a);
    os_down(&b);
}

/* Runs a's timers and b's receive until n frames came or 3 s passed;
 * records arrival times relative to t0. */
static unsigned pump(struct os *a, struct os *b, struct lyra_link *lb, unsigned n, uint64_t t0,
                     uint64_t *at)
{
    uint8_t g[2048];
    unsigned k = 0;
    while (k < n && now(a) - t0 < 3000000000ull) {
        uint64_t next = a->ops->run_timers(a->self);
        while (k < n && b->ops->link_recv(b->self, lb, g, sizeof(g)) > 0)
            at[k++] = now(a) - t0;
        uint64_t cap = now(a) + 1000000;
        a->ops->wait(a->self, next < cap ? next : cap);
    }
    return k;
}

Test(links, delay_holds_frames_until_due)
{
    struct os a = os_up(NULL), b = os_up(NULL);
    const char *nm = wname("delay");
    struct lyra_link_params p = {.delay_ns = 50000000};
    struct lyra_link *la = lopen(&a, nm, &p), *lb = lopen(&b, nm, NULL);
    uint8_t f[60], g[64];
    uint64_t t0 = now(&a);
    for (uint32_t i = 0; i < 3; i++) {
        mkframe(f, i, 60);
        cr_assert_eq(a.ops->link_send(a.self, la, f, 60), 0);
    }
    cr_assert_eq(b.ops->link_recv(b.self, lb, g, sizeof(g)), 0, "not before the delay");
    sleep_ms(20);
    a.ops->run_timers(a.self);
    cr_assert_eq(b.ops->link_recv(b.self, lb, g, sizeof(g)), 0, "not before the delay");
    uint64_t at[3];
    cr_assert_eq(pump(&a, &b, lb, 3, t0, at), 3);
    cr_assert_geq(at[0], 50000000u, "arrived after %llu ns", (unsigned long long)at[0]);
    cr_assert_lt(at[2], 1000000000u);
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    os_down(&a);
    os_down(&b);
}

Test(links, rate_serializes_frames)
{
    struct os a = os_up(NULL), b = os_up(NULL);
    const char *nm = wname("rate");
    struct lyra_link_params p = {.rate_bps = 1000000}; /* 1250 B: 10 ms each */
    struct lyra_link *la = lopen(&a, nm, &p), *lb = lopen(&b, nm, NULL);
    uint8_t f[1250];
    uint64_t t0 = now(&a);
    for (uint32_t i = 0; i < 10; i++) {
        mkframe(f, i, sizeof(f));
        cr_assert_eq(a.ops->link_send(a.self, la, f, sizeof(f)), 0);
    }
    uint64_t at[10];
    cr_assert_eq(pump(&a, &b, lb, 10, t0, at), 10);
    cr_assert_geq(at[0], 10000000u);
    cr_assert_geq(at[9], 100000000u, "10 x 10 ms: last at %llu ns", (unsigned long long)at[9]);
    cr_assert_lt(at[9], 1500000000u);
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    os_down(&a);
    os_down(&b);
}

Test(links, a_full_egress_queue_refuses)
{
    struct os a = os_up(NULL), b = os_up(NULL);
    const char *nm = wname("egress");
    struct lyra_link_params p = {.delay_ns = 5000000000ull};
    struct lyra_link *la = lopen(&a, nm, &p), *lb = lopen(&b, nm, NULL);
    uint8_t f[60];
    int ok = 0;
    for (uint32_t i = 0; i < 300; i++) {
        mkframe(f, i, 60);
        ok += a.ops->link_send(a.self, la, f, 60) == 0;
    }
    cr_assert_eq(ok, 256);
    cr_assert_eq(lt_stat(a.inst, "link_drop_full"), 44);
    a.ops->link_close(a.self, la); /* pending frames go with it, the timer too */
    b.ops->link_close(b.self, lb);
    a.ops->run_timers(a.self);
    os_down(&a);
    os_down(&b);
}

/* ---- pcap ---- */

Test(links, pcap_captures_both_directions_for_tshark)
{
    char path[128];
    snprintf(path, sizeof(path), "/tmp/lyra-links-%d.pcap", (int)getpid());
    struct os a = os_up(NULL), b = os_up(NULL);
    const char *nm = wname("pcap");
    struct lyra_link_params p = {.pcap = path};
    struct lyra_link *la = lopen(&a, nm, &p), *lb = lopen(&b, nm, NULL);
    uint8_t f[1514], g[2048];
    size_t sizes[] = {60, 100, 1514};
    for (uint32_t i = 0; i < 3; i++) {
        size_t len = mkframe(f, i, sizes[i]);
        cr_assert_eq(a.ops->link_send(a.self, la, f, len), 0);
    }
    for (uint32_t i = 0; i < 2; i++) {
        size_t len = mkframe(f, 10 + i, 70 + i);
        cr_assert_eq(b.ops->link_send(b.self, lb, f, len), 0);
        cr_assert_eq(a.ops->link_recv(a.self, la, g, sizeof(g)), (int)len);
    }
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    os_down(&a);
    os_down(&b);

    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp);
    uint32_t magic;
    cr_assert_eq(fread(&magic, 4, 1, fp), 1);
    fclose(fp);
    cr_assert_eq(magic, 0xa1b2c3d4u);
    if (system("command -v tshark >/dev/null 2>&1") != 0) {
        unlink(path);
        cr_skip_test("SKIPPED: tshark is not installed; the pcap file was NOT decoded "
                     "(apt-get install tshark to run this check)");
    }
    char cmd[512];
    char errp[160];
    snprintf(errp, sizeof(errp), "%s.err", path);
    snprintf(cmd, sizeof(cmd), "tshark -r %s -T fields -e frame.len 2>%s", path, errp);
    FILE *t = popen(cmd, "r");
    cr_assert_not_null(t);
    char out[512] = "";
    size_t got = fread(out, 1, sizeof(out) - 1, t);
    out[got] = 0;
    int st = pclose(t);
    unlink(path);
    char err[512] = "", cmd2[512];
    /* any complaint but the one about running as root */
    snprintf(cmd2, sizeof(cmd2), "grep -v 'Running as user' %s", errp);
    FILE *e = popen(cmd2, "r");
    size_t ne = e ? fread(err, 1, sizeof(err) - 1, e) : 0;
    err[ne] = 0;
    if (e)
        pclose(e);
    unlink(errp);
    cr_assert_eq(st, 0, "tshark failed: %s %s", out, err);
    cr_assert_str_empty(err, "tshark complained: %s", err);
    cr_assert_str_eq(out, "60\n100\n1514\n70\n71\n", "tshark said: %s", out);
}

/* ---- two processes ---- */

Test(links, wire_across_two_processes)
{
    const char *nm = wname("xproc");
    int p2c[2], c2p[2];
    cr_assert_eq(pipe(p2c), 0);
    cr_assert_eq(pipe(c2p), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    /* both sides: open, send 20 frames, receive the other side's 20 */
    struct os o = os_up(NULL);
    struct lyra_link *l = NULL;
    int r = o.ops->link_open(o.self, nm, NULL, &l);
    if (r) {
        if (!pid)
            _exit(10);
        cr_assert_fail("open: %s", strerror(-r));
    }
    /* frames sent before the other end exists are dropped, as on an
     * unplugged cable: start once both ends are open */
    char c = 'o';
    if (write(pid ? p2c[1] : c2p[1], &c, 1) != 1 || read(pid ? c2p[0] : p2c[0], &c, 1) != 1) {
        if (!pid)
            _exit(11);
        cr_assert_fail("sync");
    }
    uint32_t base = pid ? 0 : 1000, other = pid ? 1000 : 0;
    uint8_t f[1514], g[2048];
    unsigned sent = 0, got = 0, bad = 0;
    uint64_t t0 = now(&o);
    while ((sent < 20 || got < 20) && now(&o) - t0 < 5000000000ull) {
        if (sent < 20) {
            size_t len = mkframe(f, base + sent, 60 + sent * 50);
            if (o.ops->link_send(o.self, l, f, len) == 0)
                sent++;
        }
        int n;
        while ((n = o.ops->link_recv(o.self, l, g, sizeof(g))) > 0) {
            size_t len = mkframe(f, other + got, 60 + got * 50);
            bad += (size_t)n != len || memcmp(f, g, len);
            got++;
        }
        o.ops->wait(o.self, now(&o) + 2000000);
    }
    if (!pid) {
        /* stay until the parent has all of ours */
        sleep_ms(100);
        o.ops->link_close(o.self, l);
        os_down(&o);
        if (got != 20 || sent != 20 || bad)
            fprintf(stderr, "child: sent %u got %u bad %u\n", sent, got, bad);
        _exit(got == 20 && sent == 20 && !bad ? 0 : 1);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed: status %d", st);
    cr_assert_eq(sent, 20);
    cr_assert_eq(got, 20);
    cr_assert_eq(bad, 0);
    /* a third process (ourselves again) is busy while both are open: checked
     * in-process above; here the name is free again once the child left */
    o.ops->link_close(o.self, l);
    os_down(&o);
}

Test(links, a_third_end_in_another_process_is_busy)
{
    const char *nm = wname("xbusy");
    int pp[2];
    cr_assert_eq(pipe(pp), 0);
    pid_t pid = fork(); /* before any open: the child's registry is empty */
    cr_assert_geq(pid, 0);
    if (!pid) {
        char c;
        close(pp[1]);
        if (read(pp[0], &c, 1) != 1)
            _exit(2);
        struct os o = os_up(NULL);
        struct lyra_link *l = NULL;
        int r = o.ops->link_open(o.self, nm, NULL, &l);
        _exit(r == -EBUSY ? 0 : 1);
    }
    close(pp[0]);
    struct os a = os_up(NULL), b = os_up(NULL);
    struct lyra_link *la = lopen(&a, nm, NULL), *lb = lopen(&b, nm, NULL);
    cr_assert_eq(write(pp[1], "x", 1), 1);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the third end was not refused");
    close(pp[1]);
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    os_down(&a);
    os_down(&b);
}

/* ---- TAP ---- */

static int tap_child(const char *ns)
{
    char path[128];
    snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET))
        return 20;
    close(fd);
    struct os o = os_up(NULL);
    struct lyra_link *l = NULL;
    if (o.ops->link_open(o.self, "tap:lyra0", NULL, &l))
        return 21;
    if (system("ip link set lo up && ip link set lyra0 up && "
               "ip addr add 192.0.2.1/24 dev lyra0"))
        return 22;
    if (system("(ping -c1 -W1 192.0.2.2 >/dev/null 2>&1 &)"))
        return 23;
    uint8_t g[2048];
    int found = 0;
    uint64_t t0 = now(&o);
    while (!found && now(&o) - t0 < 3000000000ull) {
        int n;
        while ((n = o.ops->link_recv(o.self, l, g, sizeof(g))) > 0)
            if (n >= 42 && g[12] == 0x08 && g[13] == 0x06 && !memcmp(g + 38, "\xc0\x00\x02\x02", 4))
                found = 1;
        o.ops->wait(o.self, now(&o) + 10000000);
    }
    o.ops->link_close(o.self, l);
    os_down(&o);
    return found ? 0 : 24;
}

Test(links, tap_receives_an_arp_request_from_linux, .timeout = 30)
{
    const char *why = lt_netns_missing();
    if (why)
        cr_skip_test("SKIPPED: %s: the TAP test needs root with CAP_NET_ADMIN (ip netns, "
                     "/dev/net/tun); tap:IFNAME was NOT tested", why);
    char ns[64], cmd[160];
    snprintf(ns, sizeof(ns), "lyratap%d", (int)getpid());
    snprintf(cmd, sizeof(cmd), "ip netns add %s", ns);
    if (system(cmd))
        cr_skip_test("SKIPPED: `ip netns add` failed; tap:IFNAME was NOT tested");
    pid_t pid = fork();
    if (!pid)
        _exit(tap_child(ns));
    int st = -1;
    waitpid(pid, &st, 0);
    snprintf(cmd, sizeof(cmd), "ip netns del %s", ns);
    int del = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "tap child failed with %d (20 setns, 21 open, 22 ip, 23 ping, 24 no ARP)",
              WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    cr_assert_eq(del, 0, "ip netns del %s", ns);
}

/* Without CAP_NET_ADMIN, creating a TAP is refused with -EPERM and a log
 * line that says what is missing. */
Test(links, tap_without_net_admin_is_eperm)
{
    if (access("/dev/net/tun", R_OK | W_OK))
        cr_skip_test("SKIPPED: /dev/net/tun is missing; tap:IFNAME was NOT tested");
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (!pid) {
        struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct d[2];
        if (syscall(SYS_capget, &h, d))
            _exit(2);
        d[0].effective &= ~(1u << CAP_NET_ADMIN);
        if (syscall(SYS_capset, &h, d))
            _exit(3);
        const char *params[] = {"log_level=0", NULL};
        struct lt_inst *i = lt_create(&lyra_component_os_posix, params);
        const struct lyra_os_ops *o = lt_ops(i, LYRA_OS_IFACE);
        struct lyra_link *l = NULL;
        char ifn[32];
        snprintf(ifn, sizeof(ifn), "tap:lyrap%d", (int)getpid() % 100000);
        int r = o->link_open(i->self, ifn, NULL, &l);
        int logged = (int)lt_stat(i, "log_error");
        _exit(r == -EPERM && logged == 1 ? 0 : 4);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}

/* ---- fake_os ---- */

Test(links, fake_os_pairs_instances_by_name)
{
    struct lt_inst *a = lt_create(&lyra_component_fake_os, NULL);
    struct lt_inst *b = lt_create(&lyra_component_fake_os, NULL);
    const struct lyra_os_ops *o = lt_ops(a, LYRA_OS_IFACE);
    cr_assert_eq(fake_os_link_pair(a->self, b->self, "x"), 0);
    cr_assert_eq(fake_os_link_pair(a->self, b->self, "x"), -EEXIST);
    struct lyra_link *la, *lb, *l2;
    cr_assert_eq(o->link_open(a->self, "wire:x", NULL, &la), 0);
    cr_assert_eq(o->link_open(a->self, "wire:x", NULL, &l2), -EBUSY);
    cr_assert_eq(o->link_open(b->self, "wire:x", NULL, &lb), 0);
    uint8_t f[100], g[128];
    mkframe(f, 1, 100);
    cr_assert_eq(o->link_send(a->self, la, f, 100), 0);
    cr_assert_eq(o->link_recv(b->self, lb, g, sizeof(g)), 100);
    cr_assert_arr_eq(g, f, 100);
    cr_assert_eq(o->link_recv(b->self, lb, g, sizeof(g)), 0);
    cr_assert_eq(o->link_send(b->self, lb, f, 100), 0);
    cr_assert_eq(o->link_recv(a->self, la, g, 10), -EMSGSIZE);
    for (int i = 0; i < 256; i++)
        cr_assert_eq(o->link_send(a->self, la, f, 100), 0);
    cr_assert_eq(o->link_send(a->self, la, f, 100), -EAGAIN);
    cr_assert_eq(lt_stat(a, "link_drop_full"), 1);
    /* an unpaired end: the test sees what it sends and feeds it */
    struct lyra_link *lt;
    cr_assert_eq(o->link_open(a->self, "tap:t0", NULL, &lt), 0);
    cr_assert_eq(o->link_send(a->self, lt, f, 60), 0);
    cr_assert_eq(fake_os_link_take(a->self, "tap:t0", g, sizeof(g)), 60);
    cr_assert_eq(fake_os_link_take(a->self, "tap:t0", g, sizeof(g)), 0);
    cr_assert_eq(fake_os_link_inject(a->self, "tap:t0", f, 42), 0);
    cr_assert_eq(o->link_recv(a->self, lt, g, sizeof(g)), 42);
    cr_assert_eq(fake_os_link_inject(a->self, "tap:nope", f, 42), -ENOENT);
    cr_assert_eq(fake_os_links_open(a->self), 2);
    o->link_close(a->self, lt);
    o->link_close(a->self, la);
    o->link_close(b->self, lb);
    cr_assert_eq(fake_os_links_open(a->self), 0);
    lt_destroy(a);
    lt_destroy(b);
}

/* Issue 9.4: a link that cannot be opened says which link, why and what to
 * do; the caller sees only an errno. stderr is captured in a temp file. */
static char *open_err(struct os *o, const char *spec, int want)
{
    char path[] = "/tmp/lt-linkerr-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    cr_assert_geq(saved, 0);
    cr_assert_eq(dup2(fd, 2), 2);
    struct lyra_link *l = NULL;
    int r = o->ops->link_open(o->self, spec, NULL, &l);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    cr_assert_eq(r, want, "%s: %d, want %d", spec, r, want);
    cr_assert_null(l);
    static char buf[2048];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

Test(links, a_link_that_cannot_open_says_which_why_and_what_to_do)
{
    struct os a = os_up(NULL), b = os_up(NULL), c = os_up(NULL);
    const char *n = wname("why");
    struct lyra_link *la = lopen(&a, n, NULL), *lb = lopen(&b, n, NULL);
    char want[256];
    snprintf(want, sizeof(want), "link %s: %s already has two ends (another process or stack); "
             "use dev.link=wire:OTHERNAME", n, n);
    char *e = open_err(&c, n, -EBUSY);
    cr_assert(strstr(e, want), "got: %s", e);
    e = open_err(&c, "cable:x", -EINVAL);
    cr_assert(strstr(e, "link cable:x: expected wire:NAME or tap:IFNAME"), "got: %s", e);
    e = open_err(&c, "wire:", -EINVAL);
    cr_assert(strstr(e, "link wire:: no name after 'wire:'"), "got: %s", e);
    e = open_err(&c, "tap:abcdefghijklmnopqrstuvwxyz", -ENAMETOOLONG);
    cr_assert(strstr(e, "link tap:abcdefghijklmnopqrstuvwxyz: interface names have at most 15"),
              "got: %s", e);
    a.ops->link_close(a.self, la);
    b.ops->link_close(b.self, lb);
    os_down(&a);
    os_down(&b);
    os_down(&c);
}
