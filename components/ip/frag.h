/* IPv4 output fragmentation (RFC 791 section 3.2, "Fragmentation"; RFC
 * 1122 section 3.3.3).
 *
 * A datagram whose header plus payload exceeds the MTU is cut into
 * fragments whose payloads are multiples of 8 bytes (all but the last),
 * each copied into a new skb from the pool with its own 20-byte header
 * (no options are ever sent, so every fragment's header is the same
 * length). The caller decides DF before calling: a DF datagram that does
 * not fit is never given here. Each fragment asks the pool for no more than
 * headroom + MTU, so a datagram held in one of skb_copy's big buffers is cut
 * into normal buffers (the big one is freed once it is copied). */
#ifndef LYRA_FRAG_H
#define LYRA_FRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "ipv4_wire.h"
#include "lyra/skb.h"

/* The smallest MTU every IPv4 link must carry (RFC 791: 68 octets). */
#define FRAG_MIN_MTU 68

/* Payload bytes per fragment at this MTU: a multiple of 8. */
static inline uint32_t frag_chunk(uint32_t mtu)
{
    return (mtu - IPV4_HDR_LEN) & ~7u;
}

/* Splits the payload of skb (data at the transport header; linear part and
 * segments, read with copy_out) into fragments for mtu. *h gives every
 * field but frag_off, mf and payload_len, which are set per fragment.
 * Each fragment is a new skb with `headroom` bytes in front of its IP
 * header. 0: skb was taken (freed) and the fragments are in q, in order.
 * The caller keeps skb, unchanged, on -EMSGSIZE (mtu < 68 or the datagram
 * exceeds 65535 bytes) and -ENOBUFS (the pool cannot give every fragment;
 * none is kept). */
int frag_split(const struct lyra_skb_ops *so, void *so_self, struct lyra_skb *skb,
               const struct ipv4_repr *h, uint32_t mtu, uint32_t headroom,
               struct lyra_skb_queue *q);

/* Checksum offload cannot survive fragmentation (the NIC sees fragments,
 * not the transport's message): computes the checksum the NIC would have,
 * in software, before the datagram is cut. start (from skb->data: the
 * caller converts skb->csum_start, which counts from head, skb.h
 * LYRA_SKB_F_CSUM_TX) and off (from start) locate the sum and the 16-bit
 * field (in the linear part), as the NIC would; the field holds the
 * transport's seed (its pseudo-header sum). A UDP result of 0 is sent as
 * 0xffff (RFC 768).
 * Clears LYRA_SKB_F_CSUM_TX. 0, or -EINVAL when the offsets do not fit. */
int frag_csum_resolve(struct lyra_skb *skb, uint32_t start, uint32_t off, bool udp);

#endif
