/* ne2k_model: a DP8390 + NE2000 board behind `bus` (port I/O), for hosts.
 *
 * Component "ne2k_model" (lyra_component_ne2k_model). It is as strict as
 * the DP8390D datasheet: 16 KiB of card RAM at 0x4000-0x7FFF, the address
 * PROM at 0x0000 (each byte doubled), page 0/1/2 registers, remote DMA
 * with RSAR/RBCR and ISR.RDC, transmit from TPSR/TBCR, receive into the
 * ring PSTART..PSTOP with the 4-byte header, ring overflow (OVW) after
 * which nothing is received until the driver has run the datasheet's
 * recovery (STOP, loopback, START, clear OVW). Frames come from the link
 * (poll hook) or from the test API below; frames shorter than 60 bytes are
 * padded to 60 (as a sender would, and as QEMU does), longer than 1514
 * dropped (rx_oversize).
 *
 * Where QEMU's ne2000 differs from the datasheet, param `quirks` chooses:
 *   quirks=qemu (default; what a driver meets first, under QEMU):
 *     - ring header count = 4 + frame length (no CRC); the next-page
 *       pointer still leaves room for a 4-byte CRC, as QEMU computes it;
 *     - unicast frames are filtered against the address PROM, not PAR0-5;
 *     - a transmission ends at once (PTX right after TXP), unless tx_defer.
 *   quirks=datasheet (DP8390D, real NE2000 boards):
 *     - count = 4 + frame length + 4, the frame's Ethernet CRC-32 (FCS,
 *       low byte first) written to the ring right after it;
 *     - unicast frames are filtered against PAR0-5;
 *     - a transmission ends at the model's next poll (CR.TXP set until
 *       then), whatever tx_defer says. */
#ifndef LYRA_NE2K_MODEL_H
#define LYRA_NE2K_MODEL_H

#include <stddef.h>

#include "lyra/component.h"

extern const struct lyra_component lyra_component_ne2k_model;

/* `self` is the ne2k_model instance. */

/* A frame arrives from the wire now. 0: written to the ring; -EMSGSIZE:
 * oversize; -EAGAIN: missed (card stopped, in loopback, or locked after an
 * overflow); -ENOENT: refused by the address filter; -ENOSPC: the ring was
 * full (OVW raised); -EIO: the ring registers are not usable. */
int ne2k_model_inject(void *self, const void *frame, size_t len);
/* A card gone wrong, for fuzzing the driver: the next received frame's
 * 4-byte ring header (status, next page, byte count low and high) is
 * written as hdr instead of the true one; the card's own CURR is not. */
void ne2k_model_rx_fault(void *self, const uint8_t hdr[4]);

/* The oldest transmitted frame not yet taken (only kept when there is no
 * link): copies at most cap bytes and returns the frame's length, 0 when
 * there is none. Up to NE2K_MODEL_TXQ frames are kept; more are dropped
 * (txq_drop). */
#define NE2K_MODEL_TXQ 8
size_t ne2k_model_take_tx(void *self, void *buf, size_t cap);

/* Fault injection for tests. */
#define NE2K_FAULT_NO_RDC 0x1 /* remote DMA never reports completion */
void ne2k_model_set_faults(void *self, unsigned faults);

#endif
