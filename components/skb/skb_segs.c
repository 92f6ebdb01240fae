/* Segment descriptor pool and chain walks: see skb_segs.h. */
#include "skb_segs.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

int skb_segs_init(struct skb_segs *d, const struct lyra_os *os, uint32_t count)
{
    if (d->desc || d->stack)
        return -EBUSY;
    d->os = os;
    d->count = 0;
    d->nfree = 0;
    if (count == 0)
        return 0;
    const struct lyra_os_ops *o = os->ops;
    d->desc = o->mem_alloc(os->self, (size_t)count * sizeof(*d->desc), _Alignof(max_align_t));
    d->stack = o->mem_alloc(os->self, (size_t)count * sizeof(uint32_t), _Alignof(max_align_t));
    if (!d->desc || !d->stack) {
        skb_segs_fini(d);
        return -ENOMEM;
    }
    memset(d->desc, 0, (size_t)count * sizeof(*d->desc));
    for (uint32_t i = 0; i < count; i++)
        d->stack[i] = count - 1 - i;
    d->count = count;
    d->nfree = count;
    return 0;
}

uint32_t skb_segs_fini(struct skb_segs *d)
{
    uint32_t out = d->count - d->nfree;
    if (d->desc)
        d->os->ops->mem_free(d->os->self, d->desc);
    if (d->stack)
        d->os->ops->mem_free(d->os->self, d->stack);
    d->desc = NULL;
    d->stack = NULL;
    d->count = 0;
    d->nfree = 0;
    return out;
}

struct lyra_skb_seg *skb_segs_get(struct skb_segs *d)
{
    if (d->nfree == 0) {
        d->get_fail++;
        return NULL;
    }
    struct lyra_skb_seg *g = &d->desc[d->stack[--d->nfree]];
    if (d->count - d->nfree > d->high_water)
        d->high_water = d->count - d->nfree;
    return g;
}

void skb_segs_put(struct skb_segs *d, struct lyra_skb_seg *g)
{
    if (skb_segs_owns(d, g))
        d->stack[d->nfree++] = (uint32_t)(g - d->desc);
}

void skb_segs_release_each(struct skb_segs *d, struct lyra_skb *skb,
                           void (*drop)(void *ctx, uint32_t index), void *ctx)
{
    struct lyra_skb_seg *g = skb->seg;
    /* at most nseg steps: a chain a holder corrupted into a loop ends */
    for (uint32_t n = 0; g && n < skb->nseg; n++) {
        struct lyra_skb_seg *next = g->next;
        if (skb_segs_owns(d, g)) {
            uint32_t i = (uint32_t)(g - d->desc);
            if (drop)
                drop(ctx, i);
            struct lyra_skb *ref = g->ref;
            g->ref = NULL;
            g->next = NULL;
            d->stack[d->nfree++] = i;
            lyra_skb_free(ref);
        }
        g = next;
    }
    skb->seg = skb->seg_last = NULL;
    skb->nseg = 0;
    skb->seg_len = 0;
}

void skb_segs_release_chain(struct skb_segs *d, struct lyra_skb *skb)
{
    skb_segs_release_each(d, skb, NULL, NULL);
}

/* The part of piece [at, at + n) of skb's frame (at ptr) inside [off, end),
 * as a descriptor appended to c holding *ref (then NULL); a piece cut
 * loses its sum. */
static void show_piece(struct skb_segs *d, struct lyra_skb *c, struct lyra_skb **ref,
                       const uint8_t *ptr, uint32_t n, uint16_t flags, uint32_t csum, uint32_t at,
                       uint32_t off, uint32_t end)
{
    if (at >= end)
        return;
    uint32_t lo = at > off ? at : off, hi = n < end - at ? at + n : end;
    if (hi <= lo)
        return;
    if (hi - lo != n)
        flags &= (uint16_t)~LYRA_SEG_F_CSUM;
    struct lyra_skb_seg *x = skb_segs_get(d);
    *x = (struct lyra_skb_seg){.ptr = ptr + (lo - at), .len = hi - lo,
                               .flags = flags, .csum = (flags & LYRA_SEG_F_CSUM) ? csum : 0,
                               .ref = *ref};
    *ref = NULL;
    lyra_skb_seg_append(c, x);
}

int skb_segs_show_range(struct skb_segs *d, struct lyra_skb *c, struct lyra_skb *skb,
                        uint32_t off, uint32_t len)
{
    if (!c || !skb || c == skb || skb->refcnt == 0 || skb->refcnt == UINT16_MAX)
        return -EINVAL;
    /* 32-bit offsets (a frame's length is): end UINT32_MAX means its end */
    uint32_t end = len > UINT32_MAX - off ? UINT32_MAX : off + len;
    uint64_t at = (uint64_t)skb->len + skb->seg_len; /* the frame's length */
    if (off > at || (len != UINT32_MAX && (uint64_t)off + len > at))
        return -EINVAL; /* beyond the frame (len UINT32_MAX: to its end) */
    const struct lyra_skb_seg *g;
    if (d->nfree <= skb->nseg) {
        /* maybe too few descriptors: count what the range needs (one per
         * non-empty piece in it, at least one), so that a failure appends
         * nothing. Enough for every piece, the common case, needs no count. */
        uint32_t need = skb->len && off < skb->len && len, n = 0;
        at = skb->len;
        for (g = skb->seg; g && n < skb->nseg; g = g->next, n++) {
            need += g->len && at < end && at + g->len > off;
            at += g->len;
        }
        if (d->nfree < (need ? need : 1)) {
            d->get_fail++;
            return -ENOMEM;
        }
    }
    /* one descriptor per non-empty piece in the range, the first holding
     * the reference on skb (an empty one when none is): an empty linear
     * part (a referencing provider's payload skb) costs no descriptor,
     * and no piece for a driver to walk */
    struct lyra_skb *ref = skb;
    skb->refcnt++;
    uint32_t ko, kn, lsum = 0;
    uint16_t lfl = 0;
    if (lyra_skb_lin_csum(skb, &ko, &kn) && ko == 0 && kn == skb->len) {
        lfl = LYRA_SEG_F_CSUM; /* the payload's kept sum goes along (skb 2.2) */
        lsum = skb->lin_csum;
    }
    show_piece(d, c, &ref, skb->data, skb->len, lfl, lsum, 0, off, end);
    uint32_t a = skb->len, n = 0;
    /* at most nseg steps: a chain a holder corrupted into a loop ends */
    for (g = skb->seg; g && n < skb->nseg && a < end; g = g->next, n++) {
        show_piece(d, c, &ref, g->ptr, g->len, g->flags, g->csum, a, off, end);
        a += g->len;
    }
    if (ref) { /* nothing in the range: an empty descriptor holds it */
        struct lyra_skb_seg *x = skb_segs_get(d);
        *x = (struct lyra_skb_seg){.ptr = skb->data, .ref = ref};
        lyra_skb_seg_append(c, x);
    }
    return 0;
}

int skb_segs_show(struct skb_segs *d, struct lyra_skb *c, struct lyra_skb *skb)
{
    return skb_segs_show_range(d, c, skb, 0, UINT32_MAX);
}

int skb_segs_clone(struct skb_segs *d, struct lyra_skb *c, struct lyra_skb *skb)
{
    int r = skb_segs_show(d, c, skb);
    if (r)
        return r;
    uint32_t hr = lyra_skb_headroom(skb), nhr = lyra_skb_headroom(c);
    c->flags = skb->flags;
    c->protocol = skb->protocol;
    c->tstamp = skb->tstamp;
    c->csum_off = skb->csum_off;
    c->csum_start = (uint16_t)(skb->csum_start - hr + nhr);
    c->l3_off = skb->l3_off ? skb->l3_off - hr + nhr : 0;
    c->l4_off = skb->l4_off ? skb->l4_off - hr + nhr : 0;
    return 0;
}

int skb_segs_copy_out(const struct lyra_skb *skb, uint32_t off, void *dst, uint32_t len)
{
    uint64_t total = skb->len;
    uint32_t n = 0;
    const struct lyra_skb_seg *g;
    for (g = skb->seg; g && n < skb->nseg; g = g->next, n++)
        total += g->len;
    if (g || (uint64_t)off + len > total)
        return -EINVAL;
    uint8_t *out = dst;
    uint32_t left = len;
    if (off < skb->len) {
        uint32_t k = skb->len - off < left ? skb->len - off : left;
        memcpy(out, skb->data + off, k);
        out += k;
        left -= k;
        off = 0;
    } else {
        off -= skb->len;
    }
    for (g = skb->seg; g && left; g = g->next) {
        if (off >= g->len) {
            off -= g->len;
            continue;
        }
        uint32_t k = g->len - off < left ? g->len - off : left;
        memcpy(out, g->ptr + off, k);
        out += k;
        left -= k;
        off = 0;
    }
    return 0;
}
