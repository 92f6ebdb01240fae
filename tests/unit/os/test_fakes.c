/* fake_os and fake_netdev, the fakes other components' tests stand on. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_netdev.h"
#include "fake_os.h"
#include "lt.h"
#include "lyra/timer_wheel.h"

#define MS 1000000ull

/* ================= fake_os ================= */

struct fos {
    struct lt_inst *inst;
    const struct lyra_os_ops *ops;
    void *self;
};

static struct fos fos_up(const char *const *params)
{
    struct fos o;
    o.inst = lt_create(&lyra_component_fake_os, params);
    cr_assert_eq(lt_start(o.inst), 0);
    o.ops = lt_ops(o.inst, LYRA_OS_IFACE);
    o.self = o.inst->self;
    return o;
}

struct fired {
    struct fos *o;
    uint64_t at[16];
    int id[16];
    int n;
};

struct tctx {
    struct fired *f;
    int id;
    uint64_t period; /* re-arm this far ahead; 0: once */
};

static void fire(void *ctx, struct lyra_timer *t)
{
    struct tctx *c = ctx;
    struct fired *f = c->f;
    f->at[f->n] = fake_os_now(f->o->self);
    f->id[f->n++] = c->id;
    if (c->period)
        f->o->ops->timer_arm(f->o->self, t, f->at[f->n - 1] + c->period); /* now is the deadline */
}

Test(fake_os, advance_runs_timers_at_their_deadlines)
{
    struct fos o = fos_up(NULL);
    struct fired f = {.o = &o};
    struct tctx c[3];
    struct lyra_timer t[3];
    uint64_t dl[3] = {30 * MS, 10 * MS, 20 * MS};
    for (int i = 0; i < 3; i++) {
        c[i] = (struct tctx){&f, i, 0};
        lyra_timer_init(&t[i], fire, &c[i]);
        o.ops->timer_arm(o.self, &t[i], dl[i]);
    }
    cr_assert_eq(fake_os_timers_armed(o.self), 3);
    fake_os_advance(o.self, 25 * MS);
    cr_assert_eq(f.n, 2);
    cr_assert_eq(f.id[0], 1);
    cr_assert_eq(f.at[0], 10 * MS);
    cr_assert_eq(f.id[1], 2);
    cr_assert_eq(f.at[1], 20 * MS);
    cr_assert_eq(fake_os_now(o.self), 25 * MS);
    cr_assert_eq(o.ops->now_ns(o.self), 25 * MS);
    cr_assert_eq(fake_os_timers_armed(o.self), 1);
    fake_os_advance(o.self, 5 * MS);
    cr_assert_eq(f.n, 3);
    cr_assert_eq(f.at[2], 30 * MS);
    cr_assert_eq(fake_os_timers_armed(o.self), 0);
    cr_assert_eq(lt_stat(o.inst, "timers_run"), 3);
    lt_destroy(o.inst);
}

Test(fake_os, periodic_timer_fires_each_period_during_one_advance)
{
    struct fos o = fos_up(NULL);
    struct fired f = {.o = &o};
    struct tctx c = {&f, 0, 10 * MS};
    struct lyra_timer t;
    lyra_timer_init(&t, fire, &c);
    o.ops->timer_arm(o.self, &t, 10 * MS);
    fake_os_advance(o.self, 35 * MS);
    cr_assert_eq(f.n, 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(f.at[i], (uint64_t)(i + 1) * 10 * MS);
    /* next: at or before 40 ms (the wheel's cascade point for a timer
     * 5 ms away); the timer runs at 40 ms exactly, not before */
    uint64_t next = o.ops->run_timers(o.self);
    cr_assert(next > 35 * MS && next <= 40 * MS, "next %llu", (unsigned long long)next);
    fake_os_advance(o.self, 5 * MS - 1);
    cr_assert_eq(f.n, 3);
    fake_os_advance(o.self, 1);
    cr_assert_eq(f.n, 4);
    cr_assert_eq(f.at[3], 40 * MS);
    lt_destroy(o.inst);
}

Test(fake_os, ties_run_in_arming_order_and_cancel_works)
{
    struct fos o = fos_up(NULL);
    struct fired f = {.o = &o};
    struct tctx c[4];
    struct lyra_timer t[4];
    for (int i = 0; i < 4; i++) {
        c[i] = (struct tctx){&f, i, 0};
        lyra_timer_init(&t[i], fire, &c[i]);
        o.ops->timer_arm(o.self, &t[i], 5 * MS);
    }
    o.ops->timer_cancel(o.self, &t[2]);
    o.ops->timer_arm(o.self, &t[0], 5 * MS); /* re-arming moves it behind the others */
    fake_os_advance(o.self, 5 * MS);
    cr_assert_eq(f.n, 3);
    cr_assert_eq(f.id[0], 1);
    cr_assert_eq(f.id[1], 3);
    cr_assert_eq(f.id[2], 0);
    lt_destroy(o.inst);
}

Test(fake_os, start_sets_the_first_reading)
{
    const char *p[] = {"start=5s", NULL};
    struct fos o = fos_up(p);
    cr_assert_eq(o.ops->now_ns(o.self), 5000 * MS);
    cr_assert_eq(o.ops->run_timers(o.self), LYRA_TIME_NEVER);
    lt_destroy(o.inst);
}

static void fos_draw(const char *seed, uint8_t *buf, size_t len)
{
    const char *p[] = {seed, NULL};
    struct fos o = fos_up(p);
    o.ops->random(o.self, buf, len);
    lt_destroy(o.inst);
}

Test(fake_os, random_is_seeded)
{
    uint8_t a[100], b[100], c[100];
    fos_draw("seed=1", a, sizeof(a));
    fos_draw("seed=1", b, sizeof(b));
    fos_draw("seed=2", c, sizeof(c));
    cr_assert_arr_eq(a, b, sizeof(a));
    cr_assert_neq(memcmp(a, c, sizeof(a)), 0);
}

Test(fake_os, logs_are_counted_and_kept)
{
    struct fos o = fos_up(NULL);
    struct lyra_os los = {o.ops, o.self};
    lyra_log(&los, LYRA_LOG_WARN, "eth", "dropped %d frames", 3);
    lyra_log(&los, LYRA_LOG_WARN, "eth", "again");
    lyra_log(&los, LYRA_LOG_DEBUG, "eth", "detail %s", "x");
    cr_assert_eq(fake_os_log_count(o.self, LYRA_LOG_WARN), 2);
    cr_assert_eq(fake_os_log_count(o.self, LYRA_LOG_DEBUG), 1);
    cr_assert_eq(fake_os_log_count(o.self, LYRA_LOG_ERROR), 0);
    cr_assert_str_eq(fake_os_last_log(o.self), "detail x");
    lt_destroy(o.inst);
}

Test(fake_os, memory_and_pages)
{
    struct fos o = fos_up(NULL);
    void *a = o.ops->mem_alloc(o.self, 1000, 64);
    void *b = o.ops->mem_alloc(o.self, 24, 1);
    cr_assert_eq((uintptr_t)a % 64, 0);
    cr_assert_eq(fake_os_mem_in_use(o.self), 1024);
    o.ops->mem_free(o.self, a);
    o.ops->mem_free(o.self, b);
    cr_assert_eq(fake_os_mem_in_use(o.self), 0);

    size_t ps = o.ops->page_size(o.self);
    uint8_t *p = o.ops->page_alloc(o.self, 1), *q = o.ops->page_alloc(o.self, 1);
    cr_assert_eq((uintptr_t)p % ps, 0);
    cr_assert_eq(fake_os_pages_in_use(o.self), 2);
    memset(p, 'p', ps);
    cr_assert_eq(o.ops->page_remap(o.self, q, p, 1), 0);
    cr_assert_eq(q[ps - 1], 'p', "the fake's remap copies");
    cr_assert_eq(o.ops->page_protect(o.self, p, 1, LYRA_PROT_READ), -ENOTSUP);
    cr_assert_eq(o.ops->cow_register(o.self, p, 1, NULL, NULL), -ENOTSUP);
    o.ops->page_free(o.self, p, 1);
    o.ops->page_free(o.self, q, 1);
    cr_assert_eq(fake_os_pages_in_use(o.self), 0);
    lt_destroy(o.inst);
}

Test(fake_os, wait_never_blocks_and_reports_a_wake)
{
    struct fos o = fos_up(NULL);
    cr_assert_eq(o.ops->wait(o.self, LYRA_TIME_NEVER), 0);
    o.ops->wake(o.self);
    cr_assert_eq(o.ops->wait(o.self, LYRA_TIME_NEVER), 1);
    cr_assert_eq(o.ops->wait(o.self, LYRA_TIME_NEVER), 0);
    cr_assert_eq(o.ops->now_ns(o.self), 0, "waiting does not move the clock");
    cr_assert_eq(o.ops->watch_fd(o.self, 0), 0);
    cr_assert_eq(fake_os_watched_fds(o.self), 1);
    cr_assert_eq(o.ops->unwatch_fd(o.self, 0), 0);
    lt_destroy(o.inst);
}

/* ================= fake_netdev ================= */

/* A tiny skb provider until components/skb can be used here. */
#define TP_N 8
#define TP_BUF 2048
#define TP_SEGS 8

struct tpool {
    struct lyra_skb skb[TP_N];
    uint8_t buf[TP_N][TP_BUF];
    bool used[TP_N];
    unsigned cap; /* buffers handed out at most */
    struct lyra_skb_seg seg[TP_N][TP_SEGS]; /* each buffer's segment descriptors */
};

static const struct lyra_skb_ops tp_ops;

static struct lyra_skb *tp_alloc(void *self, uint32_t headroom, uint32_t size)
{
    struct tpool *p = self;
    if (headroom + size > TP_BUF)
        return NULL;
    unsigned inuse = 0;
    for (unsigned i = 0; i < TP_N; i++)
        inuse += p->used[i];
    if (inuse >= p->cap)
        return NULL;
    for (unsigned i = 0; i < TP_N; i++)
        if (!p->used[i]) {
            struct lyra_skb *s = &p->skb[i];
            memset(s, 0, sizeof(*s));
            s->head = p->buf[i];
            s->data = s->head + headroom;
            s->size = TP_BUF;
            s->refcnt = 1;
            s->owner_ops = &tp_ops;
            s->owner = p;
            s->pool_index = i;
            p->used[i] = true;
            return s;
        }
    return NULL;
}

static struct lyra_skb *tp_alloc_rx(void *self, uint32_t size)
{
    return tp_alloc(self, 0, size);
}

static void tp_free(void *self, struct lyra_skb *s)
{
    struct tpool *p = self;
    if (--s->refcnt == 0)
        p->used[s->pool_index] = false;
}

/* User memory becomes a segment (as skb_zc), anything else is copied. */
static int tp_add_data(void *self, struct lyra_skb *s, const void *d, uint32_t len, uint32_t flags,
                       uint32_t *copied)
{
    struct tpool *p = self;
    if (copied)
        *copied = 0;
    if (flags & LYRA_SEG_F_USER) {
        if (s->nseg == TP_SEGS)
            return 0;
        struct lyra_skb_seg *g = &p->seg[s->pool_index][s->nseg];
        *g = (struct lyra_skb_seg){.ptr = d, .len = len, .flags = flags};
        lyra_skb_seg_append(s, g);
        return (int)len;
    }
    uint8_t *q = lyra_skb_put(s, len);
    if (!q)
        return 0;
    memcpy(q, d, len);
    if (copied)
        *copied = len;
    return (int)len;
}

static int tp_copy_out(void *self, const struct lyra_skb *s, uint32_t off, void *dst, uint32_t len)
{
    uint8_t tmp[TP_BUF * 2];
    uint32_t n = lyra_skb_flatten(s, tmp, sizeof(tmp));
    if (off + len > n)
        return -EINVAL;
    memcpy(dst, tmp + off, len);
    return 0;
}

static uint32_t tp_avail(void *self)
{
    struct tpool *p = self;
    uint32_t n = 0;
    for (unsigned i = 0; i < TP_N; i++)
        n += !p->used[i];
    return n;
}

static uint32_t tp_max_alloc(void *self, uint32_t headroom)
{
    (void)self;
    return headroom >= TP_BUF ? 0 : TP_BUF - headroom;
}

static struct lyra_skb *tp_alloc_cls(void *self, int cls, uint32_t headroom, uint32_t size)
{
    (void)cls;
    return tp_alloc(self, headroom, size);
}

static uint32_t tp_tx_avail(void *self, int cls, uint32_t headroom)
{
    (void)cls;
    (void)headroom;
    return tp_avail(self);
}

static const struct lyra_skb_ops tp_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_SKB_IFACE, LYRA_SKB_MAJOR, LYRA_SKB_MINOR, struct lyra_skb_ops),
    .alloc = tp_alloc,
    .alloc_rx = tp_alloc_rx,
    .free = tp_free,
    .add_data = tp_add_data,
    .copy_out = tp_copy_out,
    .avail = tp_avail,
    .max_alloc = tp_max_alloc,
    .alloc_cls = tp_alloc_cls,
    .tx_avail = tp_tx_avail,
};

/* What the netdev user saw. */
struct seen {
    unsigned n;
    uint8_t frame[8][1600];
    uint32_t len[8];
    uint16_t flags[8];
    bool keep; /* hold the skbs (to drain the pool) instead of freeing them */
    struct lyra_skb *kept[8];
    unsigned tx_ready, link_n;
    bool link_up;
};

static void ev_rx(void *user, struct lyra_skb *skb)
{
    struct seen *s = user;
    unsigned i = s->n++ % 8;
    s->len[i] = lyra_skb_flatten(skb, s->frame[i], sizeof(s->frame[i]));
    s->flags[i] = skb->flags;
    if (s->keep)
        s->kept[i] = skb;
    else
        lyra_skb_free(skb);
}

static void ev_tx_ready(void *user)
{
    ((struct seen *)user)->tx_ready++;
}

static void ev_link(void *user, bool up)
{
    struct seen *s = user;
    s->link_n++;
    s->link_up = up;
}

static const struct lyra_netdev_events test_events = {
    .hdr = LYRA_OPS_HDR(LYRA_NETDEV_IFACE, LYRA_NETDEV_MAJOR, LYRA_NETDEV_MINOR,
                        struct lyra_netdev_events),
    .rx = ev_rx,
    .tx_ready = ev_tx_ready,
    .link = ev_link,
};

struct rig {
    struct lt_inst *os, *nd;
    const struct lyra_netdev_ops *ops;
    struct tpool *pool;
    struct seen *seen;
};

/* Creates and binds; start separately (start errors are tested). */
static struct rig rig_make(const char *const *params)
{
    struct rig r;
    r.os = lt_create(&lyra_component_fake_os, NULL);
    cr_assert_eq(lt_start(r.os), 0);
    r.nd = lt_create(&lyra_component_fake_netdev, params);
    r.pool = calloc(1, sizeof(*r.pool));
    r.pool->cap = TP_N;
    r.seen = calloc(1, sizeof(*r.seen));
    cr_assert_eq(lt_bind_raw(r.nd, "skb", &tp_ops, r.pool), 0);
    cr_assert_eq(lt_bind(r.nd, "os", r.os), 0);
    const struct lyra_provide *p = &lyra_component_fake_netdev.provides[0];
    cr_assert_eq(p->attach(r.nd->self, &test_events, r.seen), 0);
    cr_assert_eq(p->attach(r.nd->self, &test_events, r.seen), -EBUSY, "one user only");
    r.ops = lt_ops(r.nd, LYRA_NETDEV_IFACE);
    return r;
}

static struct rig rig_up(const char *const *params)
{
    struct rig r = rig_make(params);
    cr_assert_eq(lt_start(r.nd), 0);
    cr_assert_eq(r.ops->open(r.nd->self), 0);
    return r;
}

static void rig_down(struct rig *r)
{
    lt_stop(r->nd);
    cr_assert_eq(fake_os_mem_in_use(r->os->self), 0, "storage goes back at stop");
    lt_destroy(r->nd);
    lt_destroy(r->os);
    free(r->pool);
    free(r->seen);
}

static unsigned pool_used(struct rig *r)
{
    return TP_N - tp_avail(r->pool);
}

/* An skb holding `len` bytes of pattern starting at `seed`. */
static struct lyra_skb *mk_skb(struct rig *r, uint32_t len, uint8_t seed)
{
    struct lyra_skb *s = tp_alloc(r->pool, 64, len);
    cr_assert_not_null(s);
    uint8_t *p = lyra_skb_put(s, len);
    for (uint32_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seed + i);
    return s;
}

Test(fake_netdev, caps_follow_parameters)
{
    const char *p[] = {"mac=02:aa:bb:cc:dd:ee", "mtu=1400", "max_segs=2", "page_contig=on",
                       "csum_tx=6", NULL};
    struct rig r = rig_up(p);
    struct lyra_netdev_caps c;
    cr_assert_eq(r.ops->caps(r.nd->self, &c), 0);
    cr_assert_eq(c.mtu, 1400);
    cr_assert_eq(c.max_segs, 2);
    cr_assert_eq(c.page_contig, 1);
    cr_assert_eq(c.csum_tx, 6);
    cr_assert_eq(c.csum_rx, 0);
    cr_assert_eq(c.link_up, 1);
    cr_assert_eq(c.mac[0], 0x02);
    cr_assert_eq(c.mac[5], 0xee);
    cr_assert(fake_netdev_is_open(r.nd->self));
    cr_assert_eq(r.ops->set_rx_mode(r.nd->self, true, false), 0);
    bool am, pr;
    fake_netdev_rx_mode(r.nd->self, &am, &pr);
    cr_assert(am && !pr);
    rig_down(&r);
}

Test(fake_netdev, records_and_pads_short_frames)
{
    struct rig r = rig_up(NULL);
    cr_assert_gt(fake_os_mem_in_use(r.os->self), 0, "storage comes from the os slot");
    struct lyra_skb *s = mk_skb(&r, 42, 1);
    cr_assert_eq(r.ops->xmit(r.nd->self, s), 0);
    cr_assert_eq(pool_used(&r), 0, "the driver frees what it sent");
    cr_assert_eq(fake_netdev_tx_count(r.nd->self), 1);
    size_t len;
    const uint8_t *f = fake_netdev_tx_frame(r.nd->self, 0, &len);
    cr_assert_eq(len, 60);
    for (unsigned i = 0; i < 42; i++)
        cr_assert_eq(f[i], (uint8_t)(1 + i));
    for (unsigned i = 42; i < 60; i++)
        cr_assert_eq(f[i], 0);
    cr_assert_eq(fake_netdev_last_tx_segments(r.nd->self), 1);
    cr_assert_eq(lt_stat(r.nd, "tx_frames"), 1);
    cr_assert_eq(lt_stat(r.nd, "tx_bytes"), 60);
    cr_assert_null(fake_netdev_tx_frame(r.nd->self, 1, &len));
    fake_netdev_tx_clear(r.nd->self);
    cr_assert_eq(fake_netdev_tx_count(r.nd->self), 0);
    rig_down(&r);
}

Test(fake_netdev, gathers_segments)
{
    struct rig r = rig_up(NULL);
    uint8_t a[100], b[50];
    memset(a, 'a', sizeof(a));
    memset(b, 'b', sizeof(b));
    struct lyra_skb *s = mk_skb(&r, 14, 0);
    cr_assert_eq(tp_add_data(r.pool, s, a, sizeof(a), LYRA_SEG_F_USER, NULL), 100);
    cr_assert_eq(tp_add_data(r.pool, s, b, sizeof(b), LYRA_SEG_F_USER, NULL), 50);
    cr_assert_eq(r.ops->xmit(r.nd->self, s), 0);
    size_t len;
    const uint8_t *f = fake_netdev_tx_frame(r.nd->self, 0, &len);
    cr_assert_eq(len, 164);
    cr_assert_eq(f[13], 13);
    cr_assert_eq(f[14], 'a');
    cr_assert_eq(f[113], 'a');
    cr_assert_eq(f[114], 'b');
    cr_assert_eq(f[163], 'b');
    cr_assert_eq(fake_netdev_last_tx_segments(r.nd->self), 3);
    rig_down(&r);
}

/* More pieces than max_segs + 1: bounced through the shared helper
 * (lyra_skb_bounce), as a driver would; too long: refused. */
Test(fake_netdev, bounces_or_refuses_what_the_caps_forbid)
{
    const char *p[] = {"max_segs=1", "mtu=100", NULL};
    struct rig r = rig_up(p);
    uint8_t a[10], b[10];
    memset(a, 'a', sizeof(a));
    memset(b, 'b', sizeof(b));
    struct lyra_skb *s = mk_skb(&r, 14, 0);
    tp_add_data(r.pool, s, a, sizeof(a), LYRA_SEG_F_USER, NULL);
    tp_add_data(r.pool, s, b, sizeof(b), LYRA_SEG_F_USER, NULL);
    cr_assert_eq(r.ops->xmit(r.nd->self, s), 0);
    cr_assert_eq(lt_stat(r.nd, "tx_bounced"), 1);
    cr_assert_eq(fake_netdev_last_tx_segments(r.nd->self), 1, "gathered as one linear piece");
    cr_assert_eq(pool_used(&r), 0, "the original and the copy both went back");
    size_t len;
    const uint8_t *f = fake_netdev_tx_frame(r.nd->self, 0, &len);
    cr_assert_eq(f[14], 'a');
    cr_assert_eq(f[33], 'b');
    s = mk_skb(&r, 14 + 100 + 4 + 1, 0);
    cr_assert_eq(r.ops->xmit(r.nd->self, s), -EMSGSIZE);
    cr_assert_eq(pool_used(&r), 1, "on error the caller keeps the skb");
    lyra_skb_free(s);
    cr_assert_eq(lt_stat(r.nd, "tx_invalid"), 1);
    rig_down(&r);
}

Test(fake_netdev, page_contig_rejects_a_segment_crossing_a_page)
{
    const char *p[] = {"page_contig=on", NULL};
    struct rig r = rig_up(p);
    uint8_t *mem = aligned_alloc(4096, 8192);
    struct lyra_skb *s = mk_skb(&r, 14, 0);
    tp_add_data(r.pool, s, mem + 4000, 200, LYRA_SEG_F_USER, NULL);
    cr_assert_eq(r.ops->xmit(r.nd->self, s), -EINVAL);
    lyra_skb_free(s);
    s = mk_skb(&r, 14, 0);
    tp_add_data(r.pool, s, mem + 4000, 96, LYRA_SEG_F_USER, NULL);
    tp_add_data(r.pool, s, mem + 4096, 104, LYRA_SEG_F_USER, NULL);
    cr_assert_eq(r.ops->xmit(r.nd->self, s), 0);
    free(mem);
    rig_down(&r);
}

Test(fake_netdev, record_keeps_the_newest_frames)
{
    const char *p[] = {"tx_record=2", NULL};
    struct rig r = rig_up(p);
    for (uint8_t i = 0; i < 3; i++)
        cr_assert_eq(r.ops->xmit(r.nd->self, mk_skb(&r, 70, (uint8_t)(10 * i))), 0);
    cr_assert_eq(fake_netdev_tx_count(r.nd->self), 2);
    size_t len;
    cr_assert_eq(fake_netdev_tx_frame(r.nd->self, 0, &len)[0], 10);
    cr_assert_eq(fake_netdev_tx_frame(r.nd->self, 1, &len)[0], 20);
    cr_assert_eq(len, 70);
    cr_assert_eq(lt_stat(r.nd, "tx_record_dropped"), 1);
    cr_assert_eq(lt_stat(r.nd, "tx_frames"), 3);
    rig_down(&r);
}

Test(fake_netdev, tx_busy_every_nth_xmit)
{
    const char *p[] = {"tx_busy_every=3", NULL};
    struct rig r = rig_up(p);
    int want[6] = {0, 0, -EAGAIN, 0, 0, -EAGAIN};
    for (int i = 0; i < 6; i++) {
        struct lyra_skb *s = mk_skb(&r, 60, 0);
        int rc = r.ops->xmit(r.nd->self, s);
        cr_assert_eq(rc, want[i], "xmit %d: %d", i + 1, rc);
        if (rc)
            lyra_skb_free(s); /* -EAGAIN: still ours */
    }
    cr_assert_eq(lt_stat(r.nd, "tx_busy"), 2);
    cr_assert_eq(lt_stat(r.nd, "tx_frames"), 4);
    fake_netdev_signal_tx_ready(r.nd->self);
    cr_assert_eq(r.seen->tx_ready, 1);
    fake_netdev_set_link(r.nd->self, 0);
    cr_assert_eq(r.seen->link_n, 1);
    cr_assert(!r.seen->link_up);
    struct lyra_netdev_caps c;
    r.ops->caps(r.nd->self, &c);
    cr_assert_eq(c.link_up, 0);
    rig_down(&r);
}

static const uint8_t OUR_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};

static size_t frame(uint8_t *f, const uint8_t dst[6], size_t len, uint8_t fill)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, "\x02\x00\x00\x00\x00\x99", 6);
    f[12] = 0x08;
    f[13] = 0x06;
    memset(f + 14, fill, len - 14);
    return len;
}

Test(fake_netdev, injected_frames_arrive_on_poll)
{
    struct rig r = rig_up(NULL);
    uint8_t f[3][100];
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
    frame(f[0], bcast, 42, 'x');
    frame(f[1], OUR_MAC, 100, 'y');
    frame(f[2], mcast, 60, 'z');
    cr_assert_eq(fake_netdev_inject(r.nd->self, f[0], 42), 0);
    cr_assert_eq(fake_netdev_inject(r.nd->self, f[1], 100), 0);
    cr_assert_eq(fake_netdev_inject(r.nd->self, f[2], 60), 0);
    cr_assert_eq(r.seen->n, 0, "nothing before poll");
    cr_assert_eq(lt_poll(r.nd, 2), 2, "the budget holds");
    cr_assert_eq(lt_poll(r.nd, 64), 1);
    cr_assert_eq(lt_poll(r.nd, 64), 0);
    cr_assert_eq(r.seen->n, 3);
    cr_assert_eq(r.seen->len[0], 42, "received frames are not padded");
    cr_assert_arr_eq(r.seen->frame[0], f[0], 42);
    cr_assert_arr_eq(r.seen->frame[1], f[1], 100);
    cr_assert_arr_eq(r.seen->frame[2], f[2], 60);
    cr_assert(r.seen->flags[0] & LYRA_SKB_F_BCAST);
    cr_assert(r.seen->flags[0] & LYRA_SKB_F_RX);
    cr_assert(r.seen->flags[1] & LYRA_SKB_F_HOST);
    cr_assert(r.seen->flags[2] & LYRA_SKB_F_MCAST);
    cr_assert_eq(lt_stat(r.nd, "rx_frames"), 3);
    cr_assert_eq(lt_stat(r.nd, "rx_bytes"), 202);
    cr_assert_eq(pool_used(&r), 0);
    rig_down(&r);
}

Test(fake_netdev, inject_queue_is_bounded)
{
    struct rig r = rig_up(NULL);
    uint8_t f[60];
    frame(f, OUR_MAC, 60, 0);
    for (int i = 0; i < 64; i++)
        cr_assert_eq(fake_netdev_inject(r.nd->self, f, 60), 0);
    cr_assert_eq(fake_netdev_inject(r.nd->self, f, 60), -ENOSPC);
    uint8_t big[1600] = {0};
    cr_assert_eq(fake_netdev_inject(r.nd->self, big, sizeof(big)), -EMSGSIZE);
    cr_assert_eq(lt_poll(r.nd, 1000), 64);
    rig_down(&r);
}

Test(fake_netdev, empty_pool_is_counted_not_fatal)
{
    struct rig r = rig_up(NULL);
    r.pool->cap = 2;
    r.seen->keep = true;
    uint8_t f[60];
    frame(f, OUR_MAC, 60, 0);
    cr_assert_eq(fake_netdev_deliver(r.nd->self, f, 60), 0);
    cr_assert_eq(fake_netdev_deliver(r.nd->self, f, 60), 0);
    cr_assert_eq(fake_netdev_deliver(r.nd->self, f, 60), -ENOBUFS);
    cr_assert_eq(lt_stat(r.nd, "rx_nobuf"), 1);
    cr_assert_eq(lt_stat(r.nd, "rx_frames"), 2);
    lyra_skb_free(r.seen->kept[0]);
    lyra_skb_free(r.seen->kept[1]);
    rig_down(&r);
}

/* rx_post: receive skbs stay posted from the pool (netdev 1.1), a frame
 * lands in the oldest and a fresh one replaces it; with the pool held by
 * the user the posted ones run out, then frames are dropped and counted,
 * and a poll after buffers came back posts them again. */
Test(fake_netdev, rx_post_keeps_buffers_posted)
{
    const char *p[] = {"rx_post=3", NULL};
    struct rig r = rig_up(p);
    struct lyra_netdev_caps c;
    memset(&c, 0, sizeof(c));
    cr_assert_eq(r.ops->caps(r.nd->self, &c), 0);
    cr_assert_eq(c.rx_post, 3);
    cr_assert_eq(pool_used(&r), 3, "posted at start");
    cr_assert_eq(lt_stat(r.nd, "rx_posted"), 3);
    uint8_t f[100];
    frame(f, OUR_MAC, 100, 'a');
    cr_assert_eq(fake_netdev_deliver(r.nd->self, f, 100), 0);
    cr_assert_eq(r.seen->n, 1);
    cr_assert_arr_eq(r.seen->frame[0], f, 100);
    cr_assert_eq(pool_used(&r), 3, "the user freed it, a fresh one was posted");
    r.pool->cap = 4;
    r.seen->keep = true;
    for (int i = 0; i < 4; i++)
        cr_assert_eq(fake_netdev_deliver(r.nd->self, f, 100), 0, "frame %d", i);
    cr_assert_eq(lt_stat(r.nd, "rx_posted"), 0, "the user holds all four");
    cr_assert_eq(fake_netdev_deliver(r.nd->self, f, 100), -ENOBUFS);
    cr_assert_eq(lt_stat(r.nd, "rx_nobuf"), 1);
    for (int i = 1; i < 5; i++)
        lyra_skb_free(r.seen->kept[i]);
    r.seen->keep = false;
    lt_poll(r.nd, 8);
    cr_assert_eq(lt_stat(r.nd, "rx_posted"), 3, "refilled at the next poll");
    cr_assert_eq(fake_netdev_deliver(r.nd->self, f, 100), 0);
    cr_assert_eq(lt_stat(r.nd, "rx_frames"), 6);
    lt_stop(r.nd);
    cr_assert_eq(pool_used(&r), 0, "posted buffers go back at stop");
    rig_down(&r);
}

/* ---- checksum offload ---- */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (; n > 1; p += 2, n -= 2)
        s += (uint32_t)(p[0] << 8 | p[1]);
    if (n)
        s += (uint32_t)p[0] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* Ethernet + IPv4 + UDP with 20 bytes of payload; the UDP sum left as the
 * pseudo-header sum (partial) or finished. */
static size_t udp_frame(uint8_t *f, bool partial)
{
    memset(f, 0, 14 + 20 + 8 + 20);
    memcpy(f, OUR_MAC, 6);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[3] = 20 + 8 + 20;
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8);
    uint16_t hc = (uint16_t)~fold(sum16(ip, 20, 0));
    ip[10] = (uint8_t)(hc >> 8);
    ip[11] = (uint8_t)hc;
    uint8_t *u = ip + 20;
    u[1] = 7;
    u[3] = 9;
    u[5] = 28;
    for (int i = 0; i < 20; i++)
        u[8 + i] = (uint8_t)(i * 7);
    uint32_t pseudo = sum16(ip + 12, 8, 0) + 17 + 28;
    uint16_t c = partial ? fold(pseudo) : (uint16_t)~fold(sum16(u, 28, pseudo));
    u[6] = (uint8_t)(c >> 8);
    u[7] = (uint8_t)c;
    return 14 + 20 + 28;
}

static bool udp_ok(const uint8_t *f)
{
    const uint8_t *ip = f + 14;
    uint32_t pseudo = sum16(ip + 12, 8, 0) + 17 + 28;
    return fold(sum16(ip + 20, 28, pseudo)) == 0xffff;
}

Test(fake_netdev, csum_offload_inserts_and_verifies)
{
    const char *p[] = {"csum_tx=4", "csum_rx=5", NULL};
    struct rig r = rig_up(p);
    uint8_t f[100];
    size_t n = udp_frame(f, true);
    /* csum_start counts from head (skb.h): the frame starts `hr` bytes in */
    static const uint32_t hrs[] = {0, 40};
    for (unsigned k = 0; k < 2; k++) {
        struct lyra_skb *s = tp_alloc(r.pool, hrs[k], (uint32_t)n);
        memcpy(lyra_skb_put(s, (uint32_t)n), f, n);
        s->flags |= LYRA_SKB_F_CSUM_TX;
        s->csum_start = (uint16_t)(hrs[k] + 34);
        s->csum_off = 6;
        cr_assert_eq(r.ops->xmit(r.nd->self, s), 0);
        size_t len;
        const uint8_t *sent = fake_netdev_tx_frame(r.nd->self, k, &len);
        cr_assert(udp_ok(sent), "the NIC finished the checksum (headroom %u)", hrs[k]);
    }
    /* before the frame (from data, not head) or the field beyond it: refused */
    struct lyra_skb *s = tp_alloc(r.pool, 40, (uint32_t)n);
    memcpy(lyra_skb_put(s, (uint32_t)n), f, n);
    s->flags |= LYRA_SKB_F_CSUM_TX;
    s->csum_start = 34;
    s->csum_off = 6;
    cr_assert_eq(r.ops->xmit(r.nd->self, s), -EINVAL);
    s->csum_start = (uint16_t)(40 + n - 7); /* the field's second byte past the end */
    cr_assert_eq(r.ops->xmit(r.nd->self, s), -EINVAL);
    lyra_skb_free(s);
    cr_assert_eq(lt_stat(r.nd, "tx_invalid"), 2);
    cr_assert_eq(fake_netdev_tx_count(r.nd->self), 2);

    n = udp_frame(f, false);
    cr_assert_eq(fake_netdev_deliver(r.nd->self, f, n), 0);
    cr_assert(r.seen->flags[0] & LYRA_SKB_F_CSUM_OK);
    f[50] ^= 1;
    cr_assert_eq(fake_netdev_deliver(r.nd->self, f, n), 0);
    cr_assert(!(r.seen->flags[1] & LYRA_SKB_F_CSUM_OK), "a bad sum is left to the stack");
    rig_down(&r);
}

/* ---- pcap ---- */

static char *tmp_path(const char *tag)
{
    char *path = malloc(256);
    snprintf(path, 256, "/tmp/lyra-test-%s-%d.pcap", tag, (int)getpid());
    return path;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

Test(fake_netdev, pcap_round_trip)
{
    char *path = tmp_path("rt");
    char param[300];
    snprintf(param, sizeof(param), "tx_pcap=%s", path);
    const char *p[] = {param, NULL};
    struct rig r = rig_up(p);
    fake_os_advance(r.os->self, 1500 * MS);
    cr_assert_eq(r.ops->xmit(r.nd->self, mk_skb(&r, 42, 1)), 0);
    cr_assert_eq(r.ops->xmit(r.nd->self, mk_skb(&r, 1514, 2)), 0);
    cr_assert_eq(r.ops->xmit(r.nd->self, mk_skb(&r, 100, 3)), 0);
    uint8_t sent[3][1514];
    size_t sent_len[3];
    for (unsigned i = 0; i < 3; i++) {
        const uint8_t *fr = fake_netdev_tx_frame(r.nd->self, i, &sent_len[i]);
        memcpy(sent[i], fr, sent_len[i]);
    }
    rig_down(&r); /* stop completes the file */

    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    uint8_t h[40];
    cr_assert_eq(fread(h, 1, 40, f), 40);
    fclose(f);
    uint32_t magic, snap, link, sec, usec, incl;
    memcpy(&magic, h, 4);
    memcpy(&snap, h + 16, 4);
    memcpy(&link, h + 20, 4);
    memcpy(&sec, h + 24, 4);
    memcpy(&usec, h + 28, 4);
    memcpy(&incl, h + 32, 4);
    cr_assert_eq(magic, 0xa1b2c3d4u);
    cr_assert_eq(snap, 65535);
    cr_assert_eq(link, 1);
    cr_assert_eq(sec, 1);
    cr_assert_eq(usec, 500000, "time stamps come from the os clock");
    cr_assert_eq(incl, 60);

    snprintf(param, sizeof(param), "rx_pcap=%s", path);
    struct rig r2 = rig_up(p);
    for (unsigned i = 0; i < 3; i++) {
        cr_assert_eq(lt_poll(r2.nd, 64), 1, "one pcap frame per poll");
        cr_assert_eq(r2.seen->n, i + 1);
        cr_assert_eq(r2.seen->len[i], sent_len[i]);
        cr_assert_arr_eq(r2.seen->frame[i], sent[i], sent_len[i], "frame %u", i);
    }
    cr_assert_eq(lt_poll(r2.nd, 64), 0);
    cr_assert_eq(lt_poll(r2.nd, 64), 0);
    rig_down(&r2);
    unlink(path);
    free(path);
}

static int start_with_rx_pcap(const void *data, size_t len, struct rig *out)
{
    char *path = tmp_path("bad");
    if (data)
        write_file(path, data, len);
    else
        unlink(path);
    char param[300];
    snprintf(param, sizeof(param), "rx_pcap=%s", path);
    const char *p[] = {param, NULL};
    *out = rig_make(p);
    int rc = lt_start(out->nd);
    unlink(path);
    free(path);
    return rc;
}

static void pcap_hdr(uint8_t *h, uint32_t magic, uint32_t link)
{
    uint32_t v[6] = {magic, 2u | 4u << 16, 0, 0, 65535, link};
    memcpy(h, v, 24);
}

Test(fake_netdev, bad_pcap_is_a_start_error)
{
    struct rig r;
    uint8_t buf[24 + 16 + 10];

    /* a missing file */
    cr_assert_eq(start_with_rx_pcap(NULL, 0, &r), -ENOENT);
    rig_down(&r);

    /* shorter than the global header */
    pcap_hdr(buf, 0xa1b2c3d4u, 1);
    cr_assert_eq(start_with_rx_pcap(buf, 10, &r), -EINVAL);
    cr_assert(strstr(fake_os_last_log(r.os->self), "shorter"));
    rig_down(&r);

    /* pcapng, or anything else */
    pcap_hdr(buf, 0x0a0d0d0au, 1);
    cr_assert_eq(start_with_rx_pcap(buf, 24, &r), -EINVAL);
    cr_assert(strstr(fake_os_last_log(r.os->self), "magic"));
    rig_down(&r);

    /* not Ethernet */
    pcap_hdr(buf, 0xa1b2c3d4u, 101);
    cr_assert_eq(start_with_rx_pcap(buf, 24, &r), -EINVAL);
    cr_assert_eq(fake_os_log_count(r.os->self, LYRA_LOG_ERROR), 1);
    rig_down(&r);

    /* a record that claims more bytes than the file has */
    pcap_hdr(buf, 0xa1b2c3d4u, 1);
    uint32_t rec[4] = {0, 0, 100, 100};
    memcpy(buf + 24, rec, 16);
    memset(buf + 40, 0, 10);
    cr_assert_eq(start_with_rx_pcap(buf, sizeof(buf), &r), -EINVAL);
    cr_assert(strstr(fake_os_last_log(r.os->self), "truncated record"));
    rig_down(&r);

    /* a cut record header */
    cr_assert_eq(start_with_rx_pcap(buf, 24 + 7, &r), -EINVAL);
    cr_assert(strstr(fake_os_last_log(r.os->self), "truncated record header"));
    rig_down(&r);

    /* an absurd length */
    rec[2] = rec[3] = 0x7fffffff;
    memcpy(buf + 24, rec, 16);
    cr_assert_eq(start_with_rx_pcap(buf, sizeof(buf), &r), -EINVAL);
    rig_down(&r);

    /* a good, empty file in the other byte order is fine */
    pcap_hdr(buf, 0xa1b2c3d4u, 1);
    for (int i = 0; i < 24; i += 4) {
        uint32_t v;
        memcpy(&v, buf + i, 4);
        v = __builtin_bswap32(v);
        memcpy(buf + i, &v, 4);
    }
    /* version fields are 16-bit: swap them as such */
    uint16_t ver[2] = {__builtin_bswap16(2), __builtin_bswap16(4)};
    memcpy(buf + 4, ver, 4);
    cr_assert_eq(start_with_rx_pcap(buf, 24, &r), 0);
    cr_assert_eq(lt_poll(r.nd, 64), 0);
    rig_down(&r);
}

Test(fake_netdev, xmit_before_start_is_refused)
{
    struct rig r = rig_make(NULL);
    struct lyra_skb *s = mk_skb(&r, 60, 0);
    cr_assert_eq(r.ops->xmit(r.nd->self, s), -ENETDOWN);
    lyra_skb_free(s);
    uint8_t f[60] = {0};
    cr_assert_eq(fake_netdev_inject(r.nd->self, f, 60), -ENETDOWN);
    rig_down(&r);
}

/* What eth's start refuses, the parameter refuses, so `lyranet check`
 * refuses it too (a manifest mutation found the gap). */
Test(fake_netdev, mac_must_be_a_station_address)
{
    struct lt_inst *nd = NULL;
    cr_assert_eq(lt_try_create(&lyra_component_fake_netdev,
                               (const char *const[]){"mac=01:00:00:00:00:01", NULL}, &nd), -EINVAL);
    cr_assert_eq(lt_try_create(&lyra_component_fake_netdev,
                               (const char *const[]){"mac=00:00:00:00:00:00", NULL}, &nd), -EINVAL);
    cr_assert_null(nd);
    cr_assert_eq(lt_try_create(&lyra_component_fake_netdev,
                               (const char *const[]){"mac=02:00:00:00:00:07", NULL}, &nd), 0);
    lt_destroy(nd);
}

#ifdef HAVE_SKB_COPY
/* The same paths over the real buffer pool (components/skb). */
extern const struct lyra_component lyra_component_skb_copy;

Test(fake_netdev, works_over_skb_copy)
{
    struct lt_inst *os = lt_create(&lyra_component_fake_os, NULL);
    const char *sp[] = {"count=4", NULL};
    struct lt_inst *skb = lt_create(&lyra_component_skb_copy, sp);
    struct lt_inst *nd = lt_create(&lyra_component_fake_netdev, NULL);
    cr_assert_eq(lt_bind(skb, "os", os), 0);
    cr_assert_eq(lt_bind(nd, "os", os), 0);
    cr_assert_eq(lt_bind(nd, "skb", skb), 0);
    struct seen *seen = calloc(1, sizeof(*seen));
    cr_assert_eq(lyra_component_fake_netdev.provides[0].attach(nd->self, &test_events, seen), 0);
    cr_assert_eq(lt_start(os), 0);
    cr_assert_eq(lt_start(skb), 0);
    cr_assert_eq(lt_start(nd), 0);

    uint8_t f[1514];
    frame(f, OUR_MAC, sizeof(f), 'q');
    cr_assert_eq(fake_netdev_inject(nd->self, f, sizeof(f)), 0);
    cr_assert_eq(fake_netdev_inject(nd->self, f, 42), 0);
    cr_assert_eq(lt_poll(nd, 64), 2);
    cr_assert_eq(seen->n, 2);
    cr_assert_eq(seen->len[0], sizeof(f));
    cr_assert_arr_eq(seen->frame[0], f, sizeof(f));

    const struct lyra_skb_ops *so = lt_ops(skb, LYRA_SKB_IFACE);
    struct lyra_skb *s = so->alloc(skb->self, 64, 30);
    cr_assert_not_null(s);
    cr_assert_eq(so->add_data(skb->self, s, f, 30, 0, NULL), 30);
    const struct lyra_netdev_ops *no = lt_ops(nd, LYRA_NETDEV_IFACE);
    cr_assert_eq(no->xmit(nd->self, s), 0);
    size_t len;
    const uint8_t *sent = fake_netdev_tx_frame(nd->self, 0, &len);
    cr_assert_eq(len, 60);
    cr_assert_arr_eq(sent, f, 30);
    cr_assert_eq(so->avail(skb->self), 4, "every buffer went back to the pool");

    lt_stop(nd);
    lt_stop(skb);
    lt_destroy(nd);
    lt_destroy(skb);
    cr_assert_eq(fake_os_mem_in_use(os->self), 0);
    lt_destroy(os);
    free(seen);
}
#endif
