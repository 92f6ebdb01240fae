/* skb_zc's add_data: reference what may be referenced, copy the rest.
 *
 * Referenced (as segments, LYRA_SEG_F_USER, at most SKB_ZC_REF_SEGS per
 * skb): packet memory of this instance (through its alias, under copy on
 * write: skb_zc_pkt.c), and any memory the caller vouches for
 * (LYRA_SEG_F_REF). A piece that continues the last referenced segment
 * extends it. Everything else is copied (skb_fill.c): into the linear tail
 * while there is no segment, then into a follow_data pool buffer chained
 * as a segment and filled up before another is taken; each copy that could
 * have been a reference is counted by reason (skb_xfer.h). */
#include <errno.h>

#include "skb_zc.h"

static uint32_t desc_index(const struct skb_zc *z, const struct lyra_skb_seg *g)
{
    return (uint32_t)(g - z->segs.desc);
}

/* A segment of ours that shows memory without holding a buffer. */
static int is_ref(const struct skb_zc *z, const struct lyra_skb_seg *g)
{
    return skb_segs_owns(&z->segs, g) && !g->ref && (g->flags & LYRA_SEG_F_USER);
}

/* How many of skb's segments are references. */
static unsigned ref_segs(const struct skb_zc *z, const struct lyra_skb *skb)
{
    unsigned n = 0, k = 0;
    const struct lyra_skb_seg *g;
    for (g = skb->seg; g && k < skb->nseg; g = g->next, k++)
        n += is_ref(z, g);
    return n;
}

/* skb's last segment when the piece at `at` continues it: a reference of
 * the same kind of memory (packet memory of region ri, or vouched-for
 * memory when ri < 0). Checked first, without walking the chain: a send
 * of many pieces that continue each other costs O(1) per piece. */
static struct lyra_skb_seg *continued(const struct skb_zc *z, const struct lyra_skb *skb,
                                      const uint8_t *at, long ri)
{
    struct lyra_skb_seg *g = skb->seg_last;
    if (!g || !is_ref(z, g) || g->ptr + g->len != at)
        return NULL;
    const struct zc_span *sp = &z->span[desc_index(z, g)];
    if (ri < 0 ? sp->n != 0 : !sp->n || z->pg[sp->pg].region != (uint32_t)ri)
        return NULL;
    return g;
}

/* References len bytes at p (alias `at` for packet memory of region ri).
 * 0: taken whole; > 0: the reason to copy instead; -ENOMEM: no descriptor. */
static int ref_piece(struct skb_zc *z, struct lyra_skb *skb, const uint8_t *p, const uint8_t *at,
                     uint32_t len, int sum, long ri)
{
    struct lyra_skb_seg *fresh = NULL, *g = continued(z, skb, at, ri);
    if (!g) {
        if (len < z->ref_min)
            return SKB_XFER_tx_small;
        if (ref_segs(z, skb) >= SKB_ZC_REF_SEGS)
            return SKB_XFER_tx_segs_full;
        fresh = g = skb_segs_get(&z->segs);
        if (!g)
            return -ENOMEM;
    }
    struct zc_span *sp = &z->span[desc_index(z, g)];
    if (fresh)
        *sp = (struct zc_span){0, 0};
    if (ri >= 0) {
        int why = zc_pages_ref(z, ri, p, len, sp);
        if (why) {
            skb_segs_put(&z->segs, fresh);
            return why;
        }
    }
    if (fresh) {
        *g = (struct lyra_skb_seg){.ptr = at, .flags = LYRA_SEG_F_USER};
        lyra_skb_seg_append(skb, g);
    }
    /* the sum as the bytes are referenced: one read, no copy (skb 2.2) */
    if (sum)
        skb_fill_seg_sum(g, g->len, skb_fill_csum(NULL, at, len));
    else
        g->flags &= (uint16_t)~LYRA_SEG_F_CSUM;
    g->len += len;
    skb->seg_len += len;
    return 0;
}

/* What a copy could ever chain behind skb (skb_copy's rule, transmit pool). */
static uint64_t chain_capacity(const struct skb_zc *z, const struct lyra_skb *skb)
{
    uint64_t nbuf = z->count - z->reserve_ctl;
    if (nbuf && skb_pool_owns(&z->pool, skb))
        nbuf--;
    if (nbuf > z->nsegs)
        nbuf = z->nsegs;
    return nbuf * z->buf_size + lyra_skb_tailroom(skb);
}

int zc_add_data(void *self, struct lyra_skb *skb, const void *p, uint32_t len, uint32_t flags,
                uint32_t *copied)
{
    struct skb_zc *z = self;
    const uint8_t *src = p;
    int sum = (flags & LYRA_SEG_F_CSUM) != 0;
    if (copied)
        *copied = 0;
    if (!skb || len > INT32_MAX)
        return -EINVAL;
    if (len == 0)
        return 0;
    if (!src || UINTPTR_MAX - (uintptr_t)src < len) {
        z->n[ZC_add_data_efault]++;
        return -EFAULT;
    }
    /* vouched for: referenced as it is, even packet memory (no protection);
     * packet memory: referenced through its alias */
    const struct lyra_os_ops *o = z->os.ops;
    const uint8_t *at = src;
    long ri = -1;
    int why = SKB_XFER_tx_plain_memory;
    if (flags & LYRA_SEG_F_REF) {
        /* read later, not now: an unmapped range must fail here (12.7) */
        if (!(flags & LYRA_SEG_F_CHECKED) && LYRA_OS_HAS(o, 2, mem_check) &&
            o->mem_check(z->os.self, src, len)) {
            z->n[ZC_add_data_efault]++;
            return -EFAULT;
        }
        why = 0;
    } else if ((ri = zc_pkt_find(z, src, len)) >= 0) {
        at = z->reg[ri].alias + (src - z->reg[ri].app);
        why = 0;
    }
    if (why == 0)
        why = ref_piece(z, skb, src, at, len, sum, ri);
    if (why == 0) {
        z->xfer.tx_referenced_bytes += len;
        return (int)len;
    }
    if (why < 0) {
        z->n[ZC_add_data_short]++;
        return 0;
    }
    if (len > chain_capacity(z, skb)) {
        z->n[ZC_add_data_emsgsize]++;
        return -EMSGSIZE;
    }
    z->xfer.fallback[why]++;
    int ran_out = 0;
    uint32_t taken = skb_fill_copy(&z->fill, skb, src, len, sum, &ran_out);
    z->n[ZC_add_data_short] += ran_out;
    z->xfer.tx_copied_bytes += taken;
    if (copied)
        *copied = taken;
    return (int)taken;
}

/* A descriptor goes back: the packet-memory pages it referenced go too. */
static void span_drop(void *ctx, uint32_t i)
{
    struct skb_zc *z = ctx;
    struct zc_span *sp = &z->span[i];
    if (sp->n) {
        zc_pages_unref(z, sp);
        z->spans_live--;
    }
    sp->n = 0;
}

void zc_release(void *owner, struct lyra_skb *skb)
{
    struct skb_zc *z = owner;
    /* one walk: spans and descriptors together; no span to drop while no
     * descriptor references packet memory under copy on write (every span
     * is empty then: MSG_ZEROCOPY, copies, clones) */
    if (skb->seg)
        skb_segs_release_each(&z->segs, skb, z->spans_live ? span_drop : NULL, z);
}
