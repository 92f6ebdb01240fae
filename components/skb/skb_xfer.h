/* The payload-transfer counters every skb buffer manager exports under the
 * same names (issue 12.4), so a stack's "copy" statistics read alike over
 * skb_copy and skb_zc: bytes copied and referenced on send, copied and
 * remapped on receive, copy-on-write faults, and one counter per reason a
 * zero-copy path fell back to copying (docs/buffers.md, "skb_zc"). A
 * manager that never references (skb_copy) reports the zero-copy ones as 0.
 * Not a component: a header of the managers, as skb_pool.h. */
#ifndef LYRA_SKB_XFER_H
#define LYRA_SKB_XFER_H

#include <stdint.h>

#include "lyra/component.h"

/* Why payload was copied rather than referenced (send) or remapped
 * (receive); the stat is "fallback_" and the name. */
#define SKB_XFER_REASONS(X)                                                                 \
    X(tx_plain_memory) /* neither packet memory nor LYRA_SEG_F_REF */                       \
    X(tx_small)        /* a piece shorter than ref_min */                                   \
    X(tx_segs_full)    /* the skb already has its two referenced segments */                \
    X(tx_no_bounce)    /* a page to protect, and no bounce page free for it */              \
    X(tx_freed)        /* packet memory given back with pkt_free */                         \
    X(tx_cow_pending)  /* a page written since an earlier send: the alias shows older bytes */ \
    X(rx_not_pkt_memory) /* the destination is not packet memory */                         \
    X(rx_offset)       /* the destination's in-page offset is not the payload's */          \
    X(rx_partial)      /* not the whole rest of the skb's payload */                        \
    X(rx_read_size)    /* into packet memory, by a read not of exactly one segment */      \
    X(rx_shared)       /* the skb has another reference (a clone, a peek) */                \
    X(rx_not_page)     /* not a page receive buffer (or it has segments) */                 \
    X(rx_page_busy)    /* the destination page is referenced by a send */                   \
    X(rx_remap_failed) /* the os refused the page swap, or has none */

/* 0 is no reason (what was asked happened), so a reason is never 0 */
enum skb_xfer_reason {
    SKB_XFER_NONE = 0,
#define SKB_XFER_ENUM(n) SKB_XFER_##n,
    SKB_XFER_REASONS(SKB_XFER_ENUM)
#undef SKB_XFER_ENUM
    SKB_XFER_NREASONS
};

struct skb_xfer {
    uint64_t tx_copied_bytes, tx_referenced_bytes;
    uint64_t rx_copied_bytes, rx_remapped_bytes;
    uint64_t cow_faults;
    uint64_t fallback[SKB_XFER_NREASONS]; /* [0] unused */
};

/* Reports every counter above under its fixed name. */
void skb_xfer_stats(const struct skb_xfer *x, struct lyra_stats_sink *sink);

#endif
