/* The pieces of an skb as a gathering driver sees them (issue 8.1): the
 * linear part, then each segment, each split at every page boundary it
 * crosses when the NIC's DMA segments must not cross a page (netdev caps
 * page_contig; paper, Fig. 6). One helper for every driver, so the split
 * rule is written once. Stateless; no allocation. */
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
 * driver then refuses the frame or bounces it through lyra_skb_flatten),
 * -EINVAL for a page size that is not a power of two or a segment without
 * memory. */
static inline int lyra_skb_pieces(const struct lyra_skb *s, size_t page,
                                  struct lyra_skb_piece *out, unsigned cap)
{
    unsigned k = 0;
    if (page & (page - 1))
        return -EINVAL;
    if (s->len && (!s->data || lyra_skb_piece_add(s->data, s->len, page, out, cap, &k)))
        return s->data ? -ENOSPC : -EINVAL;
    for (unsigned i = 0; i < s->nseg && i < LYRA_SKB_MAX_SEGS; i++) {
        if (s->seg[i].len && !s->seg[i].ptr)
            return -EINVAL;
        if (lyra_skb_piece_add(s->seg[i].ptr, s->seg[i].len, page, out, cap, &k))
            return -ENOSPC;
    }
    return (int)k;
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
