/* The pieces of an skb as a gathering driver sees them (issue 8.1): the
 * linear part, then each segment, each split at every page boundary it
 * crosses when the NIC's DMA segments must not cross a page (netdev caps
 * page_contig; paper, Fig. 6). One helper for every driver, so the split
 * rule is written once; and one for a frame with more pieces than the
 * NIC gathers (lyra_skb_bounce). Stateless; no allocation but the bounce
 * buffer, which comes from the skb provider's pool. */
#ifndef LYRA_SKB_PIECES_H
#define LYRA_SKB_PIECES_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "lyra/skb.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lyra_skb_piece {
    const uint8_t *p;
    uint32_t len;
};

/* Appends (p, len) to out[*k..cap), split at every multiple of `page` (a
 * power of two; 0: no splitting). -ENOSPC when cap is too small. */
static inline int lyra_skb_piece_add(const uint8_t *p, uint32_t len, size_t page,
                                     struct lyra_skb_piece *out, unsigned cap, unsigned *k)
{
    while (len) {
        uint32_t n = len;
        if (page) {
            size_t in_page = page - ((uintptr_t)p & (page - 1));
            if (n > in_page)
                n = (uint32_t)in_page;
        }
        if (*k >= cap)
            return -ENOSPC;
        out[(*k)++] = (struct lyra_skb_piece){p, n};
        p += n;
        len -= n;
    }
    return 0;
}

/* The frame's pieces in order, empty ones left out; with page != 0 none
 * crosses a multiple of page (pass the os page size when page_contig).
 * Returns how many were written, -ENOSPC when more than cap are needed (a
 * driver then bounces the frame with lyra_skb_bounce), -EINVAL for a page
 * size that is not a power of two or a segment without memory. */
static inline int lyra_skb_pieces(const struct lyra_skb *s, size_t page,
                                  struct lyra_skb_piece *out, unsigned cap)
{
    unsigned k = 0;
    if (page & (page - 1))
        return -EINVAL;
    if (s->len && (!s->data || lyra_skb_piece_add(s->data, s->len, page, out, cap, &k)))
        return s->data ? -ENOSPC : -EINVAL;
    const struct lyra_skb_seg *g;
    LYRA_SKB_FOR_EACH_SEG(s, g) {
        if (g->len && !g->ptr)
            return -EINVAL;
        if (lyra_skb_piece_add(g->ptr, g->len, page, out, cap, &k))
            return -ENOSPC;
    }
    return (int)k;
}

/* The one way a driver sends a frame with more pieces than it gathers:
 * a linear copy of s in a buffer of o's pool (alloc_cls CTL, so that data
 * sends that used the pool up do not stop it), with s's flags, protocol,
 * offsets and checksum request carried over (offsets counted from head
 * are moved to the new buffer). Returns the copy, or NULL when no buffer
 * holds it (nothing changed: the driver refuses the frame, -ENOBUFS, and
 * the caller keeps s). On success the driver sends the copy and frees s
 * (its `done` runs: nothing references it any more); the bytes copied are
 * lyra_skb_total(s), the driver's to count (copy_bytes). */
static inline struct lyra_skb *lyra_skb_bounce(const struct lyra_skb_ops *o, void *self,
                                               const struct lyra_skb *s)
{
    uint32_t total = lyra_skb_total(s), hr = lyra_skb_headroom(s);
    if (total > lyra_skb_max_alloc(o, self, 0))
        return NULL;
    struct lyra_skb *b = lyra_skb_alloc_cls(o, self, LYRA_SKB_CTL, 0, total);
    uint8_t *p = b ? lyra_skb_put(b, total) : NULL;
    if (!p) {
        lyra_skb_free(b);
        return NULL;
    }
    lyra_skb_flatten(s, p, total);
    uint32_t nhr = lyra_skb_headroom(b);
    b->flags = s->flags;
    b->protocol = s->protocol;
    b->tstamp = s->tstamp;
    b->csum_off = s->csum_off;
    /* offsets from head: the frame moved from hr to nhr */
    b->csum_start = (uint16_t)(s->csum_start - hr + nhr);
    b->l3_off = s->l3_off ? s->l3_off - hr + nhr : 0;
    b->l4_off = s->l4_off ? s->l4_off - hr + nhr : 0;
    return b;
}

/* Upper bound of lyra_skb_pieces for a frame of at most `total` bytes in
 * `parts` parts (linear part and segments): each part may start anywhere in
 * a page, so it adds at most total / page + 1 splits. */
static inline unsigned lyra_skb_pieces_max(uint32_t total, unsigned parts, size_t page)
{
    return page ? parts * (unsigned)(total / page + 2) : parts;
}

#ifdef __cplusplus
}
#endif
#endif
