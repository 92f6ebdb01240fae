/* e1000_model: a device model of the Intel 82540EM (8086:100e) or 82574L
 * (8086:10d3, param variant) behind the `bus` interface, for host
 * assemblies and tests. An ordinary component (lyra_component_e1000_model).
 *
 * It emulates what a legacy-descriptor driver uses, as the 8254x manual
 * defines it: PCI config (IDs, command register: without bus mastering all
 * DMA is refused silently, as QEMU does), BAR0 registers (CTRL.RST, STATUS.LU,
 * EERD in the variant's layout, ICR read to clear, IMS/IMC/ICS, RCTL with
 * the receive filter RAL/RAH, MTA, BAM, MPE, UPE, LPE, SECRC and BSIZE,
 * TCTL.EN/PSP, the receive and transmit rings with head/tail and wrap, DD/EOP
 * write-back, RS, TCP/IP context descriptors with checksum insertion and
 * TCP segmentation (TSE, manual 3.5: TCP over IPv4 only, packets of up to
 * 64 KiB of payload; an inconsistent request is dropped and counted in
 * tx_tso_bad; tx_tso_packets, tx_tso_frames), RXCSUM
 * status, MPC/RNBC), and DMA memory: dma_alloc from an arena the model owns
 * (dma_mem), dma_map of other memory. Bus addresses are translated back and
 * checked: one outside every allocated or mapped region is a DMA fault
 * (counted: dma_faults; the frame is dropped, as on a bus error).
 *
 * Frames come from the link (param link, wire:NAME or tap:IFNAME, through
 * os 1.1 link ops, moved by the poll hook) or from e1000_model_inject;
 * transmitted frames go to the link, or without one to a capture queue that
 * e1000_model_take_tx drains. Frames shorter than 60 bytes are padded to
 * 60 on receive; longer than the card takes (1514, 1518 tagged; 16384 with
 * LPE) are dropped (rx_oversize); with no free receive descriptor the
 * frame is dropped (rx_overflow, RNBC, ICR.RXO).
 *
 * Where QEMU's e1000 differs from the manual, param `quirks` chooses:
 *   quirks=qemu (default; what a driver meets first, under QEMU): CTRL.RST
 *     resets nothing (the bit self-clears; counted in resets_ignored), and
 *     RAL0/RAH0 hold the EEPROM's MAC (AV set) from power-on;
 *   quirks=datasheet (8254x manual): CTRL.RST puts every register back to
 *     its default, and the receive addresses RAL/RAH are empty (AV clear)
 *     until the driver writes them: no unicast frame is accepted before. */
#ifndef LYRA_E1000_MODEL_H
#define LYRA_E1000_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lyra/component.h"

extern const struct lyra_component lyra_component_e1000_model;

/* A frame arriving from the wire: 0 when it landed in a receive
 * descriptor; -ENETDOWN (receiver off), -EIO (bus mastering off),
 * -EMSGSIZE (oversize), -EACCES (filtered), -ENOBUFS (no descriptor),
 * -EFAULT (DMA fault). Every drop is counted. */
int e1000_model_inject(void *self, const void *frame, size_t len);
/* A card gone wrong, for fuzzing the driver: the next received frame's
 * last descriptor is written back with length len, errors err and status
 * sta (DD forced, so the driver reads it) instead of the true ones. */
void e1000_model_rx_fault(void *self, uint16_t len, uint8_t sta, uint8_t err);
/* Whether a frame a fault hit starts in host memory [p, p + size) (its
 * first receive buffer, while that buffer still holds it), and what the
 * faulted descriptor said (sta, err): so a harness can tell the frames the
 * card lied about from honest ones. 1 or 0. */
int e1000_model_rx_fault_hit(void *self, const void *p, size_t size, uint8_t *sta, uint8_t *err);
/* The oldest transmitted frame not yet taken (when no link is attached):
 * its length (copied up to cap), 0 when none. */
size_t e1000_model_take_tx(void *self, void *buf, size_t cap);
/* Plugs or unplugs the cable: STATUS.LU follows and ICR.LSC is raised. */
void e1000_model_set_link(void *self, bool up);

#endif
