/* ne2k_model internals shared by its files: the instance, the model's own
 * limits, and the functions one topic calls in another. Nothing here is
 * part of the component's contract (that is ne2k_model.h and `bus`). */
#ifndef NE2K_MODEL_INT_H
#define NE2K_MODEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lyra/bus.h"
#include "lyra/os.h"
#include "ne2k_model.h"
#include "ne2k_model_regs.h"

#define WHO "ne2k_model"
#define FRAME_MAX 1514
#define TX_MAX 1518
#define BUF_SIZE 2048
#define ETH_ZLEN 60
#define FCS_LEN 4

enum { DMA_NONE, DMA_READ, DMA_WRITE };
/* Overflow lock: frames are missed until the datasheet's procedure ran. */
enum { OVW_NONE, OVW_LOCKED, OVW_STOPPED, OVW_LOOPBACK, OVW_RESTARTED };

#define MODEL_STATS(X) \
    X(rx_frames) X(rx_bytes) X(rx_padded) X(rx_oversize) X(rx_missed) X(rx_filtered) \
    X(rx_overflow) X(rx_bad_ring) X(tx_frames) X(tx_bytes) X(tx_runt) X(tx_abort) \
    X(tx_loopback) X(tx_overlap) X(txq_drop) X(link_tx_fail) X(link_rx_drop) \
    X(rdma_misuse) X(rdma_send_cmd) X(resets) X(rx_fcs) X(rx_held)

struct model_stats {
#define MS_FIELD(n) uint64_t n;
    MODEL_STATS(MS_FIELD)
#undef MS_FIELD
};

struct ne2k_model {
    struct lyra_os os;
    const struct lyra_bus_events *ev;
    void *drv;
    uint8_t mac[6];
    const char *link_spec;
    struct lyra_link_params lp;
    bool tx_defer; /* the parameter; transmit ends at the next poll */
    bool datasheet; /* quirks=datasheet (false: QEMU's behaviour) */
    bool fault_armed;     /* ne2k_model_rx_fault: the next ring header is */
    uint8_t fault_hdr[4]; /* written as these bytes */
    struct lyra_link *link;
    unsigned faults;

    /* DP8390 */
    uint8_t cr, isr, imr, dcr, tcr, rcr, tsr, rsr;
    uint8_t pstart, pstop, bnry, curr, tpsr;
    uint16_t tbcr, rsar, rbcr;
    uint16_t dma_addr, dma_count;
    int dma_mode;
    uint8_t par[6], mar[8], cntr[3];
    bool stopped, tx_busy, irq_on;
    int ovw;

    uint8_t prom[NE_PROM_SIZE];
    uint8_t mem[NE_MEM_SIZE];
    uint8_t buf[BUF_SIZE];

    uint8_t txq[NE2K_MODEL_TXQ][TX_MAX];
    uint16_t txq_len[NE2K_MODEL_TXQ];
    unsigned txq_head, txq_n;

    struct model_stats st;
};

/* ne2k_model_rdma.c: card memory and the remote DMA data port (one
 * transfer of 1 or 2 bytes). */
void ne2km_mem_write(struct ne2k_model *m, uint32_t a, uint8_t v);
void ne2km_dma_start(struct ne2k_model *m, int mode);
uint16_t ne2km_dma_in(struct ne2k_model *m, unsigned width);
void ne2km_dma_out(struct ne2k_model *m, uint16_t v, unsigned width);
unsigned ne2km_width_of(const struct ne2k_model *m);

/* ne2k_model_regs.c: reset and the DP8390's paged registers 0x00-0x0F. */
void ne2km_chip_reset(struct ne2k_model *m);
uint8_t ne2km_reg_read(struct ne2k_model *m, uint32_t r);
void ne2km_reg_write(struct ne2k_model *m, uint32_t r, uint8_t v);

/* ne2k_model_wire.c: the link side. ne2km_finish_tx ends the transmission
 * CR.TXP started; ne2km_receive writes a frame from the wire into the ring
 * (returns as ne2k_model_inject documents); ne2km_ring_can_take_max tells
 * whether a full-size frame would fit (QEMU's flow control). */
void ne2km_finish_tx(struct ne2k_model *m);
int ne2km_receive(struct ne2k_model *m, const uint8_t *frame, size_t len);
bool ne2km_ring_can_take_max(const struct ne2k_model *m);

#endif
