/* Unit tests of skb_copy, the copying buffer manager, alone: its os slot is
 * bound to fake_os (leak checks through fake_os_mem_in_use), or to the small
 * os below where a test must make mem_alloc fail (fake_os cannot). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_os.h"
#include "lt.h"
#include "lyra/component.h"
#include "lyra/os.h"
#include "lyra/skb.h"
#include "lyra/skb_csum.h"
#include "lyra/value.h"

extern const struct lyra_component lyra_component_skb_copy;

/* ---- a minimal os whose mem_alloc can be made to fail ---- */

struct mini_os {
    uint64_t in_use;   /* bytes */
    unsigned nalloc;   /* successful mem_alloc calls */
    int fail_at;       /* 0: never; n: the n-th mem_alloc call returns NULL */
    unsigned calls;
    unsigned logs[4];
};

struct mini_blk {
    size_t size;
    void *raw;
};

static void *mini_mem_alloc(void *self, size_t size, size_t align)
{
    struct mini_os *m = self;
    if (m->fail_at && (int)++m->calls == m->fail_at)
        return NULL;
    if (align < sizeof(struct mini_blk))
        align = sizeof(struct mini_blk);
    /* room for the block record just before the aligned pointer */
    uint8_t *raw = malloc(size + align + sizeof(struct mini_blk));
    if (!raw)
        return NULL;
    uintptr_t p = ((uintptr_t)raw + sizeof(struct mini_blk) + align - 1) & ~(uintptr_t)(align - 1);
    struct mini_blk b = {size, raw};
    memcpy((uint8_t *)p - sizeof(b), &b, sizeof(b));
    m->in_use += size;
    m->nalloc++;
    return (void *)p;
}

static void mini_mem_free(void *self, void *p)
{
    struct mini_os *m = self;
    if (!p)
        return;
    struct mini_blk b;
    memcpy(&b, (uint8_t *)p - sizeof(b), sizeof(b));
    m->in_use -= b.size;
    free(b.raw);
}

static void mini_vlog(void *self, int level, const char *who, const char *fmt, va_list ap)
{
    struct mini_os *m = self;
    if (level >= 0 && level < 4)
        m->logs[level]++;
}

static const struct lyra_os_ops mini_os_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_OS_IFACE, LYRA_OS_MAJOR, LYRA_OS_MINOR, struct lyra_os_ops),
    .vlog = mini_vlog,
    .mem_alloc = mini_mem_alloc,
    .mem_free = mini_mem_free,
};

/* ---- fake_os, wrapped for brevity ---- */

struct tos {
    struct lt_inst *inst;
};

static struct tos *tos_new(void)
{
    struct tos *t = calloc(1, sizeof(*t));
    t->inst = lt_create(&lyra_component_fake_os, NULL);
    cr_assert_eq(lt_start(t->inst), 0);
    return t;
}

static void tos_bind(struct tos *t, struct lt_inst *user)
{
    cr_assert_eq(lt_bind(user, "os", t->inst), 0);
}

/* Bytes from mem_alloc not yet freed. */
static uint64_t tos_mem(struct tos *t)
{
    return fake_os_mem_in_use(t->inst->self);
}

static unsigned tos_warns(struct tos *t)
{
    return fake_os_log_count(t->inst->self, LYRA_LOG_WARN);
}

static void tos_free(struct tos *t)
{
    lt_destroy(t->inst);
    free(t);
}

/* ---- fixtures ---- */

struct env {
    struct tos *os;
    struct lt_inst *skb;
    const struct lyra_skb_ops *ops;
    void *self;
};

static struct env env_new(const char *const *params)
{
    struct env e;
    e.os = tos_new();
    e.skb = lt_create(&lyra_component_skb_copy, params);
    tos_bind(e.os, e.skb);
    cr_assert_eq(lt_start(e.skb), 0);
    e.ops = lt_ops(e.skb, LYRA_SKB_IFACE);
    cr_assert_not_null(e.ops);
    e.self = e.skb->self;
    return e;
}

/* Stops and destroys; checks that every byte went back to the os. */
static void env_done(struct env *e)
{
    lt_destroy(e->skb);
    cr_assert_eq(tos_mem(e->os), 0, "memory left after destroy");
    tos_free(e->os);
}

static uint64_t st(struct env *e, const char *name)
{
    uint64_t v = lt_stat(e->skb, name);
    cr_assert_neq(v, UINT64_MAX, "no counter %s", name);
    return v;
}

static struct lyra_skb *xalloc(struct env *e, uint32_t headroom, uint32_t size)
{
    return e->ops->alloc(e->self, headroom, size);
}

static struct lyra_skb *xalloc_rx(struct env *e, uint32_t size)
{
    return e->ops->alloc_rx(e->self, size);
}

#define P(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- defaults and layout ---- */

Test(skb_copy, defaults)
{
    struct env e = env_new(NULL);
    cr_assert_eq(st(&e, "count"), 256);
    cr_assert_eq(e.ops->avail(e.self), 256);
    cr_assert_eq(st(&e, "in_use"), 0);

    struct lyra_skb *s = xalloc(&e, 0, 100);
    cr_assert_not_null(s);
    cr_assert_eq(lyra_skb_headroom(s), 128, "default transmit headroom");
    cr_assert_eq(s->size, 2048);
    cr_assert_eq(s->len, 0);
    cr_assert_eq(s->refcnt, 1);
    cr_assert_eq(s->flags, 0);
    cr_assert_eq(lyra_skb_tailroom(s), 2048 - 128);
    cr_assert_eq((uintptr_t)s->head % 64, 0, "buffers are cache-line aligned");

    struct lyra_skb *r = xalloc_rx(&e, 1518);
    cr_assert_not_null(r);
    cr_assert_eq(lyra_skb_headroom(r), 2);
    cr_assert(r->flags & LYRA_SKB_F_RX);
    cr_assert_eq((uintptr_t)(r->data + 14) % 4, 0, "IP header after Ethernet is aligned");
    cr_assert_neq(r->head, s->head);

    cr_assert_eq(st(&e, "alloc"), 1);
    cr_assert_eq(st(&e, "alloc_rx"), 1);
    cr_assert_eq(st(&e, "in_use"), 2);
    cr_assert_eq(e.ops->avail(e.self), 254);
    lyra_skb_free(s);
    lyra_skb_free(r);
    cr_assert_eq(st(&e, "free"), 2);
    cr_assert_eq(st(&e, "in_use"), 0);
    env_done(&e);
}

Test(skb_copy, owner_is_the_instance)
{
    struct env e = env_new(P("count=2"));
    struct lyra_skb *s = xalloc(&e, 0, 10);
    cr_assert_eq(s->owner_ops, e.ops);
    cr_assert_eq(s->owner, e.self);
    lyra_skb_free(NULL); /* harmless */
    lyra_skb_free(s);
    cr_assert_eq(e.ops->avail(e.self), 2);
    e.ops->free(e.self, NULL);
    cr_assert_eq(st(&e, "bad_free"), 0);
    env_done(&e);
}

Test(skb_copy, buffers_do_not_overlap)
{
    struct env e = env_new(P("count=8", "buf_size=300"));
    struct lyra_skb *s[8];
    for (int i = 0; i < 8; i++) {
        s[i] = xalloc(&e, 0, 300);
        cr_assert_not_null(s[i]);
        cr_assert_eq(s[i]->size, 300);
        memset(s[i]->head, i + 1, s[i]->size);
    }
    for (int i = 0; i < 8; i++)
        for (uint32_t k = 0; k < 300; k++)
            cr_assert_eq(s[i]->head[k], i + 1, "buffer %d byte %u overwritten", i, k);
    for (int i = 0; i < 8; i++)
        lyra_skb_free(s[i]);
    env_done(&e);
}

/* ---- exhaustion, size, reserve ---- */

Test(skb_copy, exhaustion_is_null_counted_and_recovers)
{
    struct env e = env_new(P("count=4"));
    struct lyra_skb *s[4];
    for (int i = 0; i < 4; i++)
        cr_assert_not_null(s[i] = xalloc(&e, 0, 64));
    cr_assert_null(xalloc(&e, 0, 64));
    cr_assert_null(xalloc_rx(&e, 64));
    cr_assert_eq(st(&e, "alloc_fail_empty"), 2);
    cr_assert_eq(st(&e, "in_use"), 4);
    cr_assert_eq(st(&e, "high_water"), 4);
    cr_assert_eq(e.ops->avail(e.self), 0);

    lyra_skb_free(s[2]);
    cr_assert_eq(e.ops->avail(e.self), 1);
    s[2] = xalloc(&e, 0, 64);
    cr_assert_not_null(s[2]);
    for (int i = 0; i < 4; i++)
        lyra_skb_free(s[i]);
    cr_assert_eq(st(&e, "in_use"), 0);
    cr_assert_eq(st(&e, "high_water"), 4);
    cr_assert_eq(st(&e, "alloc"), 5);
    cr_assert_eq(st(&e, "free"), 5);
    /* the whole pool is usable again */
    for (int i = 0; i < 4; i++)
        cr_assert_not_null(s[i] = xalloc_rx(&e, 64));
    for (int i = 0; i < 4; i++)
        lyra_skb_free(s[i]);
    env_done(&e);
}

Test(skb_copy, too_big_is_null_and_counted)
{
    struct env e = env_new(P("count=4")); /* buf_size 2048, headroom 128, rx_headroom 2 */
    cr_assert_null(xalloc(&e, 0, 2049));
    cr_assert_null(xalloc(&e, 100, 1949));
    cr_assert_null(xalloc(&e, UINT32_MAX, 1));
    cr_assert_null(xalloc(&e, 1, UINT32_MAX));
    cr_assert_null(xalloc_rx(&e, 2049));
    cr_assert_null(xalloc_rx(&e, UINT32_MAX));
    cr_assert_eq(st(&e, "alloc_fail_size"), 6);
    cr_assert_eq(st(&e, "alloc_fail_empty"), 0);
    cr_assert_eq(e.ops->avail(e.self), 4);

    /* The headroom parameter is a floor only where it fits beside size. */
    struct lyra_skb *a = xalloc(&e, 0, 2048);
    cr_assert_not_null(a);
    cr_assert_eq(lyra_skb_headroom(a), 0);
    cr_assert_eq(lyra_skb_tailroom(a), 2048);
    struct lyra_skb *b = xalloc(&e, 100, 1948);
    cr_assert_eq(lyra_skb_headroom(b), 100);
    struct lyra_skb *c = xalloc(&e, 0, 1948);
    cr_assert_eq(lyra_skb_headroom(c), 100, "128 clamped to what fits");
    struct lyra_skb *d = xalloc(&e, 200, 16);
    cr_assert_eq(lyra_skb_headroom(d), 200, "more than the default when asked");
    cr_assert_geq(lyra_skb_tailroom(d), 16);
    lyra_skb_free(a);
    lyra_skb_free(b);
    lyra_skb_free(c);
    lyra_skb_free(d);

    struct lyra_skb *r = xalloc_rx(&e, 2047);
    cr_assert_eq(lyra_skb_headroom(r), 1);
    lyra_skb_free(r);
    r = xalloc_rx(&e, 2048);
    cr_assert_eq(lyra_skb_headroom(r), 0);
    cr_assert_eq(lyra_skb_tailroom(r), 2048);
    lyra_skb_free(r);
    cr_assert_eq(st(&e, "alloc_fail_size"), 6);
    env_done(&e);
}

Test(skb_copy, reserve_rx_keeps_buffers_for_receive)
{
    struct env e = env_new(P("count=4", "reserve_rx=2"));
    struct lyra_skb *t0 = xalloc(&e, 0, 10), *t1 = xalloc(&e, 0, 10);
    cr_assert_not_null(t0);
    cr_assert_not_null(t1);
    cr_assert_null(xalloc(&e, 0, 10), "transmit may not take the reserve");
    cr_assert_eq(st(&e, "alloc_fail_empty"), 1);
    cr_assert_eq(e.ops->avail(e.self), 2);

    struct lyra_skb *r0 = xalloc_rx(&e, 10), *r1 = xalloc_rx(&e, 10);
    cr_assert_not_null(r0);
    cr_assert_not_null(r1);
    cr_assert_null(xalloc_rx(&e, 10));
    cr_assert_eq(st(&e, "alloc_fail_empty"), 2);

    lyra_skb_free(t0);
    cr_assert_null(xalloc(&e, 0, 10), "one free is still within the reserve");
    struct lyra_skb *r2 = xalloc_rx(&e, 10);
    cr_assert_not_null(r2);
    lyra_skb_free(t1);
    lyra_skb_free(r0);
    lyra_skb_free(r1);
    lyra_skb_free(r2);
    /* above the reserve again: transmit works */
    t0 = xalloc(&e, 0, 10);
    t1 = xalloc(&e, 0, 10);
    cr_assert_not_null(t0);
    cr_assert_not_null(t1);
    lyra_skb_free(t0);
    lyra_skb_free(t1);
    env_done(&e);
}

Test(skb_copy, reserve_rx_equal_to_count_is_receive_only)
{
    struct env e = env_new(P("count=2", "reserve_rx=2"));
    cr_assert_null(xalloc(&e, 0, 10));
    struct lyra_skb *r = xalloc_rx(&e, 10);
    cr_assert_not_null(r);
    lyra_skb_free(r);
    env_done(&e);
}

/* ---- transmit classes and tx_avail (skb 1.2) ---- */

static struct lyra_skb *xalloc_cls(struct env *e, int cls, uint32_t hr, uint32_t size)
{
    return e->ops->alloc_cls(e->self, cls, hr, size);
}

Test(skb_copy, reserve_ctl_is_for_control_transmits_only)
{
    struct env e = env_new(P("count=5", "reserve_rx=1", "reserve_ctl=2"));
    cr_assert_eq(e.ops->tx_avail(e.self, LYRA_SKB_DATA, 0), 2);
    cr_assert_eq(e.ops->tx_avail(e.self, LYRA_SKB_CTL, 0), 4);
    struct lyra_skb *d0 = xalloc_cls(&e, LYRA_SKB_DATA, 0, 10);
    struct lyra_skb *d1 = xalloc(&e, 0, 10); /* alloc is a data alloc */
    cr_assert_not_null(d0);
    cr_assert_not_null(d1);
    cr_assert_eq(e.ops->tx_avail(e.self, LYRA_SKB_DATA, 0), 0);
    cr_assert_null(xalloc(&e, 0, 10), "data may not take the control reserve");
    cr_assert_null(xalloc_cls(&e, LYRA_SKB_DATA, 0, 10));
    cr_assert_eq(st(&e, "alloc_fail_empty"), 2);
    /* avail still counts them all: it is what receive can take */
    cr_assert_eq(e.ops->avail(e.self), 3);

    cr_assert_eq(e.ops->tx_avail(e.self, LYRA_SKB_CTL, 0), 2);
    struct lyra_skb *c0 = xalloc_cls(&e, LYRA_SKB_CTL, 0, 10);
    struct lyra_skb *c1 = xalloc_cls(&e, LYRA_SKB_CTL, 0, 10);
    cr_assert_not_null(c0);
    cr_assert_not_null(c1);
    cr_assert_eq(e.ops->tx_avail(e.self, LYRA_SKB_CTL, 0), 0);
    cr_assert_null(xalloc_cls(&e, LYRA_SKB_CTL, 0, 10), "control leaves reserve_rx");
    struct lyra_skb *r = xalloc_rx(&e, 10);
    cr_assert_not_null(r, "receive takes the last buffer");

    lyra_skb_free(c0);
    cr_assert_eq(e.ops->tx_avail(e.self, LYRA_SKB_DATA, 0), 0);
    cr_assert_eq(e.ops->tx_avail(e.self, LYRA_SKB_CTL, 0), 0, "one free: reserve_rx");
    lyra_skb_free(r);
    cr_assert_eq(e.ops->tx_avail(e.self, LYRA_SKB_CTL, 0), 1);
    lyra_skb_free(c1);
    lyra_skb_free(d0);
    cr_assert_eq(e.ops->tx_avail(e.self, LYRA_SKB_DATA, 0), 1);
    lyra_skb_free(d1);
    cr_assert_eq(e.ops->tx_avail(e.self, LYRA_SKB_DATA, 0), 2);
    cr_assert_eq(st(&e, "in_use"), 0);
    env_done(&e);
}

/* tx_avail > 0 exactly when the alloc it describes succeeds. */
Test(skb_copy, tx_avail_predicts_alloc)
{
    struct env e = env_new(P("count=6", "reserve_rx=2", "reserve_ctl=1", "buf_size=512"));
    struct lyra_skb *held[6];
    unsigned n = 0;
    for (;;) {
        uint32_t a = e.ops->tx_avail(e.self, LYRA_SKB_DATA, 100);
        struct lyra_skb *s = xalloc(&e, 100, 412);
        cr_assert_eq(a > 0, s != NULL, "tx_avail %u, alloc %p", (unsigned)a, (void *)s);
        if (!s)
            break;
        held[n++] = s;
    }
    cr_assert_eq(n, 3);
    while (n)
        lyra_skb_free(held[--n]);
    /* a headroom no normal buffer can hold: no alloc of that shape exists */
    cr_assert_eq(e.ops->tx_avail(e.self, LYRA_SKB_DATA, 513), 0);
    env_done(&e);
}

Test(skb_copy, unknown_class_is_refused_and_counted)
{
    struct env e = env_new(P("count=2"));
    cr_assert_null(xalloc_cls(&e, 7, 0, 10));
    cr_assert_null(xalloc_cls(&e, -1, 0, 10));
    cr_assert_eq(st(&e, "alloc_bad_cls"), 2);
    cr_assert_eq(e.ops->tx_avail(e.self, 7, 0), 0);
    cr_assert_eq(st(&e, "in_use"), 0);
    env_done(&e);
}

Test(skb_copy, reserves_larger_than_count_are_refused)
{
    struct lt_inst *s = NULL;
    cr_assert_eq(lt_try_create(&lyra_component_skb_copy,
                               P("count=4", "reserve_rx=2", "reserve_ctl=3"), &s),
                 -EINVAL);
    cr_assert_null(s);
    cr_assert_eq(lt_try_create(&lyra_component_skb_copy,
                               P("count=4", "reserve_rx=2", "reserve_ctl=2"), &s),
                 0);
    lt_destroy(s);
}

/* ---- send completion ---- */

struct done_rec {
    struct env *e;
    unsigned calls;
    struct lyra_skb *skb;
    uint64_t in_use_then;  /* the buffer is still out while done runs */
    struct lyra_skb *alloc_in_cb;
};

static void on_done(void *ctx, struct lyra_skb *s)
{
    struct done_rec *d = ctx;
    d->calls++;
    d->skb = s;
    d->in_use_then = lt_stat(d->e->skb, "in_use");
    /* done may allocate (and would send) other buffers */
    d->alloc_in_cb = d->e->ops->alloc(d->e->self, 0, 10);
}

Test(skb_copy, done_runs_once_at_the_last_reference)
{
    struct env e = env_new(P("count=4"));
    struct done_rec d = {.e = &e};
    struct lyra_skb *s = xalloc(&e, 0, 10);
    cr_assert_null(s->done, "a new skb has no completion");
    lyra_skb_set_done(s, on_done, &d);
    lyra_skb_ref(s); /* e.g. a transport's copy kept for retransmission */
    lyra_skb_free(s);
    cr_assert_eq(d.calls, 0, "a reference is left");
    lyra_skb_free(s);
    cr_assert_eq(d.calls, 1);
    cr_assert_eq(d.skb, s);
    cr_assert_eq(d.in_use_then, 1, "done runs before the buffer goes back");
    cr_assert_not_null(d.alloc_in_cb);
    cr_assert_eq(st(&e, "in_use"), 1, "only what the callback allocated");
    /* a second free of it is a bad free: done does not run again */
    lyra_skb_free(s);
    cr_assert_eq(d.calls, 1);
    cr_assert_eq(st(&e, "bad_free"), 1);
    /* the buffer comes back without the old callback */
    lyra_skb_free(d.alloc_in_cb);
    struct lyra_skb *t = xalloc(&e, 0, 10), *u = xalloc(&e, 0, 10);
    cr_assert_null(t->done);
    cr_assert_null(u->done);
    lyra_skb_free(t);
    lyra_skb_free(u);
    cr_assert_eq(d.calls, 1);
    env_done(&e);
}

/* ---- skb.h helpers on a pool buffer ---- */

Test(skb_copy, push_pull_put_trim)
{
    struct env e = env_new(P("count=2", "buf_size=256", "headroom=0"));
    struct lyra_skb *s = xalloc(&e, 16, 100);
    cr_assert_eq(lyra_skb_headroom(s), 16);
    cr_assert_eq(lyra_skb_tailroom(s), 240);

    uint8_t *p = lyra_skb_put(s, 100);
    cr_assert_eq(p, s->head + 16);
    memset(p, 0xab, 100);
    cr_assert_eq(s->len, 100);
    cr_assert_null(lyra_skb_put(s, 141), "past the end");
    cr_assert_eq(s->len, 100);
    cr_assert_not_null(lyra_skb_put(s, 140));
    cr_assert_eq(lyra_skb_tailroom(s), 0);
    cr_assert_null(lyra_skb_put(s, 1));
    cr_assert_eq(lyra_skb_trim(s, 100), 0);
    cr_assert_eq(s->len, 100);
    cr_assert_eq(lyra_skb_trim(s, 200), 0, "trim never grows");
    cr_assert_eq(s->len, 100);

    uint8_t *h = lyra_skb_push(s, 14);
    cr_assert_eq(h, s->head + 2);
    cr_assert_eq(s->len, 114);
    cr_assert_null(lyra_skb_push(s, 3), "only 2 bytes of headroom left");
    cr_assert_not_null(lyra_skb_push(s, 2));
    cr_assert_eq(lyra_skb_headroom(s), 0);
    cr_assert_null(lyra_skb_push(s, 1));
    cr_assert_eq(s->len, 116);

    cr_assert_eq(lyra_skb_pull(s, 16), s->head + 16);
    cr_assert_eq(s->data[0], 0xab);
    cr_assert_null(lyra_skb_pull(s, 101));
    cr_assert_eq(s->len, 100);
    cr_assert_not_null(lyra_skb_pull(s, 100));
    cr_assert_eq(s->len, 0);

    /* with a segment: no tailroom */
    static const uint8_t seg[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct lyra_skb_seg g = {.ptr = seg, .len = sizeof(seg)};
    lyra_skb_seg_append(s, &g);
    cr_assert_eq(lyra_skb_tailroom(s), 0);
    cr_assert_null(lyra_skb_put(s, 1));
    cr_assert_eq(lyra_skb_total(s), 8);
    lyra_skb_free(s);
    env_done(&e);
}

/* pull_up and trim on an skb with segments (received skbs may have them). */
Test(skb_copy, pull_up_and_trim_with_segments)
{
    struct env e = env_new(P("count=2", "buf_size=256", "headroom=0"));
    struct lyra_skb *s = xalloc(&e, 0, 4);
    memcpy(lyra_skb_put(s, 4), "abcd", 4);
    static const uint8_t g0[3] = {'e', 'f', 'g'}, g1[5] = {'h', 'i', 'j', 'k', 'l'};
    struct lyra_skb_seg d[3] = {{.ptr = g0, .len = 3}, {.ptr = g1, .len = 5}, {.ptr = g1, .len = 5}};
    lyra_skb_seg_append(s, &d[0]);
    lyra_skb_seg_append(s, &d[1]);
    cr_assert_eq(lyra_skb_pull_up(s, 3), s->data, "already linear");
    cr_assert_eq(s->len, 4);
    cr_assert_null(lyra_skb_pull_up(s, 13), "longer than the frame");
    cr_assert_eq(s->len, 4, "nothing changed");
    cr_assert_eq(lyra_skb_pull_up(s, 9), s->data);
    cr_assert_eq(s->len, 9);
    cr_assert_eq(memcmp(s->data, "abcdefghi", 9), 0);
    cr_assert_eq(d[0].len, 0, "emptied, kept in place");
    cr_assert_eq(s->seg, &d[0]);
    cr_assert_eq(d[1].len, 3);
    cr_assert_eq(s->seg_len, 3);
    cr_assert_eq(lyra_skb_total(s), 12);
    uint8_t all[16];
    cr_assert_eq(lyra_skb_flatten(s, all, sizeof(all)), 12);
    cr_assert_eq(memcmp(all, "abcdefghijkl", 12), 0, "the frame is the same");
    /* trim into the segments, then into the linear part */
    cr_assert_eq(lyra_skb_trim(s, 10), 0);
    cr_assert_eq(lyra_skb_total(s), 10);
    cr_assert_eq(d[1].len, 1);
    cr_assert_eq(lyra_skb_trim(s, 20), 0);
    cr_assert_eq(lyra_skb_total(s), 10, "trim never grows");
    cr_assert_eq(lyra_skb_trim(s, 2), 0);
    cr_assert_eq(s->len, 2);
    cr_assert_eq(s->seg_len, 0);
    cr_assert_eq(lyra_skb_total(s), 2);
    /* no room in the buffer: refused, unchanged */
    struct lyra_skb *t = xalloc(&e, 0, 256);
    lyra_skb_put(t, 256);
    lyra_skb_seg_append(t, &d[2]);
    cr_assert_null(lyra_skb_pull_up(t, 257));
    cr_assert_eq(t->len, 256);
    cr_assert_eq(t->seg_len, 5);
    lyra_skb_free(s);
    lyra_skb_free(t);
    env_done(&e);
}

Test(skb_copy, allocation_resets_every_field)
{
    struct env e = env_new(P("count=1", "headroom=32"));
    struct lyra_skb *s = xalloc_rx(&e, 100);
    struct lyra_skb *prev = s;
    lyra_skb_put(s, 50);
    s->next = s;
    s->flags |= LYRA_SKB_F_CSUM_OK | LYRA_SKB_F_BCAST;
    s->protocol = 0x0800;
    s->csum_start = 1;
    s->csum_off = 2;
    s->l3_off = 14;
    s->l4_off = 34;
    s->tstamp = 99;
    static struct lyra_skb_seg x = {.ptr = (const uint8_t *)"x", .len = 1, .flags = LYRA_SEG_F_USER};
    lyra_skb_seg_append(s, &x);
    memset(s->cb, 0x5a, sizeof(s->cb));
    lyra_skb_free(s);

    s = xalloc(&e, 0, 100);
    cr_assert_eq(s, prev, "one buffer in the pool");
    cr_assert_null(s->next);
    cr_assert_eq(s->flags, 0, "no F_RX on a transmit buffer");
    cr_assert_eq(s->len, 0);
    cr_assert_eq(s->nseg, 0);
    cr_assert_eq(s->seg_len, 0);
    cr_assert_eq(s->protocol, 0);
    cr_assert_eq(s->csum_start, 0);
    cr_assert_eq(s->csum_off, 0);
    cr_assert_eq(s->l3_off, 0);
    cr_assert_eq(s->l4_off, 0);
    cr_assert_eq(s->tstamp, 0);
    cr_assert_null(s->seg);
    cr_assert_null(s->seg_last);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(s->cb[i], 0);
    cr_assert_eq(s->refcnt, 1);
    cr_assert_eq(lyra_skb_headroom(s), 32);
    cr_assert_eq(s->owner_ops, e.ops);
    cr_assert_eq(s->owner, e.self);
    lyra_skb_free(s);
    env_done(&e);
}

/* ---- references and bad frees ---- */

Test(skb_copy, refcount)
{
    struct env e = env_new(P("count=2"));
    struct lyra_skb *s = xalloc(&e, 0, 10);
    lyra_skb_ref(s);
    cr_assert_eq(s->refcnt, 2);
    lyra_skb_free(s);
    cr_assert_eq(st(&e, "in_use"), 1, "one reference left");
    cr_assert_eq(st(&e, "free"), 0);
    cr_assert_eq(s->refcnt, 1);
    lyra_skb_free(s);
    cr_assert_eq(st(&e, "in_use"), 0);
    cr_assert_eq(st(&e, "free"), 1);
    cr_assert_eq(st(&e, "bad_free"), 0);
    env_done(&e);
}

Test(skb_copy, double_free_is_counted_and_harmless)
{
    struct env e = env_new(P("count=2"));
    struct lyra_skb *s = xalloc(&e, 0, 10);
    lyra_skb_free(s);
    unsigned warns = tos_warns(e.os);
    lyra_skb_free(s); /* refcnt already 0 and back in the pool */
    cr_assert_eq(st(&e, "bad_free"), 1);
    cr_assert_eq(tos_warns(e.os), warns + 1, "logged");
    cr_assert_eq(st(&e, "free"), 1);
    cr_assert_eq(e.ops->avail(e.self), 2, "not pushed twice");
    /* The pool's own record decides, not the header: a stale holder that
     * takes a reference on a free skb and drops it is caught too. */
    lyra_skb_ref(s);
    lyra_skb_free(s);
    cr_assert_eq(st(&e, "bad_free"), 2);
    cr_assert_eq(e.ops->avail(e.self), 2, "not pushed twice");

    /* The pool still hands out two distinct buffers, then none. */
    struct lyra_skb *a = xalloc(&e, 0, 10), *b = xalloc(&e, 0, 10);
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert_neq(a, b);
    cr_assert_null(xalloc(&e, 0, 10));
    lyra_skb_free(a);
    lyra_skb_free(b);
    cr_assert_eq(st(&e, "in_use"), 0);
    env_done(&e);
}

Test(skb_copy, zeroed_refcnt_is_a_bad_free)
{
    struct env e = env_new(P("count=2"));
    struct lyra_skb *s = xalloc(&e, 0, 10);
    s->refcnt = 0; /* a holder wrote over the header */
    lyra_skb_free(s);
    cr_assert_eq(st(&e, "bad_free"), 1);
    cr_assert_eq(e.ops->avail(e.self), 1, "left out rather than guessed at");
    s->refcnt = 1;
    lyra_skb_free(s);
    cr_assert_eq(e.ops->avail(e.self), 2);
    env_done(&e);
}

Test(skb_copy, stranger_free_is_counted_and_harmless)
{
    struct env e = env_new(P("count=2"));
    struct lyra_skb fake;
    memset(&fake, 0, sizeof(fake));
    fake.refcnt = 1;
    e.ops->free(e.self, &fake);
    cr_assert_eq(st(&e, "bad_free"), 1);
    cr_assert_eq(fake.refcnt, 1, "not touched");

    /* A pointer into the header array that is not a header. */
    struct lyra_skb *s = xalloc(&e, 0, 10);
    e.ops->free(e.self, (struct lyra_skb *)((uint8_t *)s + 8));
    cr_assert_eq(st(&e, "bad_free"), 2);
    cr_assert_eq(s->refcnt, 1);
    cr_assert_eq(st(&e, "in_use"), 1);
    lyra_skb_free(s);

    /* An skb of another instance handed to this one. */
    struct env o = env_new(P("count=2"));
    struct lyra_skb *t = xalloc(&o, 0, 10);
    e.ops->free(e.self, t);
    cr_assert_eq(st(&e, "bad_free"), 3);
    cr_assert_eq(st(&o, "bad_free"), 0);
    cr_assert_eq(st(&o, "in_use"), 1);
    cr_assert_eq(e.ops->avail(e.self), 2);
    lyra_skb_free(t);
    cr_assert_eq(st(&o, "in_use"), 0);
    env_done(&o);
    env_done(&e);
}

Test(skb_copy, bad_free_log_is_rate_limited)
{
    struct env e = env_new(P("count=1"));
    struct lyra_skb *s = xalloc(&e, 0, 10);
    lyra_skb_free(s);
    unsigned warns = tos_warns(e.os);
    for (int i = 0; i < 1000; i++)
        e.ops->free(e.self, s);
    cr_assert_eq(st(&e, "bad_free"), 1000);
    unsigned logged = tos_warns(e.os) - warns;
    cr_assert_geq(logged, 8);
    cr_assert_lt(logged, 20);
    env_done(&e);
}

/* ---- copies ---- */

Test(skb_copy, add_data_copies_and_counts)
{
    struct env e = env_new(P("count=2", "buf_size=256", "headroom=0"));
    struct lyra_skb *s = xalloc(&e, 56, 200);
    uint8_t src[512];
    for (int i = 0; i < 512; i++)
        src[i] = (uint8_t)(i * 7 + 3);
    uint32_t cp = 99;
    cr_assert_eq(e.ops->add_data(e.self, s, src, 100, 0, &cp), 100);
    cr_assert_eq(cp, 100, "all of it copied");
    cr_assert_eq(e.ops->add_data(e.self, s, src + 100, 50, LYRA_SEG_F_USER, NULL), 50);
    cr_assert_eq(s->len, 150);
    cr_assert_eq(s->nseg, 0, "in the linear tail while it has room");
    cr_assert_eq(memcmp(s->data, src, 150), 0);
    cr_assert_eq(st(&e, "copy_bytes"), 150);
    cr_assert_eq(st(&e, "copy_calls"), 2);

    /* skb 2.0: beyond the linear tail, into another buffer of the pool,
     * chained as a segment that holds it */
    cr_assert_eq(e.ops->add_data(e.self, s, src + 150, 51, 0, &cp), 51);
    cr_assert_eq(cp, 51);
    cr_assert_eq(s->len, 200);
    cr_assert_eq(s->nseg, 1);
    cr_assert_eq(s->seg_len, 1);
    cr_assert_not_null(s->seg->ref, "the segment holds the buffer it shows");
    cr_assert_eq(st(&e, "in_use"), 2);
    cr_assert_eq(st(&e, "segs_in_use"), 1);
    uint8_t out[512];
    cr_assert_eq(e.ops->copy_out(e.self, s, 0, out, 201), 0);
    cr_assert_eq(memcmp(out, src, 201), 0, "the frame is the bytes added, in order");
    /* the second buffer has room left: more goes into a new one, none is
     * free: nothing taken, counted (the caller decides) */
    cr_assert_eq(e.ops->add_data(e.self, s, src, 10, 0, &cp), 0);
    cr_assert_eq(cp, 0);
    cr_assert_eq(st(&e, "add_data_short"), 1);
    cr_assert_eq(lyra_skb_total(s), 201, "nothing changed");
    /* more than the whole pool could hold: EMSGSIZE, nothing taken */
    cr_assert_eq(e.ops->add_data(e.self, s, src, 257, 0, NULL), -EMSGSIZE);
    cr_assert_eq(st(&e, "add_data_emsgsize"), 1);
    cr_assert_eq(e.ops->add_data(e.self, s, src, 0, 0, NULL), 0, "nothing to add always fits");
    cr_assert_eq(e.ops->add_data(e.self, s, NULL, 0, 0, NULL), 0);
    cr_assert_eq(e.ops->add_data(e.self, s, NULL, 1, 0, NULL), -EINVAL);
    cr_assert_eq(e.ops->add_data(e.self, s, src, 0x80000000u, 0, NULL), -EINVAL);
    cr_assert_eq(st(&e, "copy_in_bytes"), 201, "refusals copy nothing");
    lyra_skb_free(s);
    cr_assert_eq(st(&e, "in_use"), 0, "the chained buffer went back with the skb");
    cr_assert_eq(st(&e, "segs_in_use"), 0);

    /* the whole pool: the linear tail and the one other buffer */
    s = xalloc(&e, 0, 0);
    cr_assert_eq(e.ops->add_data(e.self, s, src, 512, 0, &cp), 512, "256 + 256");
    cr_assert_eq(e.ops->copy_out(e.self, s, 0, out, 512), 0);
    cr_assert_eq(memcmp(out, src, 512), 0);
    lyra_skb_free(s);

    /* once a segment is present the linear part is closed: what follows
     * goes after it */
    s = xalloc(&e, 0, 10);
    struct lyra_skb_seg g = {.ptr = src, .len = 4};
    lyra_skb_seg_append(s, &g);
    cr_assert_eq(e.ops->add_data(e.self, s, src + 4, 1, 0, NULL), 1);
    cr_assert_eq(s->len, 0);
    cr_assert_eq(s->nseg, 2);
    cr_assert_eq(e.ops->copy_out(e.self, s, 0, out, 5), 0);
    cr_assert_eq(memcmp(out, src, 5), 0);
    lyra_skb_free(s);
    cr_assert_eq(st(&e, "in_use"), 0);
    env_done(&e);
}

/* A provider with small buffers still carries a large payload: max_alloc
 * bounds the linear part only (skb 2.0). */
Test(skb_copy, payload_larger_than_any_buffer_is_chained)
{
    struct env e = env_new(P("count=16", "buf_size=256", "headroom=64"));
    cr_assert_eq(e.ops->max_alloc(e.self, 64), 192);
    static uint8_t in[3000], out[3000];
    for (unsigned i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 31 + 7);
    struct lyra_skb *s = xalloc(&e, 64, 0);
    cr_assert_eq(e.ops->add_data(e.self, s, in, sizeof(in), LYRA_SEG_F_USER, NULL), 3000);
    cr_assert_eq(s->len, 192);
    cr_assert_eq(s->nseg, 11, "2808 bytes in 256-byte buffers");
    cr_assert_eq(lyra_skb_total(s), 3000);
    cr_assert_eq(e.ops->copy_out(e.self, s, 0, out, sizeof(out)), 0);
    cr_assert_eq(memcmp(in, out, sizeof(in)), 0);
    cr_assert_not_null(lyra_skb_push(s, 28), "headers still go in front");
    lyra_skb_free(s);
    cr_assert_eq(st(&e, "in_use"), 0);
    cr_assert_eq(st(&e, "segs_in_use"), 0);
    env_done(&e);
}

Test(skb_copy, copy_out_across_segments)
{
    struct env e = env_new(P("count=2"));
    struct lyra_skb *s = xalloc(&e, 0, 100);
    uint8_t lin[20], s0[7], s1[1], s2[13];
    uint8_t ref[41];
    unsigned n = 0;
    for (unsigned i = 0; i < sizeof(lin); i++, n++)
        ref[n] = lin[i] = (uint8_t)(n * 7 + 1);
    for (unsigned i = 0; i < sizeof(s0); i++, n++)
        ref[n] = s0[i] = (uint8_t)(n * 7 + 1);
    for (unsigned i = 0; i < sizeof(s1); i++, n++)
        ref[n] = s1[i] = (uint8_t)(n * 7 + 1);
    for (unsigned i = 0; i < sizeof(s2); i++, n++)
        ref[n] = s2[i] = (uint8_t)(n * 7 + 1);
    cr_assert_eq(n, sizeof(ref));
    cr_assert_eq(e.ops->add_data(e.self, s, lin, sizeof(lin), 0, NULL), (int)sizeof(lin));
    struct lyra_skb_seg g[4] = {{.ptr = s0, .len = sizeof(s0), .flags = LYRA_SEG_F_USER},
                                {.ptr = NULL, .len = 0}, /* an empty segment is skipped */
                                {.ptr = s1, .len = sizeof(s1)},
                                {.ptr = s2, .len = sizeof(s2)}};
    for (int i = 0; i < 4; i++)
        lyra_skb_seg_append(s, &g[i]);
    cr_assert_eq(lyra_skb_total(s), sizeof(ref));

    uint64_t bytes0 = st(&e, "copy_bytes"), calls0 = st(&e, "copy_calls");
    uint64_t bytes = 0, calls = 0;
    uint8_t out[64];
    for (uint32_t off = 0; off <= sizeof(ref); off++)
        for (uint32_t len = 0; off + len <= sizeof(ref); len++) {
            memset(out, 0xee, sizeof(out));
            cr_assert_eq(e.ops->copy_out(e.self, s, off, out, len), 0, "off %u len %u", off, len);
            cr_assert_eq(memcmp(out, ref + off, len), 0, "off %u len %u", off, len);
            cr_assert_eq(out[len], 0xee, "wrote past len (off %u len %u)", off, len);
            bytes += len;
            calls += len != 0;
        }
    cr_assert_eq(st(&e, "copy_bytes") - bytes0, bytes);
    cr_assert_eq(st(&e, "copy_calls") - calls0, calls);

    /* out of range */
    cr_assert_eq(e.ops->copy_out(e.self, s, 0, out, 42), -EINVAL);
    cr_assert_eq(e.ops->copy_out(e.self, s, 41, out, 1), -EINVAL);
    cr_assert_eq(e.ops->copy_out(e.self, s, 42, out, 0), -EINVAL);
    cr_assert_eq(e.ops->copy_out(e.self, s, 40, out, UINT32_MAX), -EINVAL);
    cr_assert_eq(e.ops->copy_out(e.self, s, UINT32_MAX, out, 2), -EINVAL);
    cr_assert_eq(e.ops->copy_out(e.self, s, 0, NULL, 1), -EINVAL);
    s->nseg = 3; /* a chain longer than nseg (a header written over) */
    cr_assert_eq(e.ops->copy_out(e.self, s, 0, out, 1), -EINVAL);
    cr_assert_eq(st(&e, "copy_bytes") - bytes0, bytes, "refusals copy nothing");
    cr_assert_eq(st(&e, "copy_out_einval"), 7);
    s->nseg = 4;
    lyra_skb_free(s);
    env_done(&e);
}

Test(skb_copy, copy_out_trusts_segments_not_seg_len)
{
    struct env e = env_new(P("count=1"));
    struct lyra_skb *s = xalloc(&e, 0, 10);
    static const uint8_t seg[4] = {9, 8, 7, 6};
    struct lyra_skb_seg g = {.ptr = seg, .len = sizeof(seg)};
    lyra_skb_seg_append(s, &g);
    s->seg_len = 1000; /* wrong */
    uint8_t out[8];
    cr_assert_eq(e.ops->copy_out(e.self, s, 0, out, 4), 0);
    cr_assert_eq(memcmp(out, seg, 4), 0);
    cr_assert_eq(e.ops->copy_out(e.self, s, 0, out, 5), -EINVAL);
    lyra_skb_free(s);
    env_done(&e);
}

/* ---- lifecycle, leaks, instances ---- */

Test(skb_copy, everything_returned_at_stop)
{
    struct env e = env_new(P("count=16", "buf_size=1k"));
    cr_assert_geq(tos_mem(e.os), 16 * 1024, "pool allocated at start");
    struct lyra_skb *s[16];
    for (int i = 0; i < 16; i++)
        s[i] = i & 1 ? xalloc(&e, 0, 100) : xalloc_rx(&e, 100);
    for (int i = 15; i >= 0; i--)
        lyra_skb_free(s[i]);
    cr_assert_eq(st(&e, "in_use"), 0);
    lt_stop(e.skb);
    cr_assert_eq(tos_mem(e.os), 0, "pool released at stop");
    cr_assert_eq(st(&e, "in_use"), 0);
    cr_assert_eq(st(&e, "alloc") + st(&e, "alloc_rx"), 16, "counters survive stop");
    cr_assert_eq(e.ops->avail(e.self), 0);
    cr_assert_null(xalloc(&e, 0, 10), "no buffers while stopped");
    env_done(&e);
}

Test(skb_copy, leak_at_stop_is_reported)
{
    struct env e = env_new(P("count=4"));
    cr_assert_not_null(xalloc(&e, 0, 10)); /* never freed */
    unsigned warns = tos_warns(e.os);
    lt_stop(e.skb);
    cr_assert_eq(tos_warns(e.os), warns + 1);
    cr_assert_eq(st(&e, "in_use"), 1, "the leak stays visible");
    cr_assert_eq(tos_mem(e.os), 0, "memory released all the same");
    env_done(&e);
}

Test(skb_copy, restart)
{
    struct env e = env_new(P("count=2"));
    lyra_skb_free(xalloc(&e, 0, 10));
    lt_stop(e.skb);
    cr_assert_eq(lt_start(e.skb), 0);
    cr_assert_eq(e.ops->avail(e.self), 2);
    struct lyra_skb *s = xalloc(&e, 0, 10);
    cr_assert_not_null(s);
    lyra_skb_free(s);
    cr_assert_eq(st(&e, "alloc"), 2);
    cr_assert_eq(st(&e, "in_use"), 0);
    env_done(&e);
}

Test(skb_copy, destroy_without_stop_releases)
{
    struct env e = env_new(P("count=3"));
    cr_assert_not_null(xalloc(&e, 0, 10));
    /* skip lt_stop: destroy alone must give the memory back */
    e.skb->started = 0;
    lt_destroy(e.skb);
    cr_assert_eq(tos_mem(e.os), 0);
    tos_free(e.os);
}

Test(skb_copy, two_instances_do_not_interfere)
{
    struct tos *os = tos_new();
    struct lt_inst *a = lt_create(&lyra_component_skb_copy, P("count=2", "buf_size=256"));
    struct lt_inst *b = lt_create(&lyra_component_skb_copy, P("count=3", "buf_size=512"));
    tos_bind(os, a);
    tos_bind(os, b);
    cr_assert_eq(lt_start(a), 0);
    cr_assert_eq(lt_start(b), 0);
    const struct lyra_skb_ops *ops = lt_ops(a, LYRA_SKB_IFACE);
    cr_assert_eq(ops, lt_ops(b, LYRA_SKB_IFACE), "one ops table, two instances");

    struct lyra_skb *a0 = ops->alloc(a->self, 0, 10), *a1 = ops->alloc(a->self, 0, 10);
    cr_assert_null(ops->alloc(a->self, 0, 10));
    cr_assert_eq(ops->avail(b->self), 3);
    struct lyra_skb *b0 = ops->alloc(b->self, 0, 10);
    cr_assert_eq(b0->size, 512);
    cr_assert_eq(a0->size, 256);
    cr_assert_eq(b0->owner, b->self);
    cr_assert_eq(a0->owner, a->self);
    ops->add_data(b->self, b0, "hello", 5, 0, NULL);

    lyra_skb_free(b0); /* goes home to b */
    cr_assert_eq(ops->avail(b->self), 3);
    cr_assert_eq(ops->avail(a->self), 0);
    cr_assert_eq(lt_stat(a, "alloc_fail_empty"), 1);
    cr_assert_eq(lt_stat(b, "alloc_fail_empty"), 0);
    cr_assert_eq(lt_stat(a, "copy_bytes"), 0);
    cr_assert_eq(lt_stat(b, "copy_bytes"), 5);
    lyra_skb_free(a0);
    lyra_skb_free(a1);

    lt_destroy(a);
    /* b is untouched by a's stop */
    struct lyra_skb *b1 = ops->alloc(b->self, 0, 10);
    cr_assert_not_null(b1);
    lyra_skb_free(b1);
    lt_destroy(b);
    cr_assert_eq(tos_mem(os), 0);
    tos_free(os);
}

Test(skb_copy, big_pool)
{
    struct env e = env_new(P("count=65536", "buf_size=256"));
    cr_assert_eq(e.ops->avail(e.self), 65536);
    struct lyra_skb *first = xalloc(&e, 0, 256);
    cr_assert_not_null(first);
    lyra_skb_free(first);
    env_done(&e);
}

/* ---- start failures (mini os) ---- */

Test(skb_copy, start_without_os_fails)
{
    struct lt_inst *s = lt_create(&lyra_component_skb_copy, NULL);
    cr_assert_lt(lt_start(s), 0);
    lt_destroy(s);
}

Test(skb_copy, out_of_memory_at_start_leaves_nothing)
{
    struct mini_os m;
    memset(&m, 0, sizeof(m));
    struct lt_inst *s = lt_create(&lyra_component_skb_copy, P("count=8"));
    cr_assert_eq(lt_bind_raw(s, "os", &mini_os_ops, &m), 0);
    const struct lyra_skb_ops *ops = lt_ops(s, LYRA_SKB_IFACE);
    /* find how many allocations a start makes, then fail each in turn */
    cr_assert_eq(lt_start(s), 0);
    unsigned n = m.nalloc;
    cr_assert_geq(n, 2);
    lt_stop(s);
    cr_assert_eq(m.in_use, 0);
    for (unsigned k = 1; k <= n; k++) {
        m.calls = 0;
        m.fail_at = (int)k;
        cr_assert_eq(lt_start(s), -ENOMEM, "allocation %u failing", k);
        cr_assert_eq(m.in_use, 0, "allocation %u failing leaks", k);
        cr_assert_null(ops->alloc(s->self, 0, 10));
        cr_assert_eq(ops->avail(s->self), 0);
        cr_assert_eq(lt_stat(s, "in_use"), 0);
        cr_assert_geq(m.logs[LYRA_LOG_ERROR], k, "the failure is logged");
    }
    m.fail_at = 0;
    cr_assert_eq(lt_start(s), 0, "a later start works");
    struct lyra_skb *b = ops->alloc(s->self, 0, 10);
    cr_assert_not_null(b);
    lyra_skb_free(b);
    lt_destroy(s);
    cr_assert_eq(m.in_use, 0);
}

/* ---- parameters ---- */

static int parse_param(const char *name, const char *text)
{
    const struct lyra_component *c = &lyra_component_skb_copy;
    int k = lyra_component_param(c, name);
    cr_assert_geq(k, 0, "no parameter %s", name);
    const struct lyra_param *p = &c->params[k];
    struct lyra_value v;
    char err[128];
    return lyra_value_parse(p->type, text, p->min, p->max, &v, err, sizeof(err));
}

Test(skb_copy, parameter_ranges)
{
    cr_assert_eq(parse_param("count", "1"), 0);
    cr_assert_eq(parse_param("count", "65536"), 0);
    cr_assert_eq(parse_param("count", "0"), -ERANGE);
    cr_assert_eq(parse_param("count", "65537"), -ERANGE);
    cr_assert_eq(parse_param("count", "-1"), -ERANGE);
    cr_assert_eq(parse_param("count", "many"), -EINVAL);
    cr_assert_eq(parse_param("buf_size", "256"), 0);
    cr_assert_eq(parse_param("buf_size", "64k"), 0);
    cr_assert_eq(parse_param("buf_size", "255"), -ERANGE);
    cr_assert_eq(parse_param("buf_size", "65537"), -ERANGE);
    cr_assert_eq(parse_param("buf_size", "1M"), -ERANGE);
    cr_assert_eq(parse_param("headroom", "0"), 0);
    cr_assert_eq(parse_param("headroom", "1k"), 0);
    cr_assert_eq(parse_param("headroom", "1025"), -ERANGE);
    cr_assert_eq(parse_param("rx_headroom", "1025"), -ERANGE);
    cr_assert_eq(parse_param("reserve_rx", "65536"), 0);
    cr_assert_eq(parse_param("reserve_rx", "65537"), -ERANGE);
    cr_assert_eq(parse_param("reserve_rx", "-1"), -ERANGE);
    cr_assert_eq(parse_param("big_count", "0"), 0);
    cr_assert_eq(parse_param("big_count", "1024"), 0);
    cr_assert_eq(parse_param("big_count", "1025"), -ERANGE);
    cr_assert_eq(parse_param("big_count", "-1"), -ERANGE);
    cr_assert_eq(parse_param("big_size", "2048"), 0);
    cr_assert_eq(parse_param("big_size", "2047"), -ERANGE);
    cr_assert_eq(parse_param("big_size", "65k"), 0, "a 64 KB datagram with 1 KB of headroom");
    cr_assert_eq(parse_param("big_size", "66561"), -ERANGE);
}

Test(skb_copy, descriptor_is_complete)
{
    const struct lyra_component *c = &lyra_component_skb_copy;
    cr_assert_str_eq(c->name, "skb_copy");
    cr_assert_eq(c->abi_major, LYRA_ABI_MAJOR);
    cr_assert_eq(c->n_provides, 1);
    cr_assert_str_eq(c->provides[0].iface, LYRA_SKB_IFACE);
    cr_assert_eq(c->provides[0].major, LYRA_SKB_MAJOR);
    const char *why = NULL;
    cr_assert_eq(lyra_ops_check(c->provides[0].ops, LYRA_SKB_IFACE, LYRA_SKB_MAJOR,
                                LYRA_SKB_MINOR, sizeof(struct lyra_skb_ops), &why),
                 0);
    unsigned si;
    const struct lyra_slot *os = lyra_component_slot(c, "os", &si);
    cr_assert_not_null(os);
    cr_assert_str_eq(os->iface, LYRA_OS_IFACE);
    cr_assert_eq(os->min, 1, "os is required");
    cr_assert_eq(os->max, 1);
    const char *names[] = {"count",      "buf_size",  "headroom", "rx_headroom",
                           "reserve_rx", "big_count", "big_size", "reserve_ctl"};
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        cr_assert_geq(lyra_component_param(c, names[i]), 0, "%s", names[i]);
    for (unsigned i = 0; i < c->n_params; i++) {
        const struct lyra_param *p = &c->params[i];
        cr_assert(p->doc && *p->doc, "%s has no doc", p->name);
        cr_assert_not_null(p->def, "%s has no default", p->name);
        cr_assert_eq(parse_param(p->name, p->def), 0, "default of %s", p->name);
    }
}

Test(skb_copy, reserve_larger_than_count_is_refused)
{
    struct lt_inst *s = NULL;
    cr_assert_eq(lt_try_create(&lyra_component_skb_copy, P("count=4", "reserve_rx=5"), &s),
                 -EINVAL);
    cr_assert_null(s);
    cr_assert_eq(lt_try_create(&lyra_component_skb_copy, P("count=4", "reserve_rx=4"), &s), 0);
    lt_destroy(s);
}

Test(skb_copy, all_counters_reported)
{
    struct env e = env_new(P("count=2"));
    const char *names[] = {"alloc",    "alloc_rx",   "alloc_fail_empty", "alloc_fail_size",
                           "free",     "bad_free",   "in_use",           "high_water",
                           "copy_bytes", "copy_calls", "count",          "big_alloc",
                           "big_alloc_fail_empty", "big_free", "big_bad_free", "big_in_use",
                           "big_high_water", "big_count", "alloc_bad_cls"};
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        cr_assert_neq(lt_stat(e.skb, names[i]), UINT64_MAX, "%s", names[i]);
    env_done(&e);
}

/* The transfer counters every skb provider exports (issue 12.4): skb_copy
 * reports its copies under them and 0 for what it never does. */
Test(skb_copy, shared_transfer_counters)
{
    struct env e = env_new(P("count=4"));
    struct lyra_skb *s = e.ops->alloc(e.self, 0, 0);
    cr_assert_not_null(s);
    uint8_t buf[3000], out[3000];
    memset(buf, 7, sizeof(buf));
    uint32_t copied = 0;
    cr_assert_eq(e.ops->add_data(e.self, s, buf, 3000, LYRA_SEG_F_USER | LYRA_SEG_F_REF, &copied),
                 3000);
    cr_assert_eq(copied, 3000, "LYRA_SEG_F_REF or not, skb_copy copies");
    cr_assert_eq(e.ops->copy_out(e.self, s, 100, out, 2000), 0);
    cr_assert_eq(st(&e, "tx_copied_bytes"), 3000);
    cr_assert_eq(st(&e, "tx_copied_bytes"), st(&e, "copy_in_bytes"));
    cr_assert_eq(st(&e, "rx_copied_bytes"), 2000);
    cr_assert_eq(st(&e, "rx_copied_bytes"), st(&e, "copy_out_bytes"));
    const char *zero[] = {"tx_referenced_bytes", "rx_remapped_bytes", "cow_faults",
                          "fallback_tx_plain_memory", "fallback_rx_not_pkt_memory",
                          "fallback_rx_remap_failed"};
    for (unsigned i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
        cr_assert_eq(st(&e, zero[i]), 0, "%s", zero[i]);
    lyra_skb_free(s);
    env_done(&e);
}

/* ---- big buffers ---- */

Test(skb_copy, big_buffers_off_by_default)
{
    struct env e = env_new(P("count=4"));
    cr_assert_eq(st(&e, "big_count"), 0);
    /* too big for a normal buffer and no big ones: fails as it always did */
    cr_assert_null(xalloc(&e, 0, 4000));
    cr_assert_null(xalloc(&e, 34, 3028));
    cr_assert_eq(st(&e, "alloc_fail_size"), 2);
    cr_assert_eq(st(&e, "alloc_fail_empty"), 0);
    cr_assert_eq(st(&e, "big_alloc"), 0);
    cr_assert_eq(st(&e, "big_alloc_fail_empty"), 0);
    cr_assert_eq(e.ops->avail(e.self), 4);
    lt_stop(e.skb);
    cr_assert_eq(tos_mem(e.os), 0);
    env_done(&e);
}

Test(skb_copy, big_chosen_only_when_needed)
{
    struct env e = env_new(P("count=4", "big_count=2", "big_size=8k"));
    cr_assert_eq(st(&e, "big_count"), 2);
    cr_assert_eq(e.ops->avail(e.self), 4, "avail counts normal buffers only");
    /* fits a normal buffer: normal, headroom rules as before */
    struct lyra_skb *a = xalloc(&e, 0, 100);
    cr_assert_eq(a->size, 2048);
    cr_assert_eq(lyra_skb_headroom(a), 128);
    struct lyra_skb *b = xalloc(&e, 0, 2048);
    cr_assert_eq(b->size, 2048, "exactly a normal buffer is still normal");
    cr_assert_eq(lyra_skb_headroom(b), 0);
    struct lyra_skb *c = xalloc(&e, 100, 1948);
    cr_assert_eq(c->size, 2048);
    cr_assert_eq(lyra_skb_headroom(c), 100);
    cr_assert_eq(st(&e, "alloc"), 3);
    cr_assert_eq(st(&e, "big_alloc"), 0);
    lyra_skb_free(a);
    lyra_skb_free(b);
    lyra_skb_free(c);

    /* one byte more than a normal buffer holds: big, with the preferred
     * headroom where it fits (fit_headroom on big_size) */
    struct lyra_skb *d = xalloc(&e, 0, 2049);
    cr_assert_not_null(d);
    cr_assert_eq(d->size, 8192);
    cr_assert_eq(lyra_skb_headroom(d), 128);
    cr_assert_geq(lyra_skb_tailroom(d), 2049);
    cr_assert_eq((uintptr_t)d->head % 64, 0, "big buffers are aligned too");
    struct lyra_skb *f = xalloc(&e, 34, 8192 - 34); /* asked headroom wins over 128 */
    cr_assert_not_null(f);
    cr_assert_eq(f->size, 8192);
    cr_assert_eq(lyra_skb_headroom(f), 34);
    cr_assert_eq(lyra_skb_tailroom(f), 8192 - 34);
    cr_assert_eq(st(&e, "big_alloc"), 2);
    cr_assert_eq(st(&e, "big_in_use"), 2);
    cr_assert_eq(st(&e, "in_use"), 2, "in_use covers both classes");
    cr_assert_eq(e.ops->avail(e.self), 4, "big allocations leave normal buffers alone");
    /* a big skb works as any other: payload, copy_out, free home */
    static uint8_t in[8000], out[8000];
    for (unsigned i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 13 + 1);
    lyra_skb_free(d);
    d = xalloc(&e, 64, 8000);
    cr_assert_eq(e.ops->add_data(e.self, d, in, 8000, 0, NULL), 8000);
    cr_assert_eq(e.ops->copy_out(e.self, d, 0, out, 8000), 0);
    cr_assert_eq(memcmp(in, out, 8000), 0);
    cr_assert_eq(d->owner, e.self);
    lyra_skb_free(d);
    lyra_skb_free(f);
    cr_assert_eq(st(&e, "big_free"), 3);
    cr_assert_eq(st(&e, "big_in_use"), 0);
    cr_assert_eq(st(&e, "free"), 3, "normal frees counted apart");

    /* larger than a big buffer: refused by size, neither pool touched */
    cr_assert_null(xalloc(&e, 1, 8192));
    cr_assert_null(xalloc(&e, 0, 8193));
    cr_assert_null(xalloc(&e, UINT32_MAX, 1));
    cr_assert_eq(st(&e, "alloc_fail_size"), 3);
    cr_assert_eq(st(&e, "big_alloc_fail_empty"), 0);
    /* receive never takes a big buffer */
    cr_assert_null(xalloc_rx(&e, 2049));
    cr_assert_null(xalloc_rx(&e, 4000));
    cr_assert_eq(st(&e, "alloc_fail_size"), 5);
    cr_assert_eq(st(&e, "big_alloc"), 3);
    cr_assert_eq(st(&e, "big_high_water"), 2);
    cr_assert_eq(st(&e, "high_water"), 3);
    env_done(&e);
}

Test(skb_copy, classes_exhaust_independently)
{
    struct env e = env_new(P("count=2", "big_count=1", "big_size=4k"));
    struct lyra_skb *n0 = xalloc(&e, 0, 10), *n1 = xalloc_rx(&e, 10);
    cr_assert_not_null(n0);
    cr_assert_not_null(n1);
    cr_assert_null(xalloc(&e, 0, 10), "a small request never falls back to a big buffer");
    cr_assert_null(xalloc_rx(&e, 10));
    cr_assert_eq(st(&e, "alloc_fail_empty"), 2);
    cr_assert_eq(e.ops->avail(e.self), 0);
    /* normal pool empty: big still there */
    struct lyra_skb *b0 = xalloc(&e, 0, 3000);
    cr_assert_not_null(b0);
    cr_assert_eq(b0->size, 4096);
    cr_assert_null(xalloc(&e, 0, 3000));
    cr_assert_eq(st(&e, "big_alloc_fail_empty"), 1);
    cr_assert_eq(st(&e, "alloc_fail_empty"), 2, "a big miss is not a normal miss");
    /* a normal buffer back: normal works, big still empty */
    lyra_skb_free(n0);
    cr_assert_eq(e.ops->avail(e.self), 1);
    cr_assert_null(xalloc(&e, 0, 2500));
    cr_assert_eq(st(&e, "big_alloc_fail_empty"), 2);
    n0 = xalloc(&e, 0, 2000);
    cr_assert_not_null(n0);
    cr_assert_eq(n0->size, 2048);
    /* the big one back: big works again, normal still empty */
    lyra_skb_free(b0);
    cr_assert_null(xalloc(&e, 0, 10));
    cr_assert_eq(st(&e, "alloc_fail_empty"), 3);
    b0 = xalloc(&e, 0, 2049);
    cr_assert_not_null(b0);
    cr_assert_eq(st(&e, "in_use"), 3);
    cr_assert_eq(st(&e, "big_in_use"), 1);
    lyra_skb_free(n0);
    lyra_skb_free(n1);
    lyra_skb_free(b0);
    cr_assert_eq(st(&e, "in_use"), 0);
    cr_assert_eq(st(&e, "big_high_water"), 1);
    cr_assert_eq(st(&e, "high_water"), 2);
    env_done(&e);
}

Test(skb_copy, big_reserve_rx_does_not_apply)
{
    /* reserve_rx guards normal buffers; big ones are transmit-only anyway */
    struct env e = env_new(P("count=2", "reserve_rx=2", "big_count=1", "big_size=4k"));
    cr_assert_null(xalloc(&e, 0, 10));
    struct lyra_skb *b = xalloc(&e, 0, 4000);
    cr_assert_not_null(b);
    lyra_skb_free(b);
    env_done(&e);
}

Test(skb_copy, big_bad_frees_detected)
{
    struct env e = env_new(P("count=2", "big_count=2", "big_size=4k"));
    struct lyra_skb *b = xalloc(&e, 0, 3000);
    lyra_skb_free(b);
    cr_assert_eq(st(&e, "big_free"), 1);
    unsigned warns = tos_warns(e.os);
    lyra_skb_free(b); /* double free of a big buffer */
    cr_assert_eq(st(&e, "bad_free"), 1);
    cr_assert_eq(st(&e, "big_bad_free"), 1);
    cr_assert_eq(st(&e, "big_free"), 1);
    cr_assert_eq(tos_warns(e.os), warns + 1, "logged");
    /* the big pool is intact: both buffers, distinct */
    struct lyra_skb *x = xalloc(&e, 0, 3000), *y = xalloc(&e, 0, 3000);
    cr_assert_not_null(x);
    cr_assert_not_null(y);
    cr_assert_neq(x, y);
    cr_assert_null(xalloc(&e, 0, 3000));
    /* a pointer into the big header array that is not a header */
    e.ops->free(e.self, (struct lyra_skb *)((uint8_t *)x + 8));
    cr_assert_eq(st(&e, "bad_free"), 2);
    cr_assert_eq(st(&e, "big_in_use"), 2);
    /* a big skb of another instance: a stranger here, left alone */
    struct env o = env_new(P("count=1", "big_count=1", "big_size=4k"));
    struct lyra_skb *t = xalloc(&o, 0, 3000);
    e.ops->free(e.self, t);
    cr_assert_eq(st(&e, "bad_free"), 3);
    cr_assert_eq(st(&o, "big_in_use"), 1);
    cr_assert_eq(t->refcnt, 1);
    lyra_skb_free(t);
    cr_assert_eq(st(&o, "big_in_use"), 0);
    env_done(&o);
    /* refcounts work on big buffers */
    lyra_skb_ref(x);
    lyra_skb_free(x);
    cr_assert_eq(st(&e, "big_in_use"), 2);
    lyra_skb_free(x);
    lyra_skb_free(y);
    cr_assert_eq(st(&e, "big_in_use"), 0);
    cr_assert_eq(st(&e, "bad_free"), 3);
    env_done(&e);
}

Test(skb_copy, big_stop_restart_and_leaks)
{
    struct env e = env_new(P("count=2", "big_count=3", "big_size=16k"));
    cr_assert_geq(tos_mem(e.os), 2 * 2048 + 3 * 16384, "both pools allocated at start");
    struct lyra_skb *b = xalloc(&e, 0, 10000); /* never freed */
    cr_assert_not_null(b);
    unsigned warns = tos_warns(e.os);
    lt_stop(e.skb);
    cr_assert_eq(tos_warns(e.os), warns + 1, "the big leak is reported");
    cr_assert_eq(st(&e, "in_use"), 1, "the leak stays visible");
    cr_assert_eq(st(&e, "big_in_use"), 1);
    cr_assert_eq(tos_mem(e.os), 0, "both pools released at stop");
    cr_assert_null(xalloc(&e, 0, 10000), "no big buffers while stopped");
    cr_assert_eq(lt_start(e.skb), 0);
    struct lyra_skb *s[3];
    for (int i = 0; i < 3; i++)
        cr_assert_not_null(s[i] = xalloc(&e, 0, 16384));
    for (int i = 0; i < 3; i++)
        lyra_skb_free(s[i]);
    env_done(&e);
}

Test(skb_copy, big_out_of_memory_at_start_leaves_nothing)
{
    struct mini_os m;
    memset(&m, 0, sizeof(m));
    struct lt_inst *s = lt_create(&lyra_component_skb_copy,
                                  P("count=4", "big_count=2", "big_size=4k"));
    cr_assert_eq(lt_bind_raw(s, "os", &mini_os_ops, &m), 0);
    const struct lyra_skb_ops *ops = lt_ops(s, LYRA_SKB_IFACE);
    cr_assert_eq(lt_start(s), 0);
    unsigned n = m.nalloc;
    cr_assert_geq(n, 8, "two pools");
    lt_stop(s);
    cr_assert_eq(m.in_use, 0);
    for (unsigned k = 1; k <= n; k++) {
        m.calls = 0;
        m.fail_at = (int)k;
        cr_assert_eq(lt_start(s), -ENOMEM, "allocation %u failing", k);
        cr_assert_eq(m.in_use, 0, "allocation %u failing leaks", k);
        cr_assert_null(ops->alloc(s->self, 0, 10));
        cr_assert_null(ops->alloc(s->self, 0, 3000));
        cr_assert_eq(ops->avail(s->self), 0);
    }
    m.fail_at = 0;
    cr_assert_eq(lt_start(s), 0, "a later start works");
    struct lyra_skb *b = ops->alloc(s->self, 0, 3000);
    cr_assert_not_null(b);
    lyra_skb_free(b);
    lt_destroy(s);
    cr_assert_eq(m.in_use, 0);
}

Test(skb_copy, big_size_must_exceed_buf_size)
{
    struct lt_inst *s = NULL;
    cr_assert_eq(lt_try_create(&lyra_component_skb_copy, P("big_count=1", "big_size=2048"), &s),
                 -EINVAL);
    cr_assert_null(s);
    cr_assert_eq(lt_try_create(&lyra_component_skb_copy,
                               P("buf_size=4k", "big_count=1", "big_size=4k"), &s),
                 -EINVAL);
    /* without big buffers big_size is not looked at */
    cr_assert_eq(lt_try_create(&lyra_component_skb_copy, P("big_size=2048"), &s), 0);
    lt_destroy(s);
    cr_assert_eq(lt_try_create(&lyra_component_skb_copy,
                               P("big_count=1024", "big_size=65k"), &s),
                 0);
    lt_destroy(s);
}

Test(skb_copy, big_max_holds_a_64k_datagram)
{
    struct env e = env_new(P("count=1", "big_count=1", "big_size=65k"));
    struct lyra_skb *b = xalloc(&e, 1024, 65535);
    cr_assert_not_null(b);
    cr_assert_eq(lyra_skb_headroom(b), 1024);
    cr_assert_not_null(lyra_skb_put(b, 65535));
    memset(b->data, 0xa5, 65535);
    lyra_skb_free(b);
    env_done(&e);
}

/* ---- clones (skb 2.1) ---- */

static void count_done(void *ctx, struct lyra_skb *s)
{
    (void)s;
    ++*(unsigned *)ctx;
}

/* A clone shows the original's frame behind headers of its own; the two
 * are freed in either order and the original's completion runs once, at
 * the last free; nothing leaks. */
static void clone_freed_in_order(int clone_first)
{
    struct env e = env_new(P("count=8", "buf_size=256", "headroom=0"));
    uint8_t src[600];
    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 13 + 1);
    struct lyra_skb *o = xalloc(&e, 40, 0);
    cr_assert_eq(e.ops->add_data(e.self, o, src, sizeof(src), 0, NULL), 600);
    cr_assert_not_null(lyra_skb_push(o, 20), "a transport header on the original");
    memset(o->data, 0x77, 20);
    unsigned done = 0;
    lyra_skb_set_done(o, count_done, &done);
    o->flags |= LYRA_SKB_F_CSUM_TX;
    o->csum_start = (uint16_t)lyra_skb_headroom(o);
    o->csum_off = 16;
    struct lyra_skb *c = lyra_skb_clone(e.ops, e.self, o, 34);
    cr_assert_not_null(c);
    cr_assert_neq(c, o);
    cr_assert_eq(lyra_skb_total(c), 620);
    cr_assert_eq(c->len, 0, "its linear part is its own, empty");
    cr_assert_geq(lyra_skb_headroom(c), 34);
    cr_assert_null(c->done, "the completion stays the original's");
    cr_assert(c->flags & LYRA_SKB_F_CSUM_TX);
    cr_assert_eq(c->csum_start - lyra_skb_headroom(c), 0, "same place in the frame");
    /* headers pushed onto the clone go into its buffer only */
    uint8_t *h = lyra_skb_push(c, 34);
    cr_assert_not_null(h);
    memset(h, 0x11, 34);
    cr_assert_eq(c->csum_start - lyra_skb_headroom(c), 34, "the sum starts after them");
    uint8_t out[700];
    cr_assert_eq(e.ops->copy_out(e.self, c, 0, out, 654), 0);
    for (int i = 0; i < 34; i++)
        cr_assert_eq(out[i], 0x11);
    for (int i = 34; i < 54; i++)
        cr_assert_eq(out[i], 0x77);
    cr_assert_arr_eq(out + 54, src, 600);
    cr_assert_eq(lyra_skb_headroom(o), 20, "the original is untouched");
    cr_assert_eq(o->len, 20 + 256 - 40);
    cr_assert_eq(st(&e, "clones"), 1);
    /* a clone of the clone, freed with the rest */
    struct lyra_skb *cc = lyra_skb_clone(e.ops, e.self, c, 14);
    cr_assert_not_null(cc);
    cr_assert_eq(lyra_skb_total(cc), 654);
    lyra_skb_free(cc);
    if (clone_first) {
        lyra_skb_free(c);
        cr_assert_eq(done, 0, "the original is still held");
        lyra_skb_free(o);
    } else {
        lyra_skb_free(o);
        cr_assert_eq(done, 0, "a clone still shows the payload");
        cr_assert_eq(e.ops->copy_out(e.self, c, 54, out, 600), 0);
        cr_assert_arr_eq(out, src, 600, "still there after the holder freed it");
        lyra_skb_free(c);
    }
    cr_assert_eq(done, 1, "once, at the last reference");
    cr_assert_eq(st(&e, "in_use"), 0);
    cr_assert_eq(st(&e, "segs_in_use"), 0);
    cr_assert_eq(st(&e, "bad_free"), 0);
    env_done(&e);
}

Test(skb_copy, clone_freed_clone_first)
{
    clone_freed_in_order(1);
}

Test(skb_copy, clone_freed_original_first)
{
    clone_freed_in_order(0);
}

Test(skb_copy, clone_without_buffer_or_descriptors_is_null)
{
    struct env e = env_new(P("count=1", "segs=4"));
    struct lyra_skb *o = xalloc(&e, 0, 10);
    cr_assert_null(lyra_skb_clone(e.ops, e.self, o, 0), "no buffer for its headers");
    cr_assert_eq(st(&e, "clone_fail"), 1);
    cr_assert_eq(o->refcnt, 1, "nothing taken");
    lyra_skb_free(o);
    env_done(&e);
    e = env_new(P("count=2", "segs=2"));
    o = xalloc(&e, 0, 10);
    memset(lyra_skb_put(o, 10), 'x', 10);
    struct lyra_skb_seg g[2] = {{.ptr = (const uint8_t *)"ab", .len = 2},
                                {.ptr = (const uint8_t *)"cd", .len = 2}};
    lyra_skb_seg_append(o, &g[0]);
    lyra_skb_seg_append(o, &g[1]);
    cr_assert_null(lyra_skb_clone(e.ops, e.self, o, 0), "3 descriptors needed, 2 exist");
    cr_assert_eq(st(&e, "in_use"), 1, "the header buffer went back");
    cr_assert_eq(o->refcnt, 1);
    lyra_skb_free(o);
    env_done(&e);
}

/* A frame whose linear part is empty (a referencing provider's payload
 * skb) is shown by a descriptor per segment only, the first holding the
 * reference: no empty piece for a driver to walk. */
Test(skb_copy, clone_of_segments_alone_takes_a_descriptor_each)
{
    struct env e = env_new(P("count=4", "segs=2"));
    struct lyra_skb *o = xalloc(&e, 0, 0);
    unsigned done = 0;
    lyra_skb_set_done(o, count_done, &done);
    struct lyra_skb_seg g[2] = {{.ptr = (const uint8_t *)"ab", .len = 2},
                                {.ptr = (const uint8_t *)"cd", .len = 2}};
    lyra_skb_seg_append(o, &g[0]);
    lyra_skb_seg_append(o, &g[1]);
    struct lyra_skb *c = lyra_skb_clone(e.ops, e.self, o, 0);
    cr_assert_not_null(c, "2 descriptors are enough");
    cr_assert_eq(c->nseg, 2);
    cr_assert_eq(o->refcnt, 2, "the clone holds one reference");
    char out[4];
    cr_assert_eq(e.ops->copy_out(e.self, c, 0, out, 4), 0);
    cr_assert_arr_eq(out, "abcd", 4);
    lyra_skb_free(o);
    cr_assert_eq(done, 0);
    lyra_skb_free(c);
    cr_assert_eq(done, 1, "the reference went with the clone's free");
    /* an empty frame still gets one (empty) descriptor to hold it */
    o = xalloc(&e, 0, 0);
    c = lyra_skb_clone(e.ops, e.self, o, 0);
    cr_assert_not_null(c);
    cr_assert_eq(c->nseg, 1);
    cr_assert_eq(lyra_skb_total(c), 0);
    cr_assert_eq(o->refcnt, 2);
    lyra_skb_free(c);
    lyra_skb_free(o);
    cr_assert_eq(st(&e, "in_use"), 0);
    cr_assert_eq(st(&e, "segs_in_use"), 0);
    env_done(&e);
}

/* skb 2.5 clone_add: a run of queued skbs shown as one frame (TSO) */
Test(skb_copy, clone_add_shows_a_run_of_skbs_as_one_frame)
{
    struct env e = env_new(P("count=8", "buf_size=256", "headroom=0", "segs=8"));
    uint8_t src[300];
    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 13 + 1);
    struct lyra_skb *q[3];
    unsigned done = 0;
    for (int k = 0; k < 3; k++) {
        q[k] = xalloc(&e, 0, 100);
        memcpy(lyra_skb_put(q[k], 100), src + 100 * k, 100);
        lyra_skb_set_done(q[k], count_done, &done);
    }
    struct lyra_skb *c = lyra_skb_clone(e.ops, e.self, q[0], 34);
    cr_assert_not_null(c);
    lyra_skb_advance(c, 10); /* from the middle of the first, as tcp after a partial ACK */
    cr_assert_eq(lyra_skb_clone_add(e.ops, e.self, c, q[1]), 0);
    cr_assert_eq(lyra_skb_clone_add(e.ops, e.self, c, q[2]), 0);
    cr_assert_eq(lyra_skb_total(c), 290);
    cr_assert_eq(c->nseg, 3, "one descriptor per linear part shown");
    uint8_t *h = lyra_skb_push(c, 20);
    cr_assert_not_null(h);
    memset(h, 0x55, 20);
    uint8_t out[310];
    cr_assert_eq(e.ops->copy_out(e.self, c, 0, out, 310), 0);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(out[i], 0x55);
    cr_assert_arr_eq(out + 20, src + 10, 290, "the run's bytes in order");
    /* each queued skb is freed on its own; the clone keeps their bytes */
    for (int k = 0; k < 3; k++)
        lyra_skb_free(q[k]);
    cr_assert_eq(done, 0, "the clone holds each of them");
    cr_assert_eq(e.ops->copy_out(e.self, c, 20, out, 290), 0);
    cr_assert_arr_eq(out, src + 10, 290);
    lyra_skb_free(c);
    cr_assert_eq(done, 3, "each one's completion once, at the clone's free");
    cr_assert_eq(st(&e, "in_use"), 0);
    cr_assert_eq(st(&e, "segs_in_use"), 0);
    env_done(&e);
}

Test(skb_copy, clone_add_refuses_without_descriptors_and_bad_arguments)
{
    struct env e = env_new(P("count=4", "segs=1"));
    struct lyra_skb *a = xalloc(&e, 0, 10), *b = xalloc(&e, 0, 10);
    lyra_skb_put(a, 10);
    lyra_skb_put(b, 10);
    struct lyra_skb *c = lyra_skb_clone(e.ops, e.self, a, 0);
    cr_assert_not_null(c, "the one descriptor");
    cr_assert_eq(lyra_skb_clone_add(e.ops, e.self, c, b), -ENOMEM);
    cr_assert_eq(st(&e, "clone_fail"), 1);
    cr_assert_eq(b->refcnt, 1, "nothing taken");
    cr_assert_eq(lyra_skb_total(c), 10, "the clone unchanged");
    cr_assert_eq(lyra_skb_clone_add(e.ops, e.self, c, c), -EINVAL);
    cr_assert_eq(lyra_skb_clone_add(e.ops, e.self, c, NULL), -EINVAL);
    lyra_skb_free(c);
    lyra_skb_free(a);
    lyra_skb_free(b);
    cr_assert_eq(st(&e, "in_use"), 0);
    env_done(&e);
}

/* ---- payload sums kept with the pieces (skb 2.2, issue 11.4) ---- */

/* RFC 1071 over a flat buffer, as written: the reference. */
static uint16_t ref_sum(const uint8_t *b, size_t len, uint32_t at)
{
    uint64_t s = 0;
    for (size_t i = 0; i < len; i++)
        s += (uint32_t)b[i] << (((at + i) & 1) ? 0 : 8);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static uint16_t skb_sum(const struct lyra_skb *s, uint32_t off, uint32_t len)
{
    return (uint16_t)lyra_skb_csum(s, off, len, 0);
}

/* add_data sums while it copies: appended in odd pieces into the linear
 * tail and beyond it into chained buffers, every kept sum is the sum of
 * its bytes and the frame's sum is right whatever range is asked. */
Test(skb_copy, add_data_keeps_the_sum_of_each_piece)
{
    struct env e = env_new(P("count=16", "buf_size=256", "headroom=0"));
    uint8_t src[1000], flat[1100];
    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 37 + 11);
    struct lyra_skb *s = xalloc(&e, 20, 0);
    cr_assert_not_null(lyra_skb_put(s, 7), "bytes of the caller's own in front");
    memset(s->data, 0xab, 7);
    uint32_t took = 0;
    for (uint32_t k = 1; took < sizeof(src); k += 17) {
        uint32_t n = k < sizeof(src) - took ? k : (uint32_t)sizeof(src) - took;
        cr_assert_eq(e.ops->add_data(e.self, s, src + took, n, LYRA_SEG_F_CSUM, NULL), (int)n);
        took += n;
    }
    uint32_t ko, kn;
    cr_assert(lyra_skb_lin_csum(s, &ko, &kn), "the linear payload's sum is kept");
    cr_assert_eq(ko, 7, "over the payload, not the caller's bytes");
    cr_assert_eq(kn, s->len - 7);
    cr_assert_eq(s->lin_csum, ref_sum(src, kn, 0));
    const struct lyra_skb_seg *g;
    uint32_t at = kn;
    LYRA_SKB_FOR_EACH_SEG(s, g) {
        cr_assert(g->flags & LYRA_SEG_F_CSUM, "each chained buffer's sum is kept");
        cr_assert_eq(g->csum, ref_sum(src + at, g->len, 0));
        at += g->len;
    }
    cr_assert_gt(s->nseg, 2);
    uint32_t total = lyra_skb_flatten(s, flat, sizeof(flat));
    for (uint32_t off = 0; off < total; off += 13)
        for (uint32_t len = 0; off + len <= total; len += 29)
            cr_assert_eq(skb_sum(s, off, len), ref_sum(flat + off, len, 0), "off %u len %u", off,
                         len);
    lyra_skb_free(s);
    env_done(&e);
}

/* The kept sums are used, not the bytes: a piece the range covers whole is
 * not read again (shown by changing its bytes behind the provider's back,
 * which the contract forbids), and a piece the range cuts is read, that
 * piece only. A clone carries the sums; trimming or advancing it drops
 * the sum of the piece it cut and keeps the others. */
Test(skb_copy, kept_sums_are_used_and_a_cut_piece_is_read_again)
{
    struct env e = env_new(P("count=16", "buf_size=256", "headroom=0"));
    uint8_t src[600];
    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 7 + 3);
    struct lyra_skb *o = xalloc(&e, 0, 0);
    cr_assert_eq(e.ops->add_data(e.self, o, src, sizeof(src), LYRA_SEG_F_CSUM, NULL), 600);
    cr_assert_eq(o->len, 256, "256 linear, then 256 + 88 chained");
    uint16_t want = ref_sum(src, 600, 0);
    cr_assert_eq(skb_sum(o, 0, 600), want);
    struct lyra_skb *c = lyra_skb_clone(e.ops, e.self, o, 20);
    cr_assert_not_null(c);
    cr_assert_eq(skb_sum(c, 0, 600), want);
    const struct lyra_skb_seg *g;
    LYRA_SKB_FOR_EACH_SEG(c, g)
        cr_assert(g->flags & LYRA_SEG_F_CSUM, "the clone shows every piece with its sum");
    /* behind everyone's back: one byte of each piece changes */
    uint8_t *lin = o->data, *p1 = (uint8_t *)o->seg->ptr, *p2 = (uint8_t *)o->seg->next->ptr;
    lin[10] ^= 0x5a, p1[10] ^= 0x5a, p2[10] ^= 0x5a;
    cr_assert_eq(skb_sum(o, 0, 600), want, "whole pieces: the kept sums, no byte read");
    cr_assert_eq(skb_sum(c, 0, 600), want);
    uint8_t now[600];
    lyra_skb_flatten(o, now, sizeof(now));
    /* a range that cuts the first chained piece reads that one only */
    uint16_t cut = skb_sum(o, 0, 400);
    uint32_t s = lyra_csum_block(ref_sum(src, 256, 0), ref_sum(now + 256, 144, 0), 256);
    cr_assert_eq(cut, lyra_csum_fold(s), "linear part kept, chained piece read");
    /* a clone re-cut (as a retransmission of another size is) */
    lyra_skb_advance(c, 300); /* into the first chained piece */
    lyra_skb_trim(c, 250);    /* 212 of it, then 38 of the last one */
    cr_assert_not(c->seg->next->flags & LYRA_SEG_F_CSUM, "the piece advanced into");
    s = lyra_csum_block(0, ref_sum(now + 300, 212, 0), 0);
    s = lyra_csum_block(s, ref_sum(now + 512, 38, 0), 212);
    cr_assert_eq(skb_sum(c, 0, 250), lyra_csum_fold(s), "both cut pieces are read");
    lyra_skb_free(c);
    lyra_skb_free(o);
    cr_assert_eq(st(&e, "in_use"), 0);
    env_done(&e);
}

/* skb 2.8 clone_add_range: part of a queued skb of many pieces (tcp's
 * write queued whole) with a descriptor for each piece in the range only,
 * cut to it; a whole piece keeps its sum, a cut one not. */
Test(skb_copy, clone_add_range_shows_only_the_pieces_in_the_range)
{
    struct env e = env_new(P("count=16", "buf_size=256", "headroom=0"));
    uint8_t src[600], out[600];
    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 11 + 5);
    struct lyra_skb *o = xalloc(&e, 0, 0);
    cr_assert_eq(e.ops->add_data(e.self, o, src, sizeof(src), LYRA_SEG_F_CSUM, NULL), 600);
    cr_assert_eq(o->nseg, 2, "256 linear, then 256 + 88 chained");
    static const struct {
        uint32_t off, len, nseg;
        int whole; /* the one piece shown is a whole one (its sum kept) */
    } r[] = {{300, 100, 1, 0}, {256, 256, 1, 1}, {10, 10, 1, 0}, {0, 600, 3, 1},
             {200, 400, 3, 0}, {512, 88, 1, 1}};
    for (unsigned k = 0; k < sizeof(r) / sizeof(r[0]); k++) {
        struct lyra_skb *c = lyra_skb_clone_range(e.ops, e.self, o, 20, r[k].off, r[k].len);
        cr_assert_not_null(c);
        cr_assert_eq(c->len, 0, "the clone's linear part is its own, for headers");
        cr_assert_eq(lyra_skb_headroom(c), 20);
        cr_assert_eq(c->nseg, r[k].nseg, "[%u, +%u): %u descriptors", r[k].off, r[k].len,
                     c->nseg);
        cr_assert_eq(lyra_skb_total(c), r[k].len);
        cr_assert_eq(lyra_skb_flatten(c, out, sizeof(out)), r[k].len);
        cr_assert_arr_eq(out, src + r[k].off, r[k].len);
        if (r[k].nseg == 1)
            cr_assert_eq((c->seg->flags & LYRA_SEG_F_CSUM) != 0, r[k].whole,
                         "[%u, +%u): a whole piece keeps its sum, a cut one not", r[k].off,
                         r[k].len);
        cr_assert_eq(skb_sum(c, 0, r[k].len), ref_sum(src + r[k].off, r[k].len, 0));
        lyra_skb_free(c);
    }
    /* beyond the frame, or the skb itself: refused, nothing taken */
    struct lyra_skb *c = xalloc(&e, 20, 0);
    cr_assert_eq(e.ops->clone_add_range(e.self, c, o, 500, 101), -EINVAL);
    cr_assert_eq(e.ops->clone_add_range(e.self, c, o, 601, UINT32_MAX), -EINVAL);
    cr_assert_eq(e.ops->clone_add_range(e.self, c, c, 0, 0), -EINVAL);
    cr_assert_eq(o->refcnt, 1);
    cr_assert_eq(c->nseg, 0);
    /* appended behind what c shows, each range holding o once */
    cr_assert_eq(e.ops->clone_add_range(e.self, c, o, 590, 10), 0);
    cr_assert_eq(e.ops->clone_add_range(e.self, c, o, 0, 5), 0);
    cr_assert_eq(o->refcnt, 3);
    cr_assert_eq(lyra_skb_flatten(c, out, sizeof(out)), 15);
    cr_assert_arr_eq(out, src + 590, 10);
    cr_assert_arr_eq(out + 10, src, 5);
    cr_assert_eq(st(&e, "clone_ranges"), 8, "6 + 2 shown; the refused ones not counted");
    cr_assert_eq(st(&e, "clones"), 0, "no clone call");
    lyra_skb_free(o); /* c keeps its bytes */
    cr_assert_eq(lyra_skb_flatten(c, out, sizeof(out)), 15);
    cr_assert_arr_eq(out, src + 590, 10);
    lyra_skb_free(c);
    cr_assert_eq(st(&e, "in_use"), 0);
    cr_assert_eq(st(&e, "segs_in_use"), 0);
    env_done(&e);
}

/* clone_add_range with descriptors short: a range that needs more than
 * are free is refused whole (-ENOMEM, nothing appended, no reference
 * taken, clone_fail counted); one that needs no more than are free is
 * shown, even with fewer free than the skb has pieces. */
Test(skb_copy, clone_add_range_with_few_descriptors)
{
    struct env e = env_new(P("count=8", "buf_size=256", "headroom=0", "segs=4"));
    uint8_t src[600], out[600];
    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 7 + 3);
    struct lyra_skb *o = xalloc(&e, 0, 0);
    cr_assert_eq(e.ops->add_data(e.self, o, src, sizeof(src), 0, NULL), 600);
    cr_assert_eq(o->nseg, 2, "256 linear, then 256 + 88 chained");
    cr_assert_eq(st(&e, "segs_in_use"), 2, "two of four descriptors free: no more than o's pieces");
    struct lyra_skb *c = xalloc(&e, 20, 0);
    /* [0, 600) needs three: refused, c and o as they were */
    cr_assert_eq(e.ops->clone_add_range(e.self, c, o, 0, 600), -ENOMEM);
    cr_assert_eq(c->nseg, 0);
    cr_assert_eq(o->refcnt, 1);
    cr_assert_eq(st(&e, "clone_fail"), 1);
    /* [300, 600) needs two (the chained pieces): shown */
    cr_assert_eq(e.ops->clone_add_range(e.self, c, o, 300, 300), 0);
    cr_assert_eq(c->nseg, 2);
    cr_assert_eq(o->refcnt, 2);
    /* none free now: even one piece is refused */
    cr_assert_eq(e.ops->clone_add_range(e.self, c, o, 0, 5), -ENOMEM);
    cr_assert_eq(c->nseg, 2);
    cr_assert_eq(o->refcnt, 2);
    cr_assert_eq(st(&e, "clone_fail"), 2);
    cr_assert_eq(lyra_skb_flatten(c, out, sizeof(out)), 300);
    cr_assert_arr_eq(out, src + 300, 300);
    lyra_skb_free(c);
    lyra_skb_free(o);
    cr_assert_eq(st(&e, "in_use"), 0);
    cr_assert_eq(st(&e, "segs_in_use"), 0);
    env_done(&e);
}

/* Without LYRA_SEG_F_CSUM (a caller whose NIC sums) nothing is summed or
 * kept: the copy alone. */
Test(skb_copy, add_data_sums_only_when_asked)
{
    struct env e = env_new(P("count=16", "buf_size=256", "headroom=0"));
    uint8_t src[600];
    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 5 + 1);
    struct lyra_skb *s = xalloc(&e, 0, 0);
    cr_assert_eq(e.ops->add_data(e.self, s, src, sizeof(src), LYRA_SEG_F_USER, NULL), 600);
    uint32_t ko, kn;
    cr_assert_not(lyra_skb_lin_csum(s, &ko, &kn));
    const struct lyra_skb_seg *g;
    LYRA_SKB_FOR_EACH_SEG(s, g)
        cr_assert_not(g->flags & LYRA_SEG_F_CSUM);
    cr_assert_eq(skb_sum(s, 0, 600), ref_sum(src, 600, 0), "read from the bytes");
    lyra_skb_free(s);
    env_done(&e);
}
