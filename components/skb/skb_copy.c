/* skb_copy: the classic copying buffer manager (interface skb 2.1).
 *
 * Every skb is a linear buffer from a fixed pool; payload handed to
 * add_data is copied into its tail and, beyond it, into further buffers of
 * the pool chained as segments (each segment holds a reference on the
 * buffer it shows, from a pool of `segs` descriptors), so max_alloc bounds
 * the linear part only. copy_out copies frames out. Both copies are
 * counted, so the copy path's cost can be compared with skb_zc.
 *
 * Two classes of buffers, each a pool of its own (skb_pool.c): `count`
 * normal buffers of `buf_size` bytes, and `big_count` big ones of
 * `big_size` bytes for the rare datagram that does not fit a normal buffer
 * (a reassembled 8 KB UDP datagram, ping -s 3000, a UDP datagram before ip
 * fragments it). A transmit alloc takes a normal buffer whenever headroom
 * plus size fits one, and a big one only when it does not; receive buffers
 * are always normal. The classes never lend to each other, so running out
 * of one leaves the other untouched. A freed skb goes back to the pool that
 * owns its header.
 *
 * Within the normal class, reserve_rx buffers are kept for receive and
 * reserve_ctl more for control transmits (LYRA_SKB_CTL): a data alloc
 * leaves reserve_rx + reserve_ctl free, a control alloc reserve_rx. */
#include <errno.h>
#include <string.h>

#include "lyra/component.h"
#include "lyra/diag.h"
#include "lyra/inet_csum.h"
#include "lyra/os.h"
#include "lyra/skb.h"
#include "skb_pool.h"
#include "skb_fill.h"
#include "skb_segs.h"
#include "skb_xfer.h"

/* A test build of this file (tests/fakes/fake_skb_split.c) names the
 * component otherwise and sets SKB_COPY_PIECE_MAX: add_data then leaves the
 * linear tail alone and puts every payload in pieces of at most that many
 * bytes, from a pool of `segs` chunks of that size, so that every reader
 * of skbs meets many pieces. 0 here: the product. */
#ifndef SKB_COPY_NAME
#define SKB_COPY_NAME "skb_copy"
#define SKB_COPY_COMPONENT lyra_component_skb_copy
#define SKB_COPY_SUMMARY "classic copying packet buffer manager (fixed pool)"
#define SKB_COPY_PIECE_MAX 0u
#endif

/* The largest big_size: the largest IPv4 datagram (65535 bytes) behind
 * the largest headroom parameter (1024), rounded up to 65 KiB (a multiple
 * of SKB_POOL_ALIGN). */
#define SKB_COPY_BIG_MAX (65u * 1024u)

enum {
    P_COUNT,
    P_BUF_SIZE,
    P_HEADROOM,
    P_RX_HEADROOM,
    P_RESERVE_RX,
    P_BIG_COUNT,
    P_BIG_SIZE,
    P_RESERVE_CTL,
    P_SEGS,
    P__N
};

struct skb_copy {
    struct lyra_os os;
    int os_bound;
    struct skb_pool pool; /* normal buffers: transmit and receive */
    struct skb_pool big;  /* big buffers: transmit only, when a normal one is too small */
    struct skb_segs segs; /* descriptors that add_data chains */
    struct skb_pool chunks; /* SKB_COPY_PIECE_MAX builds: the pieces add_data fills */
    struct skb_fill fill;   /* how add_data copies: into which pool, in what pieces */
    struct skb_xfer xfer;   /* the counters every manager shares (all copies here) */
    uint32_t count, buf_size, headroom, rx_headroom, reserve_rx, reserve_ctl, nsegs;
    uint32_t big_count, big_size;
    uint64_t copy_in_bytes, copy_in_calls;
    uint64_t copy_out_bytes, copy_out_calls;
    uint64_t copy_out_einval;
    uint64_t alloc_bad_cls;
    uint64_t add_data_short; /* add_data took less than asked: buffers or descriptors out */
    uint64_t add_data_emsgsize;
    uint64_t clones, clone_ranges, clone_fail;
};

/* skb_pool_alloc_tx: normal, else big (when it fits only there). Before
 * start neither pool is set up: the normal one refuses (counted). */
static struct lyra_skb *alloc_tx(struct skb_copy *c, enum skb_pool_kind kind, uint32_t headroom,
                                 uint32_t size)
{
    return skb_pool_alloc_tx(&c->pool, &c->big, c->headroom, kind, headroom, size);
}

static struct lyra_skb *op_alloc(void *self, uint32_t headroom, uint32_t size)
{
    return alloc_tx(self, SKB_POOL_DATA, headroom, size);
}

static struct lyra_skb *op_alloc_cls(void *self, int cls, uint32_t headroom, uint32_t size)
{
    struct skb_copy *c = self;
    enum skb_pool_kind kind;
    if (skb_pool_cls_kind(cls, &kind)) {
        c->alloc_bad_cls++;
        return NULL;
    }
    return alloc_tx(c, kind, headroom, size);
}

/* Normal buffers only: a request that fits beside `headroom` in one never
 * goes to the big class. */
static uint32_t op_tx_avail(void *self, int cls, uint32_t headroom)
{
    struct skb_copy *c = self;
    enum skb_pool_kind kind;
    if (skb_pool_cls_kind(cls, &kind) || headroom > c->buf_size)
        return 0;
    return skb_pool_avail_for(&c->pool, kind);
}

static uint32_t op_max_alloc(void *self, uint32_t headroom)
{
    struct skb_copy *c = self;
    return skb_pool_max_tx(c->buf_size, c->big_count, c->big_size, headroom);
}

/* Receive buffers are always normal ones: a NIC never needs more than a
 * frame, and big buffers are kept for the datagrams that need them. */
static struct lyra_skb *op_alloc_rx(void *self, uint32_t size)
{
    struct skb_copy *c = self;
    uint32_t h = skb_pool_fit_headroom(c->buf_size, 0, c->rx_headroom, size);
    return skb_pool_alloc(&c->pool, h, size, SKB_POOL_RX);
}

/* By the pool that owns the header; a stranger is the normal pool's to
 * count (bad_free), as a double free is the owning pool's. */
static void op_free(void *self, struct lyra_skb *skb)
{
    struct skb_copy *c = self;
    /* the normal pool first: nearly every skb is one of its */
    if (skb_pool_owns(&c->pool, skb))
        (void)skb_pool_free_own(&c->pool, skb);
    else if (skb_pool_owns(&c->big, skb))
        (void)skb_pool_free_own(&c->big, skb);
    else if (SKB_COPY_PIECE_MAX && skb_pool_owns(&c->chunks, skb))
        (void)skb_pool_free_own(&c->chunks, skb);
    else
        (void)skb_pool_free(&c->pool, skb); /* not ours (or NULL): the pool logs it */
}

/* What add_data could ever chain behind skb: the normal buffers a data
 * alloc may take with the whole pool free (skb's own buffer, when it is a
 * normal one, excluded), each one descriptor. */
static uint64_t chain_capacity(const struct skb_copy *c, const struct lyra_skb *skb)
{
    if (SKB_COPY_PIECE_MAX)
        return (uint64_t)c->nsegs * SKB_COPY_PIECE_MAX;
    uint64_t nbuf = c->count - c->reserve_rx - c->reserve_ctl;
    if (nbuf && skb_pool_owns(&c->pool, skb))
        nbuf--;
    if (nbuf > c->nsegs)
        nbuf = c->nsegs;
    return nbuf * c->buf_size;
}

static int op_add_data(void *self, struct lyra_skb *skb, const void *p, uint32_t len,
                       uint32_t flags, uint32_t *copied)
{
    struct skb_copy *c = self;
    /* user memory or not, it is copied; summed on the way when asked */
    int sum = (flags & LYRA_SEG_F_CSUM) != 0;
    if (copied)
        *copied = 0;
    if (!skb || (!p && len) || len > INT32_MAX)
        return -EINVAL;
    if (len == 0)
        return 0;
    uint32_t room = SKB_COPY_PIECE_MAX ? 0 : lyra_skb_tailroom(skb);
    if (len - (len < room ? len : room) > chain_capacity(c, skb)) {
        c->add_data_emsgsize++;
        return -EMSGSIZE;
    }
    int ran_out = 0;
    uint32_t taken = skb_fill_copy(&c->fill, skb, p, len, sum, &ran_out);
    c->add_data_short += ran_out;
    c->copy_in_bytes += taken;
    c->xfer.tx_copied_bytes += taken;
    c->copy_in_calls++;
    if (copied)
        *copied = taken;
    return (int)taken;
}

static int op_copy_out(void *self, const struct lyra_skb *skb, uint32_t off, void *dst,
                       uint32_t len)
{
    struct skb_copy *c = self;
    if (!skb || (!dst && len) || skb_segs_copy_out(skb, off, dst, len)) {
        c->copy_out_einval++;
        return -EINVAL;
    }
    if (len == 0)
        return 0;
    c->copy_out_bytes += len;
    c->xfer.rx_copied_bytes += len;
    c->copy_out_calls++;
    return 0;
}

/* A normal buffer (data class) for the clone's headers, the payload shown
 * through descriptors (skb_segs_clone). */
static struct lyra_skb *op_clone(void *self, struct lyra_skb *skb, uint32_t headroom)
{
    struct skb_copy *c = self;
    if (!skb || skb->refcnt == 0 || skb->refcnt == UINT16_MAX) {
        c->clone_fail++;
        return NULL;
    }
    struct lyra_skb *n = alloc_tx(c, SKB_POOL_DATA, headroom, 0);
    if (!n || skb_segs_clone(&c->segs, n, skb)) {
        lyra_skb_free(n);
        c->clone_fail++;
        return NULL;
    }
    c->clones++;
    return n;
}

/* skb 2.8: bytes [off, off + len) of skb's frame appended to c's, through
 * descriptors as clone (part of a queued skb of many segments). */
static int op_clone_add_range(void *self, struct lyra_skb *c, struct lyra_skb *skb,
                              uint32_t off, uint32_t len)
{
    struct skb_copy *k = self;
    int r = skb_segs_show_range(&k->segs, c, skb, off, len); /* checks the arguments */
    k->clone_fail += r == -ENOMEM;
    k->clone_ranges += r == 0;
    return r;
}

/* skb 2.5: skb's frame appended to c's (a TSO frame of several queued
 * skbs). */
static int op_clone_add(void *self, struct lyra_skb *c, struct lyra_skb *skb)
{
    return op_clone_add_range(self, c, skb, 0, UINT32_MAX);
}

/* Normal buffers only (what a NIC's receive ring and most senders need). */
static uint32_t op_avail(void *self)
{
    struct skb_copy *c = self;
    return skb_pool_avail(&c->pool);
}

static const struct lyra_skb_ops skb_copy_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_SKB_IFACE, LYRA_SKB_MAJOR, LYRA_SKB_MINOR, struct lyra_skb_ops),
    .alloc = op_alloc,
    .alloc_rx = op_alloc_rx,
    .free = op_free,
    .add_data = op_add_data,
    .copy_out = op_copy_out,
    .avail = op_avail,
    .max_alloc = op_max_alloc,
    .alloc_cls = op_alloc_cls,
    .tx_avail = op_tx_avail,
    .clone = op_clone,
    .clone_add = op_clone_add,
    .clone_add_range = op_clone_add_range,
};

/* The last reference of an skb went: what its segments hold goes too. */
static void copy_release(void *owner, struct lyra_skb *skb)
{
    struct skb_copy *c = owner;
    skb_segs_release(&c->segs, skb);
}

static int bind_os(void *self, unsigned index, const void *ops, void *provider)
{
    struct skb_copy *c = self;
    if (index != 0 || !ops)
        return -EINVAL;
    c->os.ops = ops;
    c->os.self = provider;
    c->os_bound = 1;
    return 0;
}

static int skb_copy_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct skb_copy *c = self;
    memset(c, 0, sizeof(*c));
    c->count = (uint32_t)p[P_COUNT].u.i;
    c->buf_size = (uint32_t)p[P_BUF_SIZE].u.i;
    c->headroom = (uint32_t)p[P_HEADROOM].u.i;
    c->rx_headroom = (uint32_t)p[P_RX_HEADROOM].u.i;
    c->reserve_rx = (uint32_t)p[P_RESERVE_RX].u.i;
    c->big_count = (uint32_t)p[P_BIG_COUNT].u.i;
    c->big_size = (uint32_t)p[P_BIG_SIZE].u.i;
    c->reserve_ctl = (uint32_t)p[P_RESERVE_CTL].u.i;
    c->nsegs = (uint32_t)p[P_SEGS].u.i;
    if (c->reserve_rx > c->count) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "reserve_rx (%u) is larger than count (%u)",
                      (unsigned)c->reserve_rx, (unsigned)c->count);
        return -EINVAL;
    }
    if (c->reserve_ctl > c->count - c->reserve_rx) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "reserve_rx (%u) plus reserve_ctl (%u) is larger than count (%u)",
                      (unsigned)c->reserve_rx, (unsigned)c->reserve_ctl, (unsigned)c->count);
        return -EINVAL;
    }
    if (c->big_count && c->big_size <= c->buf_size) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "big_size (%u) must be larger than buf_size (%u) when big_count is set",
                      (unsigned)c->big_size, (unsigned)c->buf_size);
        return -EINVAL;
    }
    return 0;
}

static int skb_copy_start(void *self)
{
    struct skb_copy *c = self;
    if (!c->os_bound)
        return -EINVAL;
    if (skb_pool_ready(&c->pool))
        return 0;
    struct skb_pool_cfg cfg = {
        .count = c->count,
        .buf_size = c->buf_size,
        .reserve_rx = c->reserve_rx,
        .reserve_ctl = c->reserve_ctl,
        .release = copy_release,
    };
    int r = skb_pool_init(&c->pool, &c->os, SKB_COPY_NAME, &cfg, &skb_copy_ops, c);
    if (r) {
        lyra_log(&c->os, LYRA_LOG_ERROR, SKB_COPY_NAME,
                 "cannot allocate %u buffers of %u bytes", (unsigned)c->count,
                 (unsigned)c->buf_size);
        return r;
    }
    if (c->big_count) {
        struct skb_pool_cfg bcfg = {
            .count = c->big_count, .buf_size = c->big_size, .release = copy_release};
        r = skb_pool_init(&c->big, &c->os, SKB_COPY_NAME, &bcfg, &skb_copy_ops, c);
        if (r) {
            lyra_log(&c->os, LYRA_LOG_ERROR, SKB_COPY_NAME,
                     "cannot allocate %u big buffers of %u bytes", (unsigned)c->big_count,
                     (unsigned)c->big_size);
            skb_pool_fini(&c->pool); /* nothing out yet: all of it goes back */
            return r;
        }
    }
    /* descriptors last, so the buffers' layout is the one pools always had */
    r = skb_segs_init(&c->segs, &c->os, c->nsegs);
    if (!r && SKB_COPY_PIECE_MAX != 0 && c->nsegs) {
        struct skb_pool_cfg ccfg = {
            .count = c->nsegs, .buf_size = SKB_COPY_PIECE_MAX, .release = copy_release};
        r = skb_pool_init(&c->chunks, &c->os, SKB_COPY_NAME, &ccfg, &skb_copy_ops, c);
        if (r)
            skb_segs_fini(&c->segs);
    }
    c->fill = (struct skb_fill){
        .segs = &c->segs,
        .pool = SKB_COPY_PIECE_MAX ? &c->chunks : &c->pool,
        .piece = SKB_COPY_PIECE_MAX ? SKB_COPY_PIECE_MAX : c->buf_size,
        .tail = SKB_COPY_PIECE_MAX == 0,
    };
    if (r) {
        lyra_log(&c->os, LYRA_LOG_ERROR, SKB_COPY_NAME, "cannot allocate %u segment descriptors",
                 (unsigned)c->nsegs);
        skb_pool_fini(&c->pool);
        skb_pool_fini(&c->big);
        return r;
    }
    return 0;
}

static void skb_copy_stop(void *self)
{
    struct skb_copy *c = self;
    skb_pool_fini(&c->pool);
    skb_pool_fini(&c->big);
    skb_pool_fini(&c->chunks);
    skb_segs_fini(&c->segs);
}

static void skb_copy_destroy(void *self)
{
    skb_copy_stop(self); /* when destroyed without a stop */
}

/* The normal pool's counters under the names they always had, but for
 * in_use and bad_free, which cover both classes (a leak check reads one
 * counter); the big pool's under big_*. No request reaches the big pool
 * unless it fits, so its alloc_fail_size is always 0. */
static void skb_copy_stats(void *self, struct lyra_stats_sink *sink)
{
    struct skb_copy *c = self;
    const struct skb_pool_stats *n = &c->pool.st, *b = &c->big.st;
    lyra_stat(sink, "alloc", n->alloc);
    lyra_stat(sink, "alloc_rx", n->alloc_rx);
    lyra_stat(sink, "alloc_fail_empty", n->alloc_fail_empty);
    lyra_stat(sink, "alloc_fail_size", n->alloc_fail_size + b->alloc_fail_size);
    lyra_stat(sink, "free", n->free);
    lyra_stat(sink, "bad_free", n->bad_free + b->bad_free);
    lyra_stat(sink, "in_use", (uint64_t)skb_pool_in_use(&c->pool) + skb_pool_in_use(&c->big));
    lyra_stat(sink, "high_water", n->high_water);
    lyra_stat(sink, "big_alloc", b->alloc);
    lyra_stat(sink, "big_alloc_fail_empty", b->alloc_fail_empty);
    lyra_stat(sink, "big_free", b->free);
    lyra_stat(sink, "big_bad_free", b->bad_free);
    lyra_stat(sink, "big_in_use", skb_pool_in_use(&c->big));
    lyra_stat(sink, "big_high_water", b->high_water);
    lyra_stat(sink, "big_count", c->big_count);
    lyra_stat(sink, "count", c->count);
    lyra_stat(sink, "copy_bytes", c->copy_in_bytes + c->copy_out_bytes);
    lyra_stat(sink, "copy_calls", c->copy_in_calls + c->copy_out_calls);
    lyra_stat(sink, "copy_in_bytes", c->copy_in_bytes);
    lyra_stat(sink, "copy_out_bytes", c->copy_out_bytes);
    lyra_stat(sink, "copy_out_einval", c->copy_out_einval);
    lyra_stat(sink, "alloc_bad_cls", c->alloc_bad_cls);
    lyra_stat(sink, "segs", c->nsegs);
    lyra_stat(sink, "segs_in_use", skb_segs_in_use(&c->segs));
    lyra_stat(sink, "segs_high_water", c->segs.high_water);
    lyra_stat(sink, "add_data_short", c->add_data_short);
    lyra_stat(sink, "add_data_emsgsize", c->add_data_emsgsize);
    if (SKB_COPY_PIECE_MAX)
        lyra_stat(sink, "chunk_in_use", skb_pool_in_use(&c->chunks));
    lyra_stat(sink, "clones", c->clones);
    lyra_stat(sink, "clone_ranges", c->clone_ranges);
    lyra_stat(sink, "clone_fail", c->clone_fail);
    skb_xfer_stats(&c->xfer, sink);
}

static const struct lyra_provide skb_copy_provides[] = {
    {
        .iface = LYRA_SKB_IFACE,
        .major = LYRA_SKB_MAJOR,
        .minor = LYRA_SKB_MINOR,
        .ops = &skb_copy_ops,
        .attach = NULL,
        .max_users = 0,
        .doc = LYRA_DOC("packet buffers from a fixed pool; payload is copied in and out"),
    },
};

static const struct lyra_slot skb_copy_slots[] = {
    {
        .name = "os",
        .iface = LYRA_OS_IFACE,
        .major = LYRA_OS_MAJOR,
        .minor = LYRA_OS_MINOR,
        .min = 1,
        .max = 1,
        .events = NULL,
        .bind = bind_os,
        .doc = LYRA_DOC("memory for the pool (at start only) and logging"),
    },
};

/* Order matches the P_* indices. */
static const struct lyra_param skb_copy_params[P__N] = {
    [P_COUNT] = {"count", LYRA_P_INT, "256", 1, 65536,
                 LYRA_DOC("buffers in the pool (transmit and receive together)")},
    [P_BUF_SIZE] = {"buf_size", LYRA_P_SIZE, "2048", 256, 65536,
                    LYRA_DOC("linear bytes per buffer: headroom plus the largest frame")},
    [P_HEADROOM] = {"headroom", LYRA_P_SIZE, "128", 0, 1024,
                    LYRA_DOC("least headroom of a transmit buffer, when it fits beside the size asked")},
    [P_RX_HEADROOM] = {"rx_headroom", LYRA_P_SIZE, "2", 0, 1024,
                       LYRA_DOC("headroom of a receive buffer (2: the IP header after 14 bytes of "
                       "Ethernet is 4-byte aligned)")},
    [P_RESERVE_RX] = {"reserve_rx", LYRA_P_INT, "0", 0, 65536,
                      LYRA_DOC("buffers kept for receive only, so that transmit cannot starve receive")},
    [P_BIG_COUNT] = {"big_count", LYRA_P_INT, "0", 0, 1024,
                     LYRA_DOC("big buffers, for transmit allocations too large for a normal buffer "
                     "(reassembled or unfragmented datagrams); 0: none, such allocations fail")},
    [P_RESERVE_CTL] = {"reserve_ctl", LYRA_P_INT, "0", 0, 65536,
                       LYRA_DOC("buffers, beyond reserve_rx, that only control transmits "
                       "(LYRA_SKB_CTL: ACKs, RSTs, ARP, ICMP errors) may take")},
    [P_BIG_SIZE] = {"big_size", LYRA_P_SIZE, "16k", 2048, SKB_COPY_BIG_MAX,
                    LYRA_DOC("linear bytes per big buffer, larger than buf_size (65k holds a 65535-byte "
                    "datagram behind 1024 bytes of headroom)")},
    [P_SEGS] = {"segs", LYRA_P_INT, "512", 0, 1048576,
                LYRA_DOC("segment descriptors: add_data chains one per normal buffer it fills "
                "beyond an skb's linear tail")},
};

LYRA_EXPORT const struct lyra_component SKB_COPY_COMPONENT = {
    LYRA_COMPONENT_HDR,
    .name = SKB_COPY_NAME,
    .version = "2.0.0",
    .summary = LYRA_DOC(SKB_COPY_SUMMARY),
    .doc = LYRA_DOC("All buffers are allocated from the os at start: count headers and count "
           "buffers of buf_size bytes, and big_count big buffers of big_size bytes; nothing "
           "on the data path allocates. alloc's size is the linear part; add_data copies "
           "payload into the linear tail and, beyond it, into further normal buffers chained "
           "as segments (one of `segs` descriptors each), so a datagram larger than a "
           "buffer needs no big one. clone gives a new skb of its own headroom showing "
           "another's frame through descriptors and holding a reference on it (skb 2.1). alloc takes a normal buffer when headroom plus size "
           "fits one, else a big one (when big_count > 0 and it fits big_size); alloc_rx "
           "only ever takes normal buffers, and avail counts normal buffers. The two "
           "classes are separate pools: exhausting one never touches the other. add_data "
           "copies payload into the linear tail of an skb and copy_out copies any range of "
           "a frame out; both are counted (copy_bytes, copy_calls). An empty pool makes "
           "alloc return NULL (alloc_fail_empty, big_alloc_fail_empty); a transmit alloc of "
           "a normal buffer also fails when only reserve_rx are left (reserve_rx + "
           "reserve_ctl for a data alloc; tx_avail says how many would succeed now); a "
           "request no class "
           "can hold fails with alloc_fail_size. A free of a free buffer or of a stranger is "
           "counted (bad_free) and logged, and leaves the pools intact. When the last reference "
           "of an skb is dropped, its send-completion callback (skb->done) runs "
           "before the buffer and the buffers its segments hold go back.\n"
           "@stat alloc alloc_rx alloc_fail_empty free high_water: normal buffers\n"
           "@stat alloc_fail_size: larger than any buffer class\n"
           "@stat in_use bad_free: both classes together\n"
           "@stat big_alloc big_alloc_fail_empty big_free big_bad_free big_in_use "
           "big_high_water big_count: big buffers\n"
           "@stat count copy_bytes copy_calls copy_in_bytes copy_out_bytes copy_out_einval\n"
           "@stat alloc_bad_cls: alloc_cls with a class that is neither DATA nor CTL\n"
           "@stat segs segs_in_use segs_high_water: segment descriptors\n"
           "@stat add_data_short: add_data took less than asked (buffers or descriptors out)\n"
           "@stat add_data_emsgsize: more than the whole pool could hold\n"
           "@stat clones clone_fail: clones made (clone), and clone, clone_add or "
           "clone_add_range refused for want of a buffer or descriptors\n"
           "@stat clone_ranges: frames or parts of one shown in another skb (clone_add, "
           "clone_add_range: TSO frames, tcp's segments and pieces of a queued write)\n"
           "@stat tx_copied_bytes rx_copied_bytes: copy_in_bytes and copy_out_bytes under the "
           "names every skb provider shares (issue 12)\n"
           "@stat tx_referenced_bytes rx_remapped_bytes cow_faults fallback_*: always 0 here "
           "(nothing is referenced), reported so that skb_copy and skb_zc read alike"),
    .provides = skb_copy_provides,
    .n_provides = LYRA_COUNT(skb_copy_provides),
    .slots = skb_copy_slots,
    .n_slots = LYRA_COUNT(skb_copy_slots),
    .params = skb_copy_params,
    .n_params = LYRA_COUNT(skb_copy_params),
    .instance_size = sizeof(struct skb_copy),
    .create = skb_copy_create,
    .start = skb_copy_start,
    .stop = skb_copy_stop,
    .destroy = skb_copy_destroy,
    .poll = NULL,
    .stats = skb_copy_stats,
};
