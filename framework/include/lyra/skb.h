/* Interface `skb` 2.1: packet buffers and the pools they come from.
 *
 * An skb is a linear area (headers pushed downward into headroom, then
 * payload put there) followed by any number of segments, chained through
 * seg->next. A frame is data[0..len) then each segment in order. Code walks
 * the pieces only with the helpers here (LYRA_SKB_FOR_EACH_SEG,
 * lyra_skb_iter_*, trim, pull_up, flatten) and in lyra/skb_pieces.h
 * (gathering drivers: pieces split at pages, and the bounce of a frame
 * with more pieces than a NIC gathers).
 *
 * 2.0 changed the meaning of ops (so a 1.x user cannot bind): any skb,
 * received ones too, may carry segments (a parser makes what it reads
 * linear with lyra_skb_pull_up: eth its header, ip and udp the datagram,
 * counted in their copy_bytes); alloc's size and max_alloc bound the
 * linear part only, payload beyond it goes in through add_data, which
 * reports how much it took and how much of that it copied.
 *
 * Segment descriptors: a provider draws the ones add_data and clone chain
 * from a pool of its own (sized by a parameter; no malloc) and takes them
 * back when the skb is freed. A descriptor that is not the provider's (a
 * test or a driver chaining memory with lyra_skb_seg_append) is left alone
 * at free: its owner keeps it, and the memory it names, valid until the
 * skb is gone. seg->ref names an skb whose memory the segment shows and on
 * which it holds one reference, dropped when the skb is freed.
 *
 * Ownership: whoever holds an skb frees it exactly once with lyra_skb_free()
 * (which returns it to the pool it came from, whoever that is). Ops that
 * "take" an skb own it from then on; netdev xmit, l2 2.0 and l3 2.0 output
 * take it only when they return 0 (a negative return leaves it with the
 * caller, as it was handed in). Of the ops here: alloc, alloc_cls, alloc_rx
 * and clone hand the caller a new skb it owns (NULL: nothing); add_data and
 * copy_out leave the skb with its holder whatever they return (what
 * add_data took stays in it); free ends the caller's reference;
 * lyra_skb_bounce returns a new skb and leaves the original with the
 * driver. A received skb is the rx event's receiver's.
 *
 * Contexts: every op runs on the stack's context (a poll step, or an
 * application thread holding the stack lock); none re-enters another layer
 * but for `done` (below). Providers are not thread safe.
 *
 * Clones (2.1): several skbs show one payload, each with headers of its
 * own (a transport keeps a segment for retransmission and hands a clone
 * down); see ops->clone.
 *
 * Payload sums (2.2, issue 11.4): a provider that copies payload in may sum
 * it in the same pass (lyra_csum_copy), when add_data's caller asks
 * (LYRA_SEG_F_CSUM), and keep the sum with the piece it filled: a segment's in seg->csum (LYRA_SEG_F_CSUM), the linear part's in
 * skb->lin_csum over the bytes it names. lyra_skb_csum (lyra/skb_csum.h)
 * takes a kept sum instead of reading a piece it covers whole, so a
 * transport's checksum re-reads no payload byte, and after a re-cut only
 * the piece that was cut. A kept sum names bytes, not contents: whoever
 * writes into payload bytes it did not put there clears it (nobody in the
 * tree does; headers are pushed in front). The helpers here that shorten
 * a segment (trim, advance, pull_up) drop its sum; a clone carries the
 * sums over.
 *
 * Send completion: a sender may set skb->done (lyra_skb_set_done). The
 * provider calls it once, when the last reference is dropped (the skb's own
 * and every clone's): after the NIC has sent the frame (the driver frees it
 * once its transmission is complete), or when a layer dropped it, and
 * before the buffer returns to the pool. Application memory a send
 * referenced (LYRA_SEG_F_USER segments that add_data did not copy) may be
 * reused once `done` has run; memory add_data copied (skb_copy copies all)
 * is free again as soon as add_data returns. `done` runs on the stack's
 * context wherever the last free happens; it may read the skb, and
 * allocate and send others, but must not free or keep it. */
#ifndef LYRA_SKB_H
#define LYRA_SKB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lyra/component.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LYRA_SKB_IFACE "skb"
#define LYRA_SKB_MAJOR 2
#define LYRA_SKB_MINOR 8 /* 2.1: clone; 2.2: payload sums kept with the pieces;
                          * 2.3: LYRA_SEG_F_REF, packet memory (pkt_alloc/pkt_free);
                          * 2.4: LYRA_SEG_F_CHECKED; 2.5: gso_size, clone_add (TSO);
                          * 2.6: LYRA_SKB_F_GRO (receive coalescing);
                          * 2.7: move_out (copy_out only copies);
                          * 2.8: clone_add_range (part of a queued skb);
                          * LYRA_SKB_F_L3CSUM_OK, a flag only (no minor) */

/* skb->flags */
#define LYRA_SKB_F_RX 0x0001        /* came from a NIC */
/* LYRA_SKB_F_CSUM_TX: the NIC inserts the L4 checksum, as Linux's
 * CHECKSUM_PARTIAL. The transport sets csum_start to lyra_skb_headroom()
 * right after pushing its header (so csum_start counts from head, not from
 * data, and stays right whatever is pushed below it); the checksum field,
 * csum_off bytes after csum_start, holds the pseudo-header sum as a seed.
 * At xmit a NIC sums from frame offset csum_start - (data - head) to the
 * end of the frame and stores the complement there; csum_start below
 * data - head, or a field beyond the frame, is an invalid request. */
#define LYRA_SKB_F_CSUM_TX 0x0002   /* NIC inserts the L4 checksum (csum_start/csum_off) */
#define LYRA_SKB_F_CSUM_OK 0x0004   /* NIC verified the L4 checksum */
#define LYRA_SKB_F_BCAST 0x0008     /* link-layer broadcast */
#define LYRA_SKB_F_MCAST 0x0010     /* link-layer multicast */
#define LYRA_SKB_F_HOST 0x0020      /* addressed to our MAC */
/* 2.6, receive coalescing (Linux's GRO, as a list): set by a driver on a
 * received TCP/IPv4 frame whose `next` chains the segments of the same
 * flow that came right after it. Each chained skb is linear, its data
 * starts at its TCP header (l4_off; l3_off at its IPv4 header, which is
 * still in front of it) and its length is that TCP segment's. The
 * driver checked that its IPv4 header (no options, not a fragment, header
 * checksum right) and link header equal the head's but for identification,
 * total length and checksum; that its TCP header equals the head's but for
 * the sequence number (which continues the segment before it), checksum
 * and PSH (PSH ends a run); and that the card verified every TCP checksum
 * of the run (LYRA_SKB_F_CSUM_OK on each). Layers pass the head up as a
 * frame of its own; lyra_skb_free frees the chain with it. A holder that
 * queues, clones or keeps the head takes the chain off first
 * (lyra_skb_unchain). ip hands a head only to a protocol built against l3
 * 2.3 or later, otherwise the segments one by one (l3.h). */
#define LYRA_SKB_F_GRO 0x0040
/* Set by a driver whose card verified the IPv4 header checksum of a
 * received frame (e1000 RXCSUM.IPOFLD): ip and a coalescing driver do not
 * sum the header again. A flag only: a consumer that does not know it
 * checks as before, a driver that does not set it costs nothing. */
#define LYRA_SKB_F_L3CSUM_OK 0x0080

/* Transmit classes (1.2). A provider may keep a reserve of buffers that
 * only LYRA_SKB_CTL allocations take (skb_copy: reserve_ctl), so that a
 * transport whose data sends have used the pool up can still send the
 * control segments (pure ACKs, RSTs; ARP and ICMP errors) that free it. */
#define LYRA_SKB_DATA 0 /* payload: never takes the control reserve */
#define LYRA_SKB_CTL 1  /* control segments: may take the control reserve */

/* seg flags */
#define LYRA_SEG_F_USER 0x1   /* references application memory (zero copy) */
#define LYRA_SEG_F_PAGE 0x2   /* does not cross a page (split for page-contiguous DMA) */
#define LYRA_SEG_F_CSUM 0x4   /* 2.2: csum is the sum of ptr[0..len) */
/* 2.3, an add_data flag (issue 12): the caller vouches that the bytes stay
 * unchanged until the skb's `done` has run (SO_ZEROCOPY / MSG_ZEROCOPY: the
 * application learns of `done` through a completion), so a referencing
 * provider may reference them without protecting them. Without it a
 * referencing provider references only memory it can protect itself (its
 * packet memory, pkt_alloc) and copies the rest. */
#define LYRA_SEG_F_REF 0x8
/* 2.4, an add_data flag beside LYRA_SEG_F_REF: the caller has checked,
 * through the os's mem_check in the same send call, that these bytes are
 * mapped readable, so the provider need not check them again (one system
 * call per send call instead of one per segment; a provider before 2.4
 * ignores it and checks). */
#define LYRA_SEG_F_CHECKED 0x10

struct lyra_skb;

/* One segment: len bytes at ptr. */
struct lyra_skb_seg {
    struct lyra_skb_seg *next; /* the next segment of the frame; NULL: last */
    const uint8_t *ptr;
    uint32_t len;
    uint16_t flags;
    /* 2.2, with LYRA_SEG_F_CSUM: the Internet checksum's sum of ptr[0..len),
     * folded to 16 bits, network order (lyra_csum_copy's result) */
    uint16_t csum;
    struct lyra_skb *ref; /* holds one reference on the skb whose memory this is; NULL: none */
};

struct lyra_skb_ops;

struct lyra_skb {
    struct lyra_skb *next; /* queue link for the current holder */
    uint8_t *head;         /* start of the linear buffer */
    uint8_t *data;         /* start of the frame's linear part */
    uint32_t len;          /* linear bytes from data */
    uint32_t size;         /* linear buffer size from head */
    uint32_t seg_len;      /* sum of the segments' len */
    uint32_t nseg;         /* segments chained from seg */
    struct lyra_skb_seg *seg;      /* first segment; NULL: none */
    struct lyra_skb_seg *seg_last; /* last segment (append point) */
    uint16_t refcnt;
    uint16_t flags;
    uint16_t protocol;   /* ethertype, host order */
    uint16_t csum_start; /* from head (not data): where summing starts (F_CSUM_TX) */
    uint16_t csum_off;   /* where to store the checksum, from csum_start */
    uint32_t l3_off;     /* offsets from head, set by layers as they parse */
    uint32_t l4_off;
    /* 2.2: the folded sum (network order) of the linear bytes
     * [head + lin_csum_at, + lin_csum_len), kept by the provider that put
     * them (add_data); lin_csum_len 0: none. Good while those bytes lie in
     * the linear part (lyra_skb_lin_csum) */
    uint32_t lin_csum_at;
    uint32_t lin_csum_len;
    uint16_t lin_csum;
    /* 2.5, TCP segmentation offload (issue 11.4; Linux's gso_size): nonzero
     * on a TCP/IPv4 frame the NIC cuts into segments of gso_size payload
     * bytes each, the last one shorter or equal. The linear part holds the
     * headers (Ethernet, IPv4, TCP with its options) and nothing else; the
     * payload is all in segments. Set by the transport only when the route
     * offers it (l3 route gso_segs), with LYRA_SKB_F_CSUM_TX; the TCP
     * checksum field then holds the pseudo-header sum WITHOUT the TCP
     * length (the NIC adds each segment's, as the 8254x wants). The NIC
     * makes per segment: IP total length and header checksum, the IP
     * identification (the header's, +1 per segment), the sequence number
     * (+gso_size per segment), the TCP checksum; FIN and PSH go on the last
     * segment only. Layers between pass it through (ip does not fragment
     * it: each segment fits the MTU). Reset to 0 by alloc; a clone starts
     * with 0. Sits in what was padding: the struct keeps its size. */
    uint16_t gso_size;
    uint64_t tstamp;
    /* owner: the pool that frees it */
    const struct lyra_skb_ops *owner_ops;
    void *owner;
    uint32_t pool_index;
    /* scratch for the current holder (like Linux skb->cb) */
    uint64_t cb[6];
    /* send completion (see the top of this file); NULL: none */
    void (*done)(void *ctx, struct lyra_skb *skb);
    void *done_ctx;
};

/* Asks for fn(ctx, s) when s's last reference is dropped (its own, those
 * of lyra_skb_ref, and those its clones hold). */
static inline void lyra_skb_set_done(struct lyra_skb *s, void (*fn)(void *ctx, struct lyra_skb *s),
                                     void *ctx)
{
    s->done = fn;
    s->done_ctx = ctx;
}

struct lyra_skb_ops {
    struct lyra_ops_hdr hdr;
    /* A buffer with `headroom` bytes before data and room for `size` more
     * in the linear part (payload beyond it: add_data). Returns NULL
     * (counted) when the pool is empty or the request is larger than
     * max_alloc: callers treat that as back-pressure. */
    struct lyra_skb *(*alloc)(void *self, uint32_t headroom, uint32_t size);
    /* A receive buffer for a NIC, with at least `size` linear bytes. */
    struct lyra_skb *(*alloc_rx)(void *self, uint32_t size);
    /* Drops one reference; the last runs `done`, drops what the segments
     * hold (seg->ref), takes back the provider's descriptors and returns
     * the skb to the pool. */
    void (*free)(void *self, struct lyra_skb *skb);
    /* Appends len bytes of payload at the end of the frame: into the linear
     * tail while there is room and no segment yet, then as segments (skb_copy
     * copies into further buffers of its pool; a referencing provider may
     * chain the memory itself, flags LYRA_SEG_F_USER when it is the
     * application's: see `done`). Returns the bytes taken, from 0 to len:
     * fewer when buffers or descriptors ran out (what was taken stays in the
     * skb, in order; a datagram sender frees the skb and reports EAGAIN, a
     * stream sender keeps what was taken). *copied (when not NULL) is set to
     * how many of them were copied rather than referenced. -EMSGSIZE when
     * the pool could not hold len more bytes even with every buffer free
     * (nothing taken: waiting would not help); -EINVAL for bad arguments
     * (len above INT32_MAX included); -EFAULT (2.3, a referencing
     * provider) for memory it would reference and cannot read: NULL, a
     * range that wraps, LYRA_SEG_F_REF memory that is not mapped readable
     * (nothing taken). Flags LYRA_SEG_F_CSUM (2.2): the
     * caller will checksum these bytes in software (no offload), so a
     * provider that copies may sum them in the copy's pass and keep the
     * sums (see the top of this file); without it nothing is summed. */
    int (*add_data)(void *self, struct lyra_skb *skb, const void *p, uint32_t len,
                    uint32_t flags, uint32_t *copied);
    /* Copies len bytes from offset off of the frame to dst (counted).
     * Returns 0, or a negative error: callers test < 0 for failure. Always
     * a copy (2.7; before, a remapping provider could remap here: see
     * move_out). */
    int (*copy_out)(void *self, const struct lyra_skb *skb, uint32_t off, void *dst,
                    uint32_t len);
    /* Free buffers left (the ones alloc_rx takes: normal buffers). */
    uint32_t (*avail)(void *self);
    /* The largest `size` alloc can ever grant with `headroom`: the linear
     * part only (the pool's shape, not what is free now). add_data carries
     * larger payloads. */
    uint32_t (*max_alloc)(void *self, uint32_t headroom);
    /* alloc of a transmit class (LYRA_SKB_DATA / LYRA_SKB_CTL; alloc is
     * LYRA_SKB_DATA). NULL (counted) as alloc, and for an unknown class. */
    struct lyra_skb *(*alloc_cls)(void *self, int cls, uint32_t headroom, uint32_t size);
    /* How many allocs of class cls with `headroom` and a size that fits
     * beside it in a normal buffer would succeed now (reserves taken into
     * account, unlike avail). 0 means such an alloc returns NULL, so a
     * transport reports POLLOUT only when this is > 0. An unknown class: 0.
     * Larger requests (up to max_alloc) may need a rarer buffer class and
     * can still fail when this is > 0. */
    uint32_t (*tx_avail)(void *self, int cls, uint32_t headroom);
    /* 2.1: a new skb showing skb's frame (its linear part and segments,
     * as they are now) through segments, behind a linear part of its own
     * that is empty with `headroom` bytes for the headers the layers below
     * push (so they never touch skb). The clone holds one reference on
     * skb, so skb's memory and `done` outlive it: holder and clone free in
     * any order, and skb's `done` runs once, when the last is gone. The
     * clone has no `done` of its own; flags, protocol and the offsets are
     * skb's (those counted from head moved to the clone's buffer). Nobody
     * writes into a frame that has clones (the bytes are shared); pushing
     * headers in front of either is fine. NULL (counted) when no buffer or
     * descriptors are free: back-pressure, as alloc. A clone may be cloned. */
    struct lyra_skb *(*clone)(void *self, struct lyra_skb *skb, uint32_t headroom);
    /* 2.3 (issue 12): packet memory, the paper's PktMemoryAlloc. size bytes
     * of application memory starting at the returned pointer, whose in-page
     * offset is where a received TCP segment's payload (behind Ethernet, IP
     * and a TCP header with timestamps) starts in this provider's receive
     * buffers, so a recv of one segment's payload into it may remap the
     * page instead of copying; sent from, it is referenced under copy on
     * write instead of copied. NULL: out of memory, or a provider that has
     * none (op left NULL: the framework's lyra_pkt_alloc falls back to
     * plain memory of the same layout). Create/destroy-time ops in spirit:
     * they may call the os page ops, never per packet. */
    void *(*pkt_alloc)(void *self, size_t size);
    /* Returns what pkt_alloc gave (p exactly); the stack may still hold
     * references to it (sent, not yet acknowledged): the provider keeps the
     * pages until the last goes. Anything else: -EINVAL. */
    int (*pkt_free)(void *self, void *p);
    /* 2.5 (TSO): appends skb's frame (its linear part and segments, as they
     * are now) to the end of c's through segments, the first holding one
     * reference on skb, as clone does (skb's memory and `done` outlive c).
     * So a transport shows a run of its queued skbs as one frame, each
     * still freed on its own. c's flags and offsets stay c's. 0; -EINVAL
     * (NULL, c == skb, skb freed); -ENOMEM (no descriptors: counted as a
     * clone failure, c unchanged). */
    int (*clone_add)(void *self, struct lyra_skb *c, struct lyra_skb *skb);
    /* 2.7 (issue 12.3): copy_out for a read of exactly the whole rest of
     * the skb, [off, skb's end): a stream read whose buffer is that long, a
     * datagram read whole into one buffer. A remapping
     * provider (skb_zc) may then give dst's page the skb's buffer page
     * instead of copying, when dst is its packet memory at the in-page
     * offset of the bytes and the caller holds the skb's only reference;
     * the skb's bytes are undefined afterwards (its holder frees it), and
     * so are those of dst's page behind dst + len. A caller that keeps the
     * skb to read again (MSG_PEEK) holds one more reference over the call
     * (lyra_skb_ref, then lyra_skb_free). A read of more or less than that
     * (a stream read across segments) calls copy_out: a page moved for the
     * one segment of a larger read that happens to sit at the right offset
     * saves a copy only where a remap is cheaper than one, which on a
     * host's MMU it is not (bench/results/zc.md).
     * Returns 0 when it copied, len when it remapped (so the caller counts
     * in its copy_bytes only what was copied), or copy_out's errors.
     * NULL (a provider that never remaps): callers use copy_out. */
    int (*move_out)(void *self, const struct lyra_skb *skb, uint32_t off, void *dst,
                    uint32_t len);
    /* 2.8: as clone_add, for the bytes [off, off + len) of skb's frame
     * only: descriptors for the pieces that overlap them, cut to them.
     * So a transport whose queued skb holds many segments shows one of
     * them without a descriptor for each of its other pieces (a clone of
     * the whole, then lyra_skb_advance and lyra_skb_trim, leaves them
     * empty in the chain, for the driver to walk). A piece cut keeps no
     * payload sum. 0; -EINVAL (as clone_add, or the range beyond the
     * frame); -ENOMEM (as clone_add). */
    int (*clone_add_range)(void *self, struct lyra_skb *c, struct lyra_skb *skb, uint32_t off,
                           uint32_t len);
};

/* Does provider o have op `field` (by its minor version and table size)? */
#define LYRA_SKB_HAS(o, minor_, field)                                                  \
    ((o)->hdr.minor >= (minor_) &&                                                      \
     (o)->hdr.size >= offsetof(struct lyra_skb_ops, field) + sizeof((o)->field) && (o)->field)

static inline struct lyra_skb *lyra_skb_alloc_cls(const struct lyra_skb_ops *o, void *self,
                                                  int cls, uint32_t headroom, uint32_t size)
{
    return o->alloc_cls(self, cls, headroom, size);
}

static inline uint32_t lyra_skb_tx_avail(const struct lyra_skb_ops *o, void *self, int cls,
                                         uint32_t headroom)
{
    return o->tx_avail(self, cls, headroom);
}

static inline uint32_t lyra_skb_max_alloc(const struct lyra_skb_ops *o, void *self,
                                          uint32_t headroom)
{
    return o->max_alloc(self, headroom);
}

/* clone when the provider has it (2.1), else NULL (counted by nobody:
 * the caller treats it as "cannot clone", e.g. copies). */
static inline struct lyra_skb *lyra_skb_clone(const struct lyra_skb_ops *o, void *self,
                                              struct lyra_skb *skb, uint32_t headroom)
{
    return LYRA_SKB_HAS(o, 1, clone) ? o->clone(self, skb, headroom) : NULL;
}

/* clone_add when the provider has it (2.5), else -EOPNOTSUPP. */
static inline int lyra_skb_clone_add(const struct lyra_skb_ops *o, void *self,
                                     struct lyra_skb *c, struct lyra_skb *skb)
{
    return LYRA_SKB_HAS(o, 5, clone_add) ? o->clone_add(self, c, skb) : -EOPNOTSUPP;
}

/* move_out where the provider has it (2.7), else copy_out. */
static inline int lyra_skb_move_out(const struct lyra_skb_ops *o, void *self,
                                    const struct lyra_skb *skb, uint32_t off, void *dst,
                                    uint32_t len)
{
    return LYRA_SKB_HAS(o, 7, move_out) ? o->move_out(self, skb, off, dst, len)
                                        : o->copy_out(self, skb, off, dst, len);
}

/* Every segment of s, in order: for (g = first; g; g = g->next). */
#define LYRA_SKB_FOR_EACH_SEG(s, g) for ((g) = (s)->seg; (g); (g) = (g)->next)

/* A walk over a frame's pieces: the linear part (possibly empty), then
 * each segment. lyra_skb_iter_init, then lyra_skb_iter_next until 0. */
struct lyra_skb_iter {
    const struct lyra_skb *s;
    const struct lyra_skb_seg *g; /* next segment */
    int lin;                      /* the linear part is still to come */
};

static inline void lyra_skb_iter_init(struct lyra_skb_iter *it, const struct lyra_skb *s)
{
    it->s = s;
    it->g = s->seg;
    it->lin = 1;
}

/* The next piece in (*p, *n): 1, or 0 after the last. */
static inline int lyra_skb_iter_next(struct lyra_skb_iter *it, const uint8_t **p, uint32_t *n)
{
    if (it->lin) {
        it->lin = 0;
        *p = it->s->data;
        *n = it->s->len;
        return 1;
    }
    if (!it->g)
        return 0;
    *p = it->g->ptr;
    *n = it->g->len;
    it->g = it->g->next;
    return 1;
}

/* Chains g (ptr, len, flags, ref set by the caller; next is reset) after
 * the last segment. Whoever owns g keeps it valid until s is freed. */
static inline void lyra_skb_seg_append(struct lyra_skb *s, struct lyra_skb_seg *g)
{
    g->next = NULL;
    if (s->seg_last)
        s->seg_last->next = g;
    else
        s->seg = g;
    s->seg_last = g;
    s->nseg++;
    s->seg_len += g->len;
}

static inline uint32_t lyra_skb_total(const struct lyra_skb *s)
{
    return s->len + s->seg_len;
}

static inline uint32_t lyra_skb_headroom(const struct lyra_skb *s)
{
    return (uint32_t)(s->data - s->head);
}

static inline uint32_t lyra_skb_tailroom(const struct lyra_skb *s)
{
    return s->seg ? 0 : (uint32_t)(s->size - (uint32_t)(s->data - s->head) - s->len);
}

/* The kept sum of linear payload (2.2): 1 and its place (offset from data,
 * length) when s has one over bytes that are all in its linear part now. */
static inline int lyra_skb_lin_csum(const struct lyra_skb *s, uint32_t *off, uint32_t *len)
{
    uint32_t hr = (uint32_t)(s->data - s->head);
    if (!s->lin_csum_len || s->lin_csum_at < hr ||
        s->lin_csum_at - hr + (uint64_t)s->lin_csum_len > s->len)
        return 0;
    *off = s->lin_csum_at - hr;
    *len = s->lin_csum_len;
    return 1;
}

/* Keeps sum as that of the linear bytes [p, p + len) of s (2.2), for the
 * provider or driver that put them there and summed them on the way. */
static inline void lyra_skb_keep_lin_csum(struct lyra_skb *s, const uint8_t *p, uint32_t len,
                                          uint16_t sum)
{
    s->lin_csum = sum;
    s->lin_csum_at = (uint32_t)(p - s->head);
    s->lin_csum_len = len;
}

/* Prepends n bytes; NULL when the headroom is short. */
static inline uint8_t *lyra_skb_push(struct lyra_skb *s, uint32_t n)
{
    if (lyra_skb_headroom(s) < n)
        return NULL;
    s->data -= n;
    s->len += n;
    return s->data;
}

/* Removes n bytes from the front of the linear part; NULL when short. */
static inline uint8_t *lyra_skb_pull(struct lyra_skb *s, uint32_t n)
{
    if (s->len < n)
        return NULL;
    s->data += n;
    s->len -= n;
    return s->data;
}

/* Appends n bytes to the linear part (only before any segment); NULL when
 * there is no room. */
static inline uint8_t *lyra_skb_put(struct lyra_skb *s, uint32_t n)
{
    if (lyra_skb_tailroom(s) < n)
        return NULL;
    uint8_t *p = s->data + s->len;
    s->len += n;
    return p;
}

/* Cuts the frame to at most n bytes, in the linear part and the segments
 * (segments cut to nothing are left empty, in place: a provider that
 * references memory through them still sees them at free). Never grows. */
static inline int lyra_skb_trim(struct lyra_skb *s, uint32_t n)
{
    if (n < s->len)
        s->len = n;
    uint32_t left = n - s->len;
    s->seg_len = 0;
    struct lyra_skb_seg *g;
    LYRA_SKB_FOR_EACH_SEG(s, g) {
        if (g->len > left) {
            g->len = left;
            g->flags &= (uint16_t)~LYRA_SEG_F_CSUM;
        }
        left -= g->len;
        s->seg_len += g->len;
    }
    return 0;
}

/* No payload outside the linear part (segments absent or emptied). */
static inline int lyra_skb_is_linear(const struct lyra_skb *s)
{
    const struct lyra_skb_seg *g;
    LYRA_SKB_FOR_EACH_SEG(s, g)
        if (g->len)
            return 0;
    return 1;
}

/* Makes the first n bytes of the frame linear (the pull helper for parsers
 * of received skbs, which may carry segments): copies what is missing from
 * the front of the segments into the linear tail, which needs that much
 * room in the buffer. Returns data, or NULL when the frame is shorter than
 * n or the buffer has no room (nothing changed). The bytes it copied are
 * the caller's to count (copy_bytes). Segments emptied at the front stay,
 * empty, in place (see lyra_skb_trim). */
static inline uint8_t *lyra_skb_pull_up(struct lyra_skb *s, uint32_t n)
{
    if (s->len >= n)
        return s->data;
    if (lyra_skb_total(s) < n)
        return NULL;
    uint32_t need = n - s->len;
    uint32_t room = s->size - (uint32_t)(s->data - s->head) - s->len;
    if (room < need)
        return NULL;
    for (struct lyra_skb_seg *g = s->seg; need && g; g = g->next) {
        uint32_t k = g->len < need ? g->len : need;
        memcpy(s->data + s->len, g->ptr, k);
        s->len += k;
        s->seg_len -= k;
        g->ptr += k;
        g->len -= k;
        g->flags &= (uint16_t)~LYRA_SEG_F_CSUM;
        need -= k;
    }
    return s->data;
}

/* Drops the first n bytes of the frame: from the linear part, then from
 * the front of the segments (advanced in place; emptied ones stay, as with
 * lyra_skb_trim). For a holder of a clone or a received skb cutting what
 * it does not need (a stream transport's overlap with data it has). No
 * byte is written or copied. Returns 0, or -1 when the frame is shorter
 * than n (nothing changed). */
static inline int lyra_skb_advance(struct lyra_skb *s, uint32_t n)
{
    if (lyra_skb_total(s) < n)
        return -1;
    uint32_t k = n < s->len ? n : s->len;
    s->data += k;
    s->len -= k;
    n -= k;
    for (struct lyra_skb_seg *g = s->seg; n && g; g = g->next) {
        k = g->len < n ? g->len : n;
        g->ptr += k;
        g->len -= k;
        g->flags &= (uint16_t)~LYRA_SEG_F_CSUM;
        s->seg_len -= k;
        n -= k;
    }
    return 0;
}

static inline void lyra_skb_ref(struct lyra_skb *s)
{
    s->refcnt++;
}

static inline void lyra_skb_free(struct lyra_skb *s)
{
    if (!s)
        return;
    struct lyra_skb *n = (s->flags & LYRA_SKB_F_GRO) ? s->next : NULL; /* 2.6: its chain */
    s->owner_ops->free(s->owner, s);
    while (n) {
        struct lyra_skb *x = n->next;
        n->owner_ops->free(n->owner, n);
        n = x;
    }
}

/* A new skb with `headroom` bytes for headers that shows [off, off + len)
 * of skb's frame: clone_add_range where the provider has it (2.8), else a
 * clone cut with advance and trim. NULL when no buffer or descriptor is
 * free, or the provider cannot clone. */
static inline struct lyra_skb *lyra_skb_clone_range(const struct lyra_skb_ops *o, void *self,
                                                    struct lyra_skb *skb, uint32_t headroom,
                                                    uint32_t off, uint32_t len)
{
    struct lyra_skb *c;
    if (LYRA_SKB_HAS(o, 8, clone_add_range)) {
        c = o->alloc(self, headroom, 0);
        if (c && o->clone_add_range(self, c, skb, off, len)) {
            lyra_skb_free(c);
            c = NULL;
        }
    } else if ((c = lyra_skb_clone(o, self, skb, headroom))) {
        lyra_skb_advance(c, off);
        lyra_skb_trim(c, len);
    }
    return c;
}

/* clone_add_range where the provider has it (2.8), else clone_add and a
 * trim of the whole frame to what it showed before plus len (off 0 only). */
static inline int lyra_skb_clone_add_range(const struct lyra_skb_ops *o, void *self,
                                           struct lyra_skb *c, struct lyra_skb *skb,
                                           uint32_t off, uint32_t len)
{
    if (LYRA_SKB_HAS(o, 8, clone_add_range))
        return o->clone_add_range(self, c, skb, off, len);
    uint32_t before = lyra_skb_total(c);
    int r = off ? -EOPNOTSUPP : lyra_skb_clone_add(o, self, c, skb);
    if (!r && len < UINT32_MAX - before)
        lyra_skb_trim(c, before + len);
    return r;
}

/* 2.6: how many skbs are chained to s (0 unless LYRA_SKB_F_GRO), and,
 * when bytes is not NULL, their bytes (from their TCP headers on) added
 * to *bytes. */
static inline uint32_t lyra_skb_chained(const struct lyra_skb *s, uint64_t *bytes)
{
    uint32_t n = 0;
    if (s->flags & LYRA_SKB_F_GRO)
        for (const struct lyra_skb *c = s->next; c; c = c->next, n++)
            if (bytes)
                *bytes += lyra_skb_total(c);
    return n;
}

/* 2.6: the first skb of a chain lyra_skb_unchain returned, taken off it
 * (its `next` cleared); NULL when the chain is empty. */
static inline struct lyra_skb *lyra_skb_pop(struct lyra_skb **chain)
{
    struct lyra_skb *c = *chain;
    if (c) {
        *chain = c->next;
        c->next = NULL;
    }
    return c;
}

/* 2.6: takes the chain off a LYRA_SKB_F_GRO head (which becomes a plain
 * frame) and returns it: NULL-terminated through `next`, NULL if none. */
static inline struct lyra_skb *lyra_skb_unchain(struct lyra_skb *s)
{
    if (!(s->flags & LYRA_SKB_F_GRO))
        return NULL;
    struct lyra_skb *c = s->next;
    s->next = NULL;
    s->flags &= (uint16_t)~LYRA_SKB_F_GRO;
    return c;
}

/* Gathers the frame into dst (for drivers without gather and for tests);
 * returns the bytes written, at most cap. Not counted: callers that copy
 * payload on the data path use ops->copy_out. */
static inline uint32_t lyra_skb_flatten(const struct lyra_skb *s, void *dst, uint32_t cap)
{
    uint8_t *d = (uint8_t *)dst;
    uint32_t n = s->len < cap ? s->len : cap;
    memcpy(d, s->data, n);
    for (const struct lyra_skb_seg *g = s->seg; g && n < cap; g = g->next) {
        uint32_t k = g->len;
        if (k > cap - n)
            k = cap - n;
        memcpy(d + n, g->ptr, k);
        n += k;
    }
    return n;
}

/* A FIFO of skbs linked through ->next, for holders' bounded queues. */
struct lyra_skb_queue {
    struct lyra_skb *head, *tail;
    uint32_t len;
};

static inline void lyra_skbq_init(struct lyra_skb_queue *q)
{
    q->head = q->tail = NULL;
    q->len = 0;
}

static inline void lyra_skbq_push(struct lyra_skb_queue *q, struct lyra_skb *s)
{
    s->next = NULL;
    if (q->tail)
        q->tail->next = s;
    else
        q->head = s;
    q->tail = s;
    q->len++;
}

static inline struct lyra_skb *lyra_skbq_pop(struct lyra_skb_queue *q)
{
    struct lyra_skb *s = q->head;
    if (s) {
        q->head = s->next;
        if (!q->head)
            q->tail = NULL;
        s->next = NULL;
        q->len--;
    }
    return s;
}

static inline void lyra_skbq_purge(struct lyra_skb_queue *q)
{
    struct lyra_skb *s;
    while ((s = lyra_skbq_pop(q)))
        lyra_skb_free(s);
}

#ifdef __cplusplus
}
#endif
#endif
