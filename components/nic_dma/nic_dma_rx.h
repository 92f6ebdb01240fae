/* nic_dma's receive ring with posted buffers (netdev 1.1, issue 8.1).
 *
 * Every receive descriptor points at an skb from the skb provider's
 * alloc_rx (headroom and alignment the provider's), mapped with bus
 * dma_map: the card writes the frame straight into it, and the driver
 * hands that skb up without copying, posting a fresh one in its place. When
 * the provider has none, the descriptor stays without a buffer (rx_nobuf)
 * and is refilled at a later poll step, once buffers came back; meanwhile
 * the card has fewer descriptors and drops what it cannot place (MPC,
 * rx_missed). Frames in error are not handed up: their buffer is posted
 * again as it is.
 *
 * Indices: descriptors [next, tail) hold a buffer (posted of them, at most
 * n - 1 so that RDT never reaches RDH); the card owns [RDH, RDT = tail).
 * No state outside struct nd_rx; runs on the stack's context only. */
#ifndef NIC_DMA_RX_H
#define NIC_DMA_RX_H

#include <stdbool.h>
#include <stdint.h>

#include "e1000_hw.h"
#include "lyra/bus.h"
#include "lyra/os.h"
#include "lyra/skb.h"

/* Bytes asked of alloc_rx and mapped per buffer: the longest frame the card
 * accepts with LPE off (1518, 802.1Q-tagged) and room for an FCS, as
 * Linux's e1000 sizes its buffers under BSIZE 2048. */
#define ND_RX_BUF_LEN 1522u

#define ND_RX_STATS(X) \
    X(rx_frames)       \
    X(rx_bytes)        \
    X(rx_nobuf)        \
    X(rx_map_errors)   \
    X(rx_missed)       \
    X(rx_errors)       \
    X(rx_csum_ok)      \
    X(rx_csum_bad)     \
    X(rx_no_user)

struct nd_rx_stats {
#define ND_RX_F(n) uint64_t n;
    ND_RX_STATS(ND_RX_F)
#undef ND_RX_F
};

struct nd_rx_slot {
    struct lyra_skb *skb; /* NULL: no buffer posted here */
    uint64_t bus;         /* skb->data's bus address while posted */
};

/* Where a filled skb goes (the netdev user's rx, or a drop when none). */
typedef void (*nd_rx_up_fn)(void *ctx, struct lyra_skb *skb);

struct nd_rx {
    const struct lyra_bus_ops *bus;
    void *bself;
    const struct lyra_skb_ops *so;
    void *sself;
    const struct lyra_os *os;
    struct e1000_hw *hw;
    bool csum; /* RXCSUM on: report the card's checksum status */

    uint32_t n;
    uint8_t *ring;
    uint64_t ring_bus;
    struct nd_rx_slot *slot;
    uint32_t next, tail, posted;
    bool discard; /* dropping the rest of a multi-descriptor frame */
    struct nd_rx_stats st;
};

/* Allocates the ring (bus dma_alloc) and its slots (os mem_alloc) and
 * posts as many buffers as the provider gives (up to n - 1). 0, -ENOMEM
 * (nothing kept), or -EMSGSIZE when the provider has free buffers but not
 * one that holds ND_RX_BUF_LEN bytes (a pool too small for a frame). */
int nd_rx_start(struct nd_rx *r);
/* Programs the card's receive registers (RDT after the posted buffers)
 * and enables the receiver. */
void nd_rx_enable(struct nd_rx *r);
/* Hands up to budget received frames to up(ctx, skb), then refills the
 * descriptors without a buffer and moves RDT once. Returns the frames
 * (and dropped descriptors) handled. */
unsigned nd_rx_poll(struct nd_rx *r, unsigned budget, nd_rx_up_fn up, void *ctx);
/* The card's missed-packet count (MPC, read to clear) into rx_missed. */
void nd_rx_count_missed(struct nd_rx *r);
/* Returns every posted buffer to the provider (the card is stopped) and
 * frees the ring. Safe when start failed or never ran. */
void nd_rx_stop(struct nd_rx *r);

#endif
