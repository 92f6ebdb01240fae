/* skb_zc: the zero-copy buffer manager (interface skb 2.3; the paper's
 * buffer manager, DESIGN.md "Buffers and zero copy").
 *
 * Transmit buffers (headers, copied payload, follow_data, clones) come from
 * a pool of `count` buffers of `buf_size` bytes, as skb_copy's normal
 * class; receive buffers are os pages, `rx_pages` of them taken at start.
 * add_data references packet memory (under copy on write) and memory the
 * caller vouches for, and copies the rest (skb_zc_tx.c); move_out remaps
 * a whole received payload into packet memory (skb_zc_rx.c); pkt_alloc and
 * pkt_free manage packet memory (skb_zc_pkt.c). big_count big buffers, as
 * skb_copy's, for the linear datagrams ip reassembles. */
#include <errno.h>
#include <string.h>

#include "lyra/component.h"
#include "lyra/diag.h"
#include "skb_zc.h"

enum {
    P_COUNT,
    P_BUF_SIZE,
    P_HEADROOM,
    P_RX_HEADROOM,
    P_RESERVE_CTL,
    P_SEGS,
    P_RX_PAGES,
    P_PKT_PAGES,
    P_PKT_REGIONS,
    P_COW_PAGES,
    P_REF_MIN,
    P_BIG_COUNT,
    P_BIG_SIZE,
    P_PROTECT_AHEAD,
    P__N
};

/* create copies parameter i into param[i]: each field sits at its index */
#define ZC_PARAM_AT(field, i)                                                                   \
    _Static_assert(offsetof(struct skb_zc, field) ==                                          \
                       offsetof(struct skb_zc, param) + (i) * sizeof(uint32_t),               \
                   #field " is param[" #i "]")
ZC_PARAM_AT(count, P_COUNT);
ZC_PARAM_AT(buf_size, P_BUF_SIZE);
ZC_PARAM_AT(headroom, P_HEADROOM);
ZC_PARAM_AT(rx_headroom, P_RX_HEADROOM);
ZC_PARAM_AT(reserve_ctl, P_RESERVE_CTL);
ZC_PARAM_AT(nsegs, P_SEGS);
ZC_PARAM_AT(rx_pages, P_RX_PAGES);
ZC_PARAM_AT(pkt_pages, P_PKT_PAGES);
ZC_PARAM_AT(pkt_regions, P_PKT_REGIONS);
ZC_PARAM_AT(cow_pages, P_COW_PAGES);
ZC_PARAM_AT(ref_min, P_REF_MIN);
ZC_PARAM_AT(big_count, P_BIG_COUNT);
ZC_PARAM_AT(big_size, P_BIG_SIZE);
ZC_PARAM_AT(protect_ahead, P_PROTECT_AHEAD);
_Static_assert(P__N == SKB_ZC_NPARAMS, "SKB_ZC_NPARAMS");

static struct lyra_skb *op_alloc_cls(void *self, int cls, uint32_t headroom, uint32_t size)
{
    struct skb_zc *z = self;
    enum skb_pool_kind kind;
    if (skb_pool_cls_kind(cls, &kind))
        return NULL;
    return skb_pool_alloc_tx(&z->pool, &z->big, z->headroom, kind, headroom, size);
}

static struct lyra_skb *op_alloc(void *self, uint32_t headroom, uint32_t size)
{
    struct skb_zc *z = self; /* a data allocation: no class to look up */
    return skb_pool_alloc_tx(&z->pool, &z->big, z->headroom, SKB_POOL_DATA, headroom, size);
}

static uint32_t op_tx_avail(void *self, int cls, uint32_t headroom)
{
    struct skb_zc *z = self;
    enum skb_pool_kind kind;
    if (skb_pool_cls_kind(cls, &kind) || headroom > z->buf_size)
        return 0;
    return skb_pool_avail_for(&z->pool, kind);
}

static uint32_t op_max_alloc(void *self, uint32_t headroom)
{
    struct skb_zc *z = self;
    return skb_pool_max_tx(z->buf_size, z->big_count, z->big_size, headroom);
}

static void op_free(void *self, struct lyra_skb *skb)
{
    struct skb_zc *z = self;
    /* the transmit pool first: headers, clones and payload skbs, most of
     * what is freed on a sending stack (skb_pool_free checks it again) */
    struct skb_pool *p = skb_pool_owns(&z->pool, skb) ? &z->pool
                         : skb_pool_owns(&z->rx, skb) ? &z->rx
                         : skb_pool_owns(&z->big, skb) ? &z->big
                                                       : NULL;
    if (p)
        (void)skb_pool_free_own(p, skb);
    else
        (void)skb_pool_free(&z->pool, skb); /* not ours (or NULL): pool logs it */
}

static uint32_t op_avail(void *self)
{
    return skb_pool_avail(&((struct skb_zc *)self)->rx);
}

/* As skb_copy's: a transmit buffer for the clone's headers, the payload
 * shown through descriptors (the first holds a reference on skb). */
static struct lyra_skb *op_clone(void *self, struct lyra_skb *skb, uint32_t headroom)
{
    struct skb_zc *z = self;
    struct lyra_skb *n = NULL;
    if (skb && skb->refcnt && skb->refcnt != UINT16_MAX)
        n = op_alloc(z, headroom, 0);
    if (!n || skb_segs_clone(&z->segs, n, skb)) {
        lyra_skb_free(n);
        z->n[ZC_clone_fail]++;
        return NULL;
    }
    z->n[ZC_clones]++;
    return n;
}

/* As skb_copy's: part of skb's frame appended to c's (skb 2.8). */
static int op_clone_add_range(void *self, struct lyra_skb *c, struct lyra_skb *skb,
                              uint32_t off, uint32_t len)
{
    struct skb_zc *z = self;
    int r = skb_segs_show_range(&z->segs, c, skb, off, len); /* checks the arguments */
    z->n[ZC_clone_fail] += r == -ENOMEM;
    z->n[ZC_clone_ranges] += r == 0;
    return r;
}

/* As skb_copy's: skb's frame appended to c's (skb 2.5, TSO). */
static int op_clone_add(void *self, struct lyra_skb *c, struct lyra_skb *skb)
{
    return op_clone_add_range(self, c, skb, 0, UINT32_MAX);
}

static const struct lyra_skb_ops skb_zc_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_SKB_IFACE, LYRA_SKB_MAJOR, LYRA_SKB_MINOR, struct lyra_skb_ops),
    .alloc = op_alloc,
    .alloc_rx = zc_alloc_rx,
    .free = op_free,
    .add_data = zc_add_data,
    .copy_out = zc_copy_out,
    .move_out = zc_move_out,
    .avail = op_avail,
    .max_alloc = op_max_alloc,
    .alloc_cls = op_alloc_cls,
    .tx_avail = op_tx_avail,
    .clone = op_clone,
    .pkt_alloc = zc_pkt_alloc,
    .pkt_free = zc_pkt_free,
    .clone_add = op_clone_add,
    .clone_add_range = op_clone_add_range,
};

static int bind_os(void *self, unsigned index, const void *ops, void *provider)
{
    struct skb_zc *z = self;
    if (index != 0 || !ops)
        return -EINVAL;
    z->os.ops = ops;
    z->os.self = provider;
    z->os_bound = 1;
    return 0;
}

static int skb_zc_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct skb_zc *z = self;
    memset(z, 0, sizeof(*z));
    for (unsigned i = 0; i < P__N; i++)
        z->param[i] = (uint32_t)p[i].u.i;
    atomic_init(&z->cow_faults, 0);
    atomic_init(&z->cow_unprotects, 0);
    if (z->reserve_ctl >= z->count) {
        lyra_diag_add(d, LYRA_E_RANGE, 0, "reserve_ctl (%u) must be smaller than count (%u)",
                      (unsigned)z->reserve_ctl, (unsigned)z->count);
        return -EINVAL;
    }
    if (z->big_count && z->big_size <= z->buf_size) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "big_size (%u) must be larger than buf_size (%u) when big_count is set",
                      (unsigned)z->big_size, (unsigned)z->buf_size);
        return -EINVAL;
    }
    return 0;
}

static void skb_zc_stop(void *self)
{
    struct skb_zc *z = self;
    const struct lyra_os_ops *o = z->os.ops;
    skb_pool_fini(&z->pool);
    skb_pool_fini(&z->rx);
    skb_pool_fini(&z->big);
    if (z->rx_mem)
        o->page_free(z->os.self, z->rx_mem, z->rx_pages);
    z->rx_mem = NULL;
    zc_pkt_fini(z);
    skb_segs_fini(&z->segs);
}

/* One of the three pools (none when count is 0); a caller-owned data area
 * (the receive pages) is aligned to its buffer size. */
static int pool_init(struct skb_zc *z, struct skb_pool *p, uint32_t count, uint32_t size,
                     uint8_t *data)
{
    struct skb_pool_cfg c = {.count = count, .buf_size = size, .align = data ? size : 0,
                             .reserve_ctl = p == &z->pool ? z->reserve_ctl : 0, .data = data,
                             .release = zc_release};
    return count ? skb_pool_init(p, &z->os, SKB_ZC_NAME, &c, &skb_zc_ops, z) : 0;
}

static int skb_zc_start(void *self)
{
    struct skb_zc *z = self;
    if (!z->os_bound)
        return -EINVAL;
    if (skb_pool_ready(&z->pool))
        return 0;
    const struct lyra_os_ops *o = z->os.ops;
    z->psize = o->page_size ? o->page_size(z->os.self) : 0;
    z->pkt_off = z->rx_headroom + SKB_ZC_RX_HDRS;
    if (z->psize < 2048 || (z->psize & (z->psize - 1)) || z->pkt_off >= z->psize) {
        lyra_log(&z->os, LYRA_LOG_ERROR, SKB_ZC_NAME, "the os has no usable pages (page size %zu)",
                 z->psize);
        return -ENOTSUP;
    }
    z->rx_mem = o->page_alloc(z->os.self, z->rx_pages);
    int r = z->rx_mem ? 0 : -ENOMEM;
    if (!r)
        r = pool_init(z, &z->pool, z->count, z->buf_size, NULL);
    if (!r)
        r = pool_init(z, &z->rx, z->rx_pages, (uint32_t)z->psize, z->rx_mem);
    if (!r)
        r = pool_init(z, &z->big, z->big_count, z->big_size, NULL);
    if (!r)
        r = skb_segs_init(&z->segs, &z->os, z->nsegs);
    if (!r)
        r = zc_pkt_init(z);
    if (r) {
        lyra_log(&z->os, LYRA_LOG_ERROR, SKB_ZC_NAME, "cannot allocate its pools (%d)", r);
        skb_zc_stop(z);
        return r;
    }
    z->fill = (struct skb_fill){
        .segs = &z->segs, .pool = &z->pool, .piece = z->buf_size, .pack = 1, .tail = 1};
    return 0;
}

static void skb_zc_destroy(void *self)
{
    skb_zc_stop(self);
}

#ifndef LYRA_NO_DOCS
/* The names stats reports, in order, packed in one string walked with
 * strlen (no table of pointers): skb_copy's pool names (in_use and
 * bad_free over every pool: a leak check reads one counter, less what a
 * NIC keeps posted), SKB_ZC_COUNTERS, packet memory's. */
#define SKB_ZC_STAT_NAME(n) #n "\0"
static const char zc_stat_names[] =
    "alloc\0" "alloc_rx\0" "alloc_fail_empty\0" "alloc_fail_size\0" "free\0" "bad_free\0"
    "in_use\0" "high_water\0" "count\0" "big_alloc\0" "big_alloc_fail_empty\0" "big_in_use\0"
    "rx_alloc_fail\0" "rx_in_use\0" "segs\0" "segs_in_use\0" "segs_high_water\0"
    SKB_ZC_COUNTERS(SKB_ZC_STAT_NAME)
    "pkt_pages_in_use\0" "pkt_regions_in_use\0" "cow_pages_free\0" "cow_unprotects";
#undef SKB_ZC_STAT_NAME
#endif

/* Values first, then one loop: a store per counter is less code than a
 * call per counter. The first ZC_STATS_HEAD are the pool names', then
 * SKB_ZC_COUNTERS, then packet memory's. */
enum { ZC_STATS_HEAD = 17, ZC_NSTATS = ZC_STATS_HEAD + ZC_NCOUNTERS + 4 };

static void skb_zc_stats(void *self, struct lyra_stats_sink *sink)
{
    struct skb_zc *z = self;
    const struct skb_pool_stats *n = &z->pool.st, *b = &z->big.st, *r = &z->rx.st;
    uint32_t big_in_use = skb_pool_in_use(&z->big), rx_in_use = skb_pool_in_use(&z->rx);
    uint64_t v[ZC_NSTATS] = {
        n->alloc,
        r->alloc_rx,
        n->alloc_fail_empty,
        n->alloc_fail_size + b->alloc_fail_size,
        n->free + r->free,
        n->bad_free + b->bad_free + r->bad_free,
        (uint64_t)skb_pool_in_use(&z->pool) + big_in_use + rx_in_use,
        n->high_water,
        z->count,
        b->alloc,
        b->alloc_fail_empty,
        big_in_use,
        r->alloc_fail_empty + r->alloc_fail_size,
        rx_in_use,
        z->nsegs,
        skb_segs_in_use(&z->segs),
        z->segs.high_water,
        [ZC_STATS_HEAD + ZC_NCOUNTERS] = z->pg_in_use,
        z->reg_in_use,
        z->nbounce_free,
        atomic_load_explicit(&z->cow_unprotects, memory_order_relaxed),
    };
    memcpy(v + ZC_STATS_HEAD, z->n, sizeof(z->n));
#ifndef LYRA_NO_DOCS
    const char *name = zc_stat_names;
#endif
    for (unsigned i = 0; i < ZC_NSTATS; i++) {
        lyra_stat(sink, name, v[i]); /* LYRA_NO_DOCS: no names */
#ifndef LYRA_NO_DOCS
        name += strlen(name) + 1;
#endif
    }
    z->xfer.cow_faults = atomic_load_explicit(&z->cow_faults, memory_order_relaxed);
    skb_xfer_stats(&z->xfer, sink);
}

static const struct lyra_provide skb_zc_provides[] = {
    {
        .iface = LYRA_SKB_IFACE,
        .major = LYRA_SKB_MAJOR,
        .minor = LYRA_SKB_MINOR,
        .ops = &skb_zc_ops,
        .attach = NULL,
        .max_users = 0,
        .doc = LYRA_DOC("packet buffers; payload referenced (packet memory under copy on "
                        "write, vouched-for memory) or copied, and remapped on receive"),
    },
};

static const struct lyra_slot skb_zc_slots[] = {
    {
        .name = "os",
        .iface = LYRA_OS_IFACE,
        .major = LYRA_OS_MAJOR,
        .minor = LYRA_OS_MINOR,
        .min = 1,
        .max = 1,
        .events = NULL,
        .bind = bind_os,
        .doc = LYRA_DOC("memory and pages (at start and pkt_alloc), page remapping, "
                        "protection and the copy-on-write hook, logging"),
    },
};

/* Order matches the P_* indices. */
static const struct lyra_param skb_zc_params[P__N] = {
    [P_COUNT] = {"count", LYRA_P_INT, "256", 1, 65536,
                 LYRA_DOC("transmit buffers (headers, copied payload, follow_data, clones)")},
    [P_BUF_SIZE] = {"buf_size", LYRA_P_SIZE, "2048", 256, 65536,
                    LYRA_DOC("linear bytes per transmit buffer")},
    [P_HEADROOM] = {"headroom", LYRA_P_SIZE, "128", 0, 1024,
                    LYRA_DOC("least headroom of a transmit buffer, when it fits beside the size asked")},
    [P_RX_HEADROOM] = {"rx_headroom", LYRA_P_SIZE, "2", 0, 1024,
                       LYRA_DOC("headroom of a receive page (2: the IP header is 4-byte aligned); "
                       "pkt_alloc's in-page offset is rx_headroom + 66")},
    [P_RESERVE_CTL] = {"reserve_ctl", LYRA_P_INT, "0", 0, 65536,
                       LYRA_DOC("transmit buffers only control transmits (LYRA_SKB_CTL) may take")},
    [P_SEGS] = {"segs", LYRA_P_INT, "512", 0, 1048576,
                LYRA_DOC("segment descriptors: references, follow_data buffers and clones")},
    [P_RX_PAGES] = {"rx_pages", LYRA_P_INT, "128", 1, 65536,
                    LYRA_DOC("receive buffers, one os page each, taken at start")},
    [P_PKT_PAGES] = {"pkt_pages", LYRA_P_INT, "256", 0, 1048576,
                     LYRA_DOC("pages of packet memory pkt_alloc may hand out in all")},
    [P_PKT_REGIONS] = {"pkt_regions", LYRA_P_INT, "16", 0, 4096,
                       LYRA_DOC("pkt_alloc regions at once")},
    [P_COW_PAGES] = {"cow_pages", LYRA_P_INT, "64", 0, 65536,
                     LYRA_DOC("bounce pages for copy on write: one per referenced page of packet "
                     "memory; with none free a send from packet memory is copied")},
    [P_REF_MIN] = {"ref_min", LYRA_P_SIZE, "128", 0, 65536,
                   LYRA_DOC("pieces shorter than this are copied, not referenced")},
    [P_BIG_COUNT] = {"big_count", LYRA_P_INT, "0", 0, 1024,
                     LYRA_DOC("big transmit buffers, as skb_copy's (reassembled or unfragmented "
                     "datagrams); 0: none")},
    [P_BIG_SIZE] = {"big_size", LYRA_P_SIZE, "16k", 2048, 65u * 1024u,
                    LYRA_DOC("linear bytes per big buffer, larger than buf_size")},
    [P_PROTECT_AHEAD] = {"protect_ahead", LYRA_P_INT, "256", 0, 65536,
                         LYRA_DOC("unsent pages of packet memory made read-only with a send's "
                                  "last page, saving later sends the call")},
};

LYRA_EXPORT const struct lyra_component lyra_component_skb_zc = {
    LYRA_COMPONENT_HDR,
    .name = SKB_ZC_NAME,
    .version = "1.0.0",
    .summary = LYRA_DOC("zero-copy packet buffer manager (references, copy on write, remap)"),
    .doc = LYRA_DOC(
        "The paper's buffer manager (docs/buffers.md, skb_zc). add_data references packet "
        "memory (pkt_alloc: the pages are mapped twice, segments show the stack's alias and the "
        "application's mapping is read-only while referenced; a write copies the page into a "
        "bounce page, cow_pages of them) and memory the caller vouches for (LYRA_SEG_F_REF), at "
        "most two referenced segments per skb, and copies the rest: into the linear tail, then "
        "into a follow_data buffer. move_out (a read of exactly one received payload) remaps it "
        "into packet memory at its in-page offset, else copies. Receive buffers are os pages (rx_pages).\n"
        "@stat alloc alloc_fail_empty high_water count: transmit buffers\n"
        "@stat alloc_rx alloc_fail_size free bad_free in_use: every pool (in_use: transmit, big "
        "and receive buffers out)\n"
        "@stat big_alloc big_alloc_fail_empty big_in_use: big buffers\n"
        "@stat rx_alloc_fail rx_in_use: receive pages\n"
        "@stat segs segs_in_use segs_high_water: segment descriptors\n"
        "@stat add_data_short add_data_efault add_data_emsgsize copy_out_einval clones clone_fail\n"
        "@stat clone_ranges: frames or parts of one shown in another skb (clone_add, "
        "clone_add_range: TSO frames, tcp's segments and pieces of a queued write)\n"
        "@stat pkt_pages_in_use pkt_regions_in_use pkt_alloc_fail pkt_free_bad cow_pages_free\n"
        "@stat rx_fixup_bytes: application bytes moved in front of a remapped payload\n"
        "@stat cow_unprotects: first writes to sent pages no longer referenced (protection "
        "is lifted lazily, nothing copied)\n"
        "@stat tx_copied_bytes tx_referenced_bytes rx_copied_bytes rx_remapped_bytes cow_faults "
        "fallback_*: the counters every skb provider shares (skb_xfer.h)"),
    .provides = skb_zc_provides,
    .n_provides = LYRA_COUNT(skb_zc_provides),
    .slots = skb_zc_slots,
    .n_slots = LYRA_COUNT(skb_zc_slots),
    .params = skb_zc_params,
    .n_params = LYRA_COUNT(skb_zc_params),
    .instance_size = sizeof(struct skb_zc),
    .create = skb_zc_create,
    .start = skb_zc_start,
    .stop = skb_zc_stop,
    .destroy = skb_zc_destroy,
    .poll = NULL,
    .stats = skb_zc_stats,
};
