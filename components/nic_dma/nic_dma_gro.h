/* nic_dma's receive coalescing (skb 2.6 LYRA_SKB_F_GRO; Linux's GRO, kept
 * as a list): within one poll step, TCP/IPv4 frames of one flow that
 * continue each other go up as one frame whose `next` chains the rest, so
 * eth, ip and tcp's lookup run once per run instead of once per frame.
 * Only what the card verified takes part (TCP checksum OK); the driver
 * checks the IPv4 header checksum and that the headers match (skb.h).
 * No state outside struct nd_gro; runs on the stack's context only. */
#ifndef NIC_DMA_GRO_H
#define NIC_DMA_GRO_H

#include <stdbool.h>
#include <stdint.h>

#include "lyra/skb.h"

/* Segments per run at most: 64 KiB of 1448-byte payloads, as Linux's GRO. */
#define ND_GRO_MAX 45u

#define ND_GRO_STATS(X) \
    X(rx_gro_runs)      \
    X(rx_gro_chained)

struct nd_gro_stats {
#define ND_GRO_F(n) uint64_t n;
    ND_GRO_STATS(ND_GRO_F)
#undef ND_GRO_F
};

/* Where a frame or a run goes (the netdev user's rx). */
typedef void (*nd_gro_up_fn)(void *ctx, struct lyra_skb *skb);

struct nd_gro {
    bool on;
    struct lyra_skb *head, *tail; /* the run held; NULL: none */
    uint32_t next_seq;            /* where the run's next segment starts */
    uint32_t n;                   /* skbs in the run */
    uint32_t hlen;                /* the run's TCP header length */
    struct nd_gro_stats st;
};

/* A received frame: joins the run held, or ends it (up) and starts one,
 * or goes up at once when it cannot take part. */
void nd_gro_rx(struct nd_gro *g, struct lyra_skb *skb, nd_gro_up_fn up, void *ctx);
/* The run held, if any, goes up (end of a poll step). */
void nd_gro_flush(struct nd_gro *g, nd_gro_up_fn up, void *ctx);
/* Frees the run held (stop). */
void nd_gro_drop(struct nd_gro *g);

#endif
