/* Register-level sequences of the DP8390 / NE2000, over `bus` port I/O.
 *
 * No policy here (that is nic_pio.c): reset, PROM, initialisation, remote
 * DMA, transmit start, ring pointers and the datasheet's ring overflow
 * procedure. Word mode (DCR 0x49) throughout. Every wait is bounded by
 * `wait_spins` reads of ISR (each followed by a 1 us bus delay); a wait that
 * runs out is counted (rdma_timeout / reset_timeout) and returns -ETIMEDOUT. */
#ifndef NE2K_HW_H
#define NE2K_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lyra/bus.h"
#include "ne2k_regs.h"

/* Card memory layout used by the driver: two transmit buffers of 6 pages
 * (1536 bytes) at the start of card RAM, the rest a receive ring. */
#define NE2K_TX_PAGE0 0x40
#define NE2K_TX_PAGES 6
#define NE2K_RX_START (NE2K_TX_PAGE0 + 2 * NE2K_TX_PAGES) /* 0x4C */
#define NE2K_RX_STOP 0x80

struct ne2k_hw {
    const struct lyra_bus_ops *bus;
    void *bus_self;
    unsigned wait_spins;
    uint8_t pstart, pstop;
    uint64_t rdma_timeout, reset_timeout;
};

/* The 4-byte ring header. */
struct ne2k_rxhdr {
    uint8_t status, next;
    uint16_t count;
};

/* A remote-DMA write in progress that gathers pieces of any length: an odd
 * byte at a piece's end is carried into the next word. With `summing`, the
 * Internet checksum's sum of the bytes written (network order, not folded)
 * is added up in the same pass (bus outsw_csum where the bus has it). */
struct ne2k_writer {
    struct ne2k_hw *hw;
    uint32_t written; /* bytes handed over so far */
    uint32_t sum;
    uint8_t carry;
    bool has_carry;
    bool summing;
};

static inline uint8_t ne2k_in(struct ne2k_hw *h, uint32_t reg)
{
    return h->bus->inb(h->bus_self, reg);
}

static inline void ne2k_out(struct ne2k_hw *h, uint32_t reg, uint8_t v)
{
    h->bus->outb(h->bus_self, reg, v);
}

/* Reads the reset port and waits for ISR.RST: -ETIMEDOUT when the card
 * never answers (no card there). */
/* Whether the device behind the bus can be an NE2000: a port I/O window, and
 * no PCI ID or an NE2000 clone's. ISA cards have no IDs: the reset probes. */
bool ne2k_bus_drivable(const struct lyra_bus_ops *bus, void *bus_self);
int ne2k_reset(struct ne2k_hw *h);
/* Reads the 32-byte address PROM in word mode; keeps the even bytes. */
int ne2k_read_prom(struct ne2k_hw *h, uint8_t mac[6]);
/* The datasheet's initialisation: card stopped, DCR word mode, ring
 * PSTART/PSTOP/BNRY, ISR cleared, IMR, page 1 PAR/MAR/CURR, start, TCR
 * normal, then RCR. Leaves the card receiving, register page 0. */
int ne2k_init(struct ne2k_hw *h, const uint8_t mac[6], uint8_t rcr, const uint8_t mar[8],
              uint8_t imr);
/* Sets RCR and the multicast hash (page 1) on a running card. */
void ne2k_set_filter(struct ne2k_hw *h, uint8_t rcr, const uint8_t mar[8]);
/* Stops the card (CR STP, remote DMA aborted). */
void ne2k_stop(struct ne2k_hw *h);

/* Remote DMA read of len bytes at card address addr into buf (word mode:
 * an odd tail byte is read with one more word). 0 or -ETIMEDOUT. With sum
 * not NULL and a bus that has insw_csum (bus 1.1), *sum is set to the
 * Internet checksum's sum of the bytes read (folded, network order),
 * added in the read's own loop, and *summed to 1; else *summed to 0. */
int ne2k_rdma_read(struct ne2k_hw *h, uint16_t addr, void *buf, uint32_t len);
int ne2k_rdma_read_sum(struct ne2k_hw *h, uint16_t addr, void *buf, uint32_t len, uint16_t *sum,
                       int *summed);
/* Remote DMA write of `count` bytes at addr (count is rounded up to even). */
int ne2k_write_begin(struct ne2k_writer *w, struct ne2k_hw *h, uint16_t addr, uint32_t count);
void ne2k_write_piece(struct ne2k_writer *w, const uint8_t *p, uint32_t len);
void ne2k_write_zeros(struct ne2k_writer *w, uint32_t len);
/* Flushes the carry byte (padded with zero) and waits for RDC. */
int ne2k_write_end(struct ne2k_writer *w);

/* Starts transmitting len bytes from page `page`. */
void ne2k_tx_start(struct ne2k_hw *h, uint8_t page, uint16_t len);

static inline uint8_t ne2k_isr(struct ne2k_hw *h)
{
    return ne2k_in(h, NE_ISR);
}

static inline void ne2k_ack(struct ne2k_hw *h, uint8_t bits)
{
    ne2k_out(h, NE_ISR, bits);
}

/* CURR (page 1) and BNRY (page 0). */
uint8_t ne2k_curr(struct ne2k_hw *h);
static inline uint8_t ne2k_bnry(struct ne2k_hw *h)
{
    return ne2k_in(h, NE_BNRY);
}
static inline void ne2k_set_bnry(struct ne2k_hw *h, uint8_t v)
{
    ne2k_out(h, NE_BNRY, v);
}
/* The page before p in the ring (what BNRY holds once p's frame is read). */
static inline uint8_t ne2k_ring_prev(const struct ne2k_hw *h, uint8_t p)
{
    return p == h->pstart ? (uint8_t)(h->pstop - 1) : (uint8_t)(p - 1);
}
static inline uint8_t ne2k_ring_next(const struct ne2k_hw *h, uint8_t p)
{
    return (uint8_t)(p + 1) >= h->pstop ? h->pstart : (uint8_t)(p + 1);
}

/* Reads the header of the frame at page p; reads the frame's len bytes
 * (after the header) into buf, splitting the read at the ring's end. */
int ne2k_rx_header(struct ne2k_hw *h, uint8_t page, struct ne2k_rxhdr *hdr);
int ne2k_rx_data(struct ne2k_hw *h, uint8_t page, void *buf, uint32_t len, uint16_t *sum,
                 int *summed);

/* Ring overflow recovery, DP8390D datasheet "Buffer Ring Overflow":
 * begin does steps 1-7 (save TXP, STOP, wait 1.6 ms, clear RBCR, decide
 * resend, loopback mode 1, START) and returns the resend flag; the caller
 * removes at least one frame from the ring (step 8); end does steps 9-11
 * (clear OVW, TCR normal, re-issue TXP when resend). */
bool ne2k_ovw_begin(struct ne2k_hw *h);
void ne2k_ovw_end(struct ne2k_hw *h, bool resend);

/* Reads (and so clears) the tally counters. */
void ne2k_tallies(struct ne2k_hw *h, uint32_t *fae, uint32_t *crc, uint32_t *missed);

#endif
