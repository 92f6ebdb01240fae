/* nic_dma: what a frame asks of the card, read before anything is mapped
 * (its length, the checksum offsets, the TSO context), and the data
 * descriptors that carry it.
 *
 * TCP segmentation offload (netdev 1.2 caps.tso_segs, skb 2.5 gso_size;
 * manual 3.5): a frame with gso_size is TCP/IPv4 whose linear part is its
 * headers; the card gets one TSE context descriptor (header length,
 * payload length, MSS, checksum offsets) and the frame's pieces as TSE
 * data descriptors, and cuts the payload into gso_size-byte frames itself,
 * each with its own IP length, identification and checksum, sequence
 * number and TCP checksum. */
#ifndef NIC_DMA_TXREQ_H
#define NIC_DMA_TXREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e1000_desc.h"
#include "lyra/skb.h"

/* The most data descriptors a TSO frame takes (its gather limit; more:
 * bounced like any frame). nd_xmit's pt[] has this many entries: 512
 * bytes of stack on a 32-bit target. */
#define ND_TSO_MAX_PARTS 64u
/* The most header bytes: the card keeps the header in an on-chip buffer
 * of 240 bytes (manual 3.5.9); HDRLEN's 8 bits would allow 255. */
#define ND_TSO_HDR_MAX 240u
/* TSO frames' pieces are cut at least every 8 KiB (page_contig or not):
 * a descriptor carries at most E1000_TXD_MAX_LEN bytes (manual 3.3.3) and
 * a TSO frame's segments may be larger. */
#define ND_TSO_SPLIT 8192u

struct nd_txreq {
    uint64_t total;          /* the frame's bytes */
    bool csum, tso;          /* LYRA_SKB_F_CSUM_TX; gso_size */
    uint32_t css, cso;       /* checksum offload: offsets in the frame */
    struct e1000_txd_tso tc; /* TSO: the TSE context */
};

/* Reads what skb asks for into q. 0; -EOPNOTSUPP for checksum offload
 * without csum_tx or TSO without tso; -EMSGSIZE for a frame over 1514
 * bytes (1518 tagged; TSO frames: LYRA_TSO_MAX above the Ethernet
 * header); -EINVAL for the rest: a piece without memory, checksum offsets
 * a context cannot hold, a TSO frame the card cannot cut (see
 * nd_txreq_tso). */
int nd_txreq_read(const struct lyra_skb *skb, bool csum_tx, bool tso, struct nd_txreq *q);

/* The TSE context for skb (gso_size set), whose frame is total bytes: 0,
 * or -EINVAL when the card cannot cut it (the skb.h contract: F_CSUM_TX
 * with csum_start at the TCP header, Ethernet + IPv4 + TCP and nothing
 * else in the linear part, at most ND_TSO_HDR_MAX bytes, headers +
 * gso_size within a 1514-byte frame, some payload, at most LYRA_TSO_MAX
 * bytes above the Ethernet header). */
int nd_txreq_tso(const struct lyra_skb *skb, uint64_t total, struct e1000_txd_tso *c);

/* One data descriptor for q's frame: legacy for a plain frame, TCP/IP
 * data (DEXT) with TXSM for checksum offload, with DCMD.TSE and IXSM|TXSM
 * for TSO (manual 3.3.7, 3.5). POPTS counts on the first; all carry it. */
void nd_txreq_desc(uint8_t *d, uint64_t bus, uint32_t len, bool last, const struct nd_txreq *q);

/* The card sums a TSO frame's IPv4 header with its checksum field in it
 * (manual 3.5.9): the field must hold 0, as Linux's e1000 leaves it.
 * Clears it in the frame f and returns what it held, for restore (a
 * refused frame goes back to its caller as it came). */
uint16_t nd_txreq_ip_csum_clear(uint8_t *f, const struct nd_txreq *q);
void nd_txreq_ip_csum_restore(uint8_t *f, const struct nd_txreq *q, uint16_t old);

/* Where a TSO frame's pieces are cut: the page (page_contig; 0 or an
 * unknown page: 4096), at most ND_TSO_SPLIT. A power of two. */
size_t nd_tso_split(bool page_contig, size_t page);

/* caps.tso_segs: the most segments behind the linear part for which every
 * frame fits both the gather limit (with the splits at `split`) and a ring
 * of tx_n descriptors (its data descriptors and the context within
 * tx_n - 1). 0: none fits. */
uint16_t nd_tso_segs(size_t split, uint32_t tx_n);

/* The frames the card makes of it: ceil(paylen / mss). */
static inline uint32_t nd_tso_frames(const struct e1000_txd_tso *c)
{
    return (c->paylen + c->mss - 1u) / c->mss;
}

#endif
