/* nic_pio's frame write: an skb's pieces into a transmit buffer on the
 * card by remote DMA, with the L4 checksum inserted on the way when the
 * stack asks for it (LYRA_SKB_F_CSUM_TX). */
#ifndef LYRA_NIC_PIO_TX_H
#define LYRA_NIC_PIO_TX_H

#include <stdint.h>

#include "lyra/skb.h"
#include "ne2k_hw.h"

struct nic_pio_tx_stats {
    uint64_t csum_offload; /* frames whose L4 checksum the driver inserted */
    uint64_t csum_in_write; /* of them, summed in the write itself */
    uint64_t csum_bad;      /* asked for at offsets outside the frame's header: refused */
};

/* Writes skb's frame (total bytes of pieces, padded with zeros to flen)
 * at card address addr. 0; -EINVAL (a checksum asked for at offsets it
 * cannot be put at: nothing written); -ETIMEDOUT (remote DMA did not
 * complete). */
int nic_pio_tx_write(struct ne2k_hw *h, uint16_t addr, struct lyra_skb *skb, uint32_t total,
                     uint32_t flen, struct nic_pio_tx_stats *st);

#endif
