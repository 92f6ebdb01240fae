/* What a receiver holds beyond rcv_nxt: the sequence ranges of its
 * out-of-order queue, kept apart from the segments themselves so that the
 * SACK blocks to send (RFC 2018 4) and the point where the queue joins the
 * in-order data are found without walking buffers. Bounded (the caller's
 * array, sized by a parameter), no allocation; ranges are [start, end) in
 * sequence space, kept disjoint and non-adjacent, in sequence order, each
 * with the time it last grew (its recency for RFC 2018's block order). */
#ifndef LYRA_TCP_OOO_H
#define LYRA_TCP_OOO_H

#include <stdint.h>

struct tcp_range {
    uint32_t start, end; /* [start, end) */
    uint32_t stamp;      /* when it last grew: higher is more recent */
};

struct tcp_ooo {
    struct tcp_range *r; /* cap entries, n used, in sequence order from rcv_nxt */
    uint16_t n, cap;
    uint32_t clock;      /* stamps */
};

void tcp_ooo_init(struct tcp_ooo *o, struct tcp_range *storage, uint16_t cap);
/* Records [start, end) (beyond rcv_nxt: the caller trims what is not).
 * 0, or -1 when it would need a new range and all cap are in use (the
 * caller drops the segment and counts it). */
int tcp_ooo_add(struct tcp_ooo *o, uint32_t rcv_nxt, uint32_t start, uint32_t end);
/* rcv_nxt after the in-order data grew to `rcv_nxt`: the ranges it now
 * reaches join (and leave the queue); returns the new rcv_nxt. */
uint32_t tcp_ooo_advance(struct tcp_ooo *o, uint32_t rcv_nxt);
/* Up to max SACK blocks (4, or 3 with timestamps: RFC 2018 3), the most
 * recently grown range first (it holds the segment that triggered this
 * ACK: RFC 2018 4), then the others by recency. Returns how many. */
unsigned tcp_ooo_sack(const struct tcp_ooo *o, struct tcp_range *blocks, unsigned max);

#endif
