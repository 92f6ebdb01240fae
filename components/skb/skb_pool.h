/* A fixed pool of skb headers and linear data buffers, shared by the skb
 * buffer managers (skb_copy, and skb_zc later). Not a component: it is
 * compiled into each manager that uses it.
 *
 * All memory is obtained once in skb_pool_init (from os mem_alloc, or data
 * buffers the caller owns) and given back in skb_pool_fini; allocation and
 * free on the data path only move indices on a stack. Not thread safe: one
 * stack runs to completion on one context.
 *
 * The pool keeps its own record of which buffers are out (state[]) rather
 * than trusting fields of the header that holders can write, so that a
 * double free or a stranger's skb is detected and counted instead of
 * corrupting the free stack. */
#ifndef LYRA_SKB_POOL_H
#define LYRA_SKB_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "lyra/component.h"
#include "lyra/os.h"
#include "lyra/skb.h"

/* Data buffers start on this alignment (and the stride is a multiple). */
#define SKB_POOL_ALIGN 64u

struct skb_pool_cfg {
    uint32_t count;      /* buffers */
    uint32_t buf_size;   /* linear bytes per buffer (skb->size) */
    uint32_t align;      /* data buffer alignment, power of two; 0: SKB_POOL_ALIGN */
    uint32_t reserve_rx;  /* buffers only SKB_POOL_RX allocations may take */
    uint32_t reserve_ctl; /* more buffers that SKB_POOL_DATA allocations leave free */
    /* Caller-owned data area of count * skb_pool_stride(cfg) bytes, aligned
     * to cfg->align (e.g. pages from os page_alloc); NULL: the pool
     * allocates it with os mem_alloc. */
    uint8_t *data;
    /* Called when the last reference of an skb is dropped, before it goes
     * back to the pool (a manager releases what its segments referenced). */
    void (*release)(void *owner, struct lyra_skb *skb);
};

struct skb_pool_stats {
    uint64_t alloc;            /* transmit allocations that succeeded */
    uint64_t alloc_rx;         /* receive allocations that succeeded */
    uint64_t alloc_fail_empty; /* no buffer (or only reserved ones) left */
    uint64_t alloc_fail_size;  /* headroom + size larger than a buffer */
    uint64_t free;             /* buffers returned to the pool */
    uint64_t bad_free;         /* frees of free buffers or of strangers */
    uint64_t high_water;       /* most buffers out at once */
};

struct skb_pool {
    const struct lyra_os *os;
    const char *who; /* for log lines */
    const struct lyra_skb_ops *owner_ops;
    void *owner;
    void (*release)(void *owner, struct lyra_skb *skb);

    struct lyra_skb *hdr; /* count headers */
    uint8_t *data;        /* count buffers, stride bytes apart */
    uint32_t *stack;      /* free indices; stack[0..nfree) */
    uint8_t *out;         /* out[i] != 0: buffer i is allocated */
    int own_data;

    uint32_t count, buf_size, stride, reserve_rx, reserve_ctl;
    uint32_t nfree;
    uint32_t used; /* out now; after fini: what was leaked */
    struct skb_pool_stats st;
};

/* Bytes between data buffers for cfg (0 when the config is invalid). */
uint32_t skb_pool_stride(const struct skb_pool_cfg *cfg);

/* Sets the pool up; skbs it hands out name (owner_ops, owner) as their
 * owner, so lyra_skb_free() reaches the manager. os must outlive the pool.
 * Counters in p->st are kept (they survive a stop and a restart).
 * Returns 0, -EINVAL (bad config), -EBUSY (already set up) or -ENOMEM
 * (nothing is left allocated). */
int skb_pool_init(struct skb_pool *p, const struct lyra_os *os, const char *who,
                  const struct skb_pool_cfg *cfg, const struct lyra_skb_ops *owner_ops,
                  void *owner);

/* Gives all memory back. Buffers still out are logged (a leak by a holder)
 * and returned as the number of them. Safe on a pool never initialised
 * (zeroed) or already finished. */
uint32_t skb_pool_fini(struct skb_pool *p);

static inline int skb_pool_ready(const struct skb_pool *p)
{
    return p->hdr != NULL;
}

/* Who is allocating, which decides how many buffers must stay free after
 * the allocation: receive takes any buffer; control transmit leaves
 * reserve_rx; data transmit leaves reserve_rx + reserve_ctl. */
enum skb_pool_kind {
    SKB_POOL_DATA = 0,
    SKB_POOL_RX = 1,
    SKB_POOL_CTL = 2,
};

/* An skb with `headroom` bytes before data, len 0, refcnt 1, every other
 * field reset; LYRA_SKB_F_RX set for SKB_POOL_RX. NULL (counted) when
 * headroom + size does not fit in a buffer, or when no buffer is free for
 * this kind (see enum skb_pool_kind). */
struct lyra_skb *skb_pool_alloc(struct skb_pool *p, uint32_t headroom, uint32_t size,
                                enum skb_pool_kind kind);

/* Headroom given in a buffer of buf_size bytes: the preferred amount when
 * it fits next to `size`, less when it does not, never less than what the
 * caller asked for. */
static inline uint32_t skb_pool_fit_headroom(uint32_t buf_size, uint32_t asked,
                                             uint32_t preferred, uint32_t size)
{
    uint32_t h = preferred > asked ? preferred : asked;
    if (size <= buf_size && h > buf_size - size)
        h = buf_size - size > asked ? buf_size - size : asked;
    return h;
}

/* The transmit classes of a manager (skb_copy, skb_zc): a normal buffer
 * when headroom + size fits one; else a big one when `big` is set up and it
 * fits one of those; else the normal pool refuses it (alloc_fail_size), as
 * without big buffers. preferred: the manager's least headroom. */
struct lyra_skb *skb_pool_alloc_tx(struct skb_pool *normal, struct skb_pool *big,
                                   uint32_t preferred, enum skb_pool_kind kind, uint32_t headroom,
                                   uint32_t size);

/* The pool kind of a transmit class (LYRA_SKB_DATA, LYRA_SKB_CTL); -EINVAL
 * for another. */
int skb_pool_cls_kind(int cls, enum skb_pool_kind *kind);

/* max_alloc over the two classes, from the manager's parameters. */
static inline uint32_t skb_pool_max_tx(uint32_t buf_size, uint32_t big_count, uint32_t big_size,
                                       uint32_t headroom)
{
    uint32_t cap = big_count && big_size > buf_size ? big_size : buf_size;
    return headroom >= cap ? 0 : cap - headroom;
}

/* Buffers an allocation of this kind could take now (0 when not set up). */
uint32_t skb_pool_avail_for(const struct skb_pool *p, enum skb_pool_kind kind);

/* Drops one reference; the last runs skb->done and then gives the
 * buffer back. Returns 1 when the skb went back to the pool, 0 when
 * references remain, -EINVAL for a bad free (counted and logged; the pool
 * is left as it was). NULL is ignored (0). */
int skb_pool_free(struct skb_pool *p, struct lyra_skb *skb);
/* skb_pool_free of an skb skb_pool_owns(p, skb) said is p's (a manager's
 * free, which asks that to find the pool): not asked again. */
int skb_pool_free_own(struct skb_pool *p, struct lyra_skb *skb);

/* 1 when skb is one of this pool's headers (allocated or not). Inline:
 * every free asks it (of each pool a manager has). */
static inline int skb_pool_owns(const struct skb_pool *p, const struct lyra_skb *skb)
{
    /* by the index each header keeps (no division): a header of this pool
     * is the one at its own index */
    return p->hdr && skb && skb->pool_index < p->count && &p->hdr[skb->pool_index] == skb;
}

/* Free buffers (0 when the pool is not set up). */
static inline uint32_t skb_pool_avail(const struct skb_pool *p)
{
    return p->hdr ? p->nfree : 0;
}

/* Buffers out; after skb_pool_fini, the ones that were never returned. */
static inline uint32_t skb_pool_in_use(const struct skb_pool *p)
{
    return p->used;
}

#endif
