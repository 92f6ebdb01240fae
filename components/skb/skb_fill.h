/* The copying half of add_data, shared by the skb buffer managers
 * (skb_copy copies everything this way; skb_zc what it cannot reference):
 * payload goes into the skb's linear tail while there is room and no
 * segment yet, then into buffers of a pool chained as segments, summed in
 * the copy's pass when asked (skb 2.2). Not a component: compiled into
 * each manager, as skb_pool.c. */
#ifndef LYRA_SKB_FILL_H
#define LYRA_SKB_FILL_H

#include <stdint.h>

#include "lyra/skb.h"
#include "skb_pool.h"
#include "skb_segs.h"

struct skb_fill {
    struct skb_segs *segs; /* descriptors for the chained buffers */
    struct skb_pool *pool; /* where chained buffers come from */
    uint32_t piece;        /* most bytes per chained buffer (<= the pool's buf_size) */
    /* follow_data (skb_zc): append into the frame's last segment first when
     * it is a buffer of `pool` this skb alone fills and it has room left, so
     * small pieces behind referenced ones share one buffer */
    int pack;
    int tail; /* use the linear tail first */
};

/* Copies len bytes from src to the end of skb's frame. Returns the bytes
 * taken (fewer than len when buffers or descriptors ran out: *ran_out is
 * set). sum: keep the pieces' sums (LYRA_SEG_F_CSUM). */
uint32_t skb_fill_copy(const struct skb_fill *f, struct lyra_skb *skb, const uint8_t *src,
                       uint32_t len, int sum, int *ran_out);

/* Copies len bytes from src to dst (unless dst is NULL) and returns their
 * sum, folded, in network order: lyra_csum_copy, out of line, so the
 * managers' copying and skb_zc's summing of referenced pieces share one
 * instance of the loop. */
uint16_t skb_fill_csum(void *dst, const void *src, uint32_t len);

/* Extends the kept sum of segment g by `part`, the sum of k bytes appended
 * to it (or sets it when g had none and was empty). */
void skb_fill_seg_sum(struct lyra_skb_seg *g, uint32_t old_len, uint16_t part);

#endif
