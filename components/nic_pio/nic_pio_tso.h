/* nic_pio's TCP segmentation (netdev 1.2 tso_segs, skb.h gso_size) in the
 * driver: the NE2000 cuts nothing itself, but every byte of a frame goes
 * through the driver's remote-DMA write anyway. Taking a TSO frame whole
 * spares the stack a pass through tcp, ip and eth and an skb per segment;
 * here a segment costs its header (copied from the frame's, a few fields
 * rewritten) and the write of its payload, summed on the way. */
#ifndef LYRA_NIC_PIO_TSO_H
#define LYRA_NIC_PIO_TSO_H

#include <stdint.h>

#include "lyra/skb.h"
#include "ne2k_hw.h"

/* The most header bytes (Ethernet, IPv4 and TCP with options) a TSO frame
 * may have here: 14 + 60 + 60, even. */
#define NIC_PIO_TSO_HDR_MAX 134u

/* caps.tso_segs: 44 segments of 1460 bytes fill a 64 KB frame (tcp keeps
 * a frame within LYRA_TSO_MAX whatever its MSS); no gather limit here. */
#define NIC_PIO_TSO_SEGS 44u

/* The frame being cut. */
struct nic_pio_tso {
    struct lyra_skb *skb;        /* NULL: none */
    const struct lyra_skb_seg *g; /* the payload piece the next segment starts in */
    uint32_t goff;               /* at this offset into it */
    uint32_t hlen;               /* the headers: the linear part */
    uint32_t payload;            /* payload bytes in all */
    uint32_t off;                /* payload bytes written so far */
    uint16_t mss;
    uint16_t k;                  /* segments written */
    uint8_t tcp;                 /* the TCP header's frame offset */
};

/* 0 with t set to cut skb (total: its frame's bytes); -EINVAL: not a TSO
 * frame this driver can cut (TCP over IPv4 with the TCP checksum asked
 * of the NIC, headers alone in the linear part, each segment within one
 * Ethernet frame, at most NIC_PIO_TSO_SEGS of them): t unchanged. */
int nic_pio_tso_begin(struct nic_pio_tso *t, struct lyra_skb *skb, uint64_t total);

/* Writes the next segment as a frame at card address addr: the payload
 * first, summed as it is written, then its header with the checksums in.
 * *len: the frame's bytes (before padding to 60). 0, or -ETIMEDOUT (remote
 * DMA did not complete). The last one written when t->off == t->payload. */
int nic_pio_tso_write_next(struct nic_pio_tso *t, struct ne2k_hw *h, uint16_t addr,
                           uint32_t *len);

#endif
