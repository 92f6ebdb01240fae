/* IPv4 reassembly (RFC 791 section 3.2, RFC 815, RFC 1122 section 3.3.2).
 *
 * Fragments are kept as they arrived, as a chain of skbs per datagram
 * sorted by offset (linked through skb->next; skb->cb holds the offset and
 * length); nothing is allocated per fragment. The table of datagrams in
 * progress comes from the caller (os mem_alloc at start). When the last
 * hole is filled, the datagram is copied into one fresh skb from the pool
 * and handed back, data at its IP header (the first fragment's, options
 * included, with the offset and MF cleared and the lengths fixed).
 *
 * Rules, each drop counted in struct reass_stats:
 *  - a fragment that brings no byte not already held, with the same bytes,
 *    is a duplicate: freed (dup);
 *  - a fragment whose bytes differ from held bytes where they overlap
 *    drops the whole datagram (overlap: RFC 5722's rule, applied to IPv4
 *    as Linux does, since overlapping fragments are only ever an attack);
 *  - lengths that cannot be (beyond 65535, a non-last fragment whose
 *    payload is not a multiple of 8, data past the last fragment's end, or
 *    two different ends) drop the fragment or the datagram (bad);
 *  - bounds: at most `max` datagrams in progress and `bytes_max` bytes of
 *    buffers held (skb->size of each fragment: the memory really held, so
 *    a flood of tiny fragments cannot hold the whole pool). A new datagram
 *    or fragment that does not fit evicts the oldest datagrams in progress;
 *    one that cannot fit even alone is dropped (full);
 *  - datagrams not complete `timeout` after their first fragment arrived
 *    are dropped by reass_expire (timeout);
 *  - a complete datagram is copied into one skb from the pool's alloc,
 *    which may give a big buffer (skb_copy's big_count) when a normal one
 *    is too small. When alloc says NULL while buffers are left, no buffer
 *    can take it (too large for any, or the big ones are all out: the skb
 *    interface does not say which): dropped (too_big); an empty pool drops
 *    it too (nobuf). */
#ifndef LYRA_REASS_H
#define LYRA_REASS_H

#include <stdbool.h>
#include <stdint.h>

#include "lyra/skb.h"

struct reass_stats {
    uint64_t frags;        /* fragments taken */
    uint64_t reassembled;  /* datagrams handed back whole */
    uint64_t timeout;      /* datagrams dropped at their deadline */
    uint64_t overlap;      /* datagrams dropped: overlap with different data */
    uint64_t dup;          /* duplicate fragments ignored */
    uint64_t full;         /* datagrams evicted or fragments dropped for the bounds */
    uint64_t too_big;      /* complete but larger than one skb buffer */
    uint64_t nobuf;        /* complete but the pool was empty */
    uint64_t bad;          /* impossible lengths */
    uint64_t copy_bytes;   /* bytes copied into reassembled skbs */
};

struct reass_dgram {
    bool used;
    bool have_last; /* the fragment without MF arrived: total is known */
    uint8_t proto;
    uint16_t id;
    uint32_t src, dst;
    uint32_t total;  /* payload bytes of the whole datagram, once have_last */
    uint32_t held;   /* buffer bytes held by its fragments */
    uint64_t deadline;
    struct lyra_skb *frags; /* sorted by offset */
};

struct reass {
    struct reass_dgram *d;
    unsigned max;
    uint32_t bytes_max, bytes_held;
    uint64_t timeout;
    const struct lyra_skb_ops *skb;
    void *skb_self;
    uint32_t headroom; /* asked for in front of reassembled datagrams */
    struct reass_stats st;
};

void reass_init(struct reass *r, struct reass_dgram *mem, unsigned max, uint32_t bytes_max,
                uint64_t timeout_ns, const struct lyra_skb_ops *skb, void *skb_self,
                uint32_t headroom);

/* Takes one fragment: a linear skb whose data is a valid IPv4 header
 * (ipv4_view_init said IPV4_OK, checksum verified) trimmed to its total
 * length, with MF or an offset set. Returns true and the whole datagram in
 * *out when this fragment completed it; false otherwise (the fragment is
 * held or was dropped and counted: either way no longer the caller's). */
bool reass_input(struct reass *r, struct lyra_skb *skb, uint64_t now, struct lyra_skb **out);

/* The earliest deadline of a datagram in progress (UINT64_MAX: none). */
uint64_t reass_next_deadline(const struct reass *r);

/* Drops one datagram whose deadline is <= now and returns true, or returns
 * false when none is due. *frag0 receives its first fragment (offset 0)
 * when that had arrived, for an ICMP time exceeded (RFC 1122 3.3.2): the
 * caller frees it. Otherwise *frag0 is NULL. */
bool reass_expire(struct reass *r, uint64_t now, struct lyra_skb **frag0);

/* Frees every fragment held (stop). */
void reass_purge(struct reass *r);

/* Datagrams in progress. */
unsigned reass_count(const struct reass *r);

#endif
