/* Segment descriptors for the skb buffer managers (skb 2.0 chains any
 * number of segments; issue 8.1): a fixed pool of them, taken at start,
 * and the walks over a chain every manager needs (release at free, copy
 * out). Not a component: compiled into each manager, as skb_pool.c.
 * Not thread safe: one stack runs to completion on one context. */
#ifndef LYRA_SKB_SEGS_H
#define LYRA_SKB_SEGS_H

#include <stdint.h>

#include "lyra/os.h"
#include "lyra/skb.h"

struct skb_segs {
    const struct lyra_os *os;
    struct lyra_skb_seg *desc; /* count descriptors */
    uint32_t *stack;           /* free indices; stack[0..nfree) */
    uint32_t count, nfree;
    uint64_t get_fail; /* a get found none free */
    uint64_t high_water;
};

/* Takes count descriptors' memory from os (0: none, every get fails).
 * 0, -EBUSY (already set up) or -ENOMEM (nothing left allocated). */
int skb_segs_init(struct skb_segs *d, const struct lyra_os *os, uint32_t count);
/* Gives the memory back; returns how many descriptors were still out. */
uint32_t skb_segs_fini(struct skb_segs *d);

/* A descriptor, or NULL (counted: get_fail). Not cleared: every caller
 * sets the whole of it (a compound literal) before chaining it. */
struct lyra_skb_seg *skb_segs_get(struct skb_segs *d);
/* Gives back a descriptor got from d and never chained. */
void skb_segs_put(struct skb_segs *d, struct lyra_skb_seg *g);
/* 1 when g is one of d's descriptors. Inline: asked of every segment at
 * every last free and reference (a divide by a constant, not a call). */
static inline int skb_segs_owns(const struct skb_segs *d, const struct lyra_skb_seg *g)
{
    if (!d->desc || !g)
        return 0;
    uintptr_t a = (uintptr_t)g, b = (uintptr_t)d->desc;
    if (a < b)
        return 0;
    uintptr_t off = a - b;
    return off / sizeof(*g) < d->count && off % sizeof(*g) == 0;
}

static inline uint32_t skb_segs_in_use(const struct skb_segs *d)
{
    return d->count - d->nfree;
}

/* At an skb's last free: every segment that is one of d's descriptors
 * drops the reference it holds (seg->ref) and goes back to d; segments
 * that are not d's are left to their owners. The chain is emptied. */
void skb_segs_release_chain(struct skb_segs *d, struct lyra_skb *skb);
/* The same, calling drop(ctx, index) first for each of d's descriptors
 * (a provider that keeps its own state per descriptor, skb_zc's page
 * spans, lets it go in the same walk). */
void skb_segs_release_each(struct skb_segs *d, struct lyra_skb *skb,
                           void (*drop)(void *ctx, uint32_t index), void *ctx);
/* skb_segs_release_chain when skb has a chain. Inline: most skbs
 * (received frames, ACKs) have none, and every last free asks (the pool
 * resets the chain fields when it hands the header out). */
static inline void skb_segs_release(struct skb_segs *d, struct lyra_skb *skb)
{
    if (skb->seg)
        skb_segs_release_chain(d, skb);
}

/* Makes c (fresh: linear part empty, no segments) a clone of skb
 * (skb.h ops->clone): a descriptor for each non-empty piece of skb (its
 * linear part, its segments), the first holding one reference on skb (an
 * empty one for an empty frame); flags, protocol and offsets are carried
 * over. 0, or -ENOMEM when descriptors ran out
 * (c is left as it was). */
int skb_segs_clone(struct skb_segs *d, struct lyra_skb *c, struct lyra_skb *skb);
/* Appends skb's frame to c's through descriptors, the first holding one
 * reference on skb (skb.h ops->clone_add, whole; clone's first half). 0;
 * -EINVAL (NULL, c == skb, skb freed or its count full); -ENOMEM when
 * descriptors ran out (c is left as it was either way). */
int skb_segs_show(struct skb_segs *d, struct lyra_skb *c, struct lyra_skb *skb);
/* The same for the bytes [off, off + len) of skb's frame only (skb.h
 * ops->clone_add_range; len UINT32_MAX: to its end): -EINVAL also when
 * the range goes beyond the frame. */
int skb_segs_show_range(struct skb_segs *d, struct lyra_skb *c, struct lyra_skb *skb,
                        uint32_t off, uint32_t len);

/* Copies len bytes from offset off of the frame (linear part, then the
 * chain) to dst. The range is checked against the segments themselves,
 * never seg_len, and a chain longer than nseg is refused, so a header
 * written over by a holder cannot make it read past a segment or loop:
 * -EINVAL. */
int skb_segs_copy_out(const struct lyra_skb *skb, uint32_t off, void *dst, uint32_t len);

#endif
