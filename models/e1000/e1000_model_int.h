/* e1000_model internals shared by its files: the instance, the constants
 * that are the model's own choices (not the manual's), and the functions
 * one topic calls in another. Nothing here is part of the component's
 * contract (that is e1000_model.h and `bus`). */
#ifndef E1000_MODEL_INT_H
#define E1000_MODEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e1000_model_regs.h"
#include "lyra/bus.h"
#include "lyra/os.h"

#define WHO "e1000_model"

#define ETH_ZLEN 60
#define FRAME_STD 1514
#define FRAME_JUMBO 16384
#define TXBUF_MAX 16384 /* a packet without TSE gathers at most this */
/* TCP segmentation (manual 3.5): the card keeps HDRLEN bytes of header in
 * an on-chip buffer of 240 bytes (3.5.9); PAYLEN has 20 bits, the model
 * gathers up to 64 KiB of it (an IPv4 datagram's worth; more is dropped as
 * tx_oversize). */
#define TSO_HDR_MAX 240
#define TSO_PAY_MAX 65536
#define TXBUF_TSO (TSO_HDR_MAX + TSO_PAY_MAX)
#define CAP_SLOT 2048

/* bus address windows */
#define ARENA_BUS 0x40000000ull
#define MAP_BUS 0x100000000ull
#define MAP_WINDOW (1ull << 28)
#define MAX_ALLOCS 64

enum variant { V_82540 = 82540, V_82574 = 82574 };

#define MODEL_STATS(X) \
    X(rx_frames)       \
    X(rx_bytes)        \
    X(rx_overflow)     \
    X(rx_oversize)     \
    X(rx_filtered)     \
    X(rx_disabled)     \
    X(rx_padded)       \
    X(tx_frames)       \
    X(tx_bytes)        \
    X(tx_padded)       \
    X(tx_csum_inserted) \
    X(tx_bad_desc)     \
    X(tx_tso_packets)  \
    X(tx_tso_frames)   \
    X(tx_tso_bad)      \
    X(tx_oversize)     \
    X(tx_link_drop)    \
    X(tx_capture_drop) \
    X(dma_faults)      \
    X(dma_refused)     \
    X(dma_map_full)    \
    X(ring_errors)     \
    X(bad_access)      \
    X(resets)          \
    X(resets_ignored)

struct model_stats {
#define F(n) uint64_t n;
    MODEL_STATS(F)
#undef F
};

struct dma_region {
    uint64_t off, size;
    bool live;
};

struct dma_mapping {
    const uint8_t *p;
    uint64_t len, bus;
    uint32_t next; /* the next mapping of its hash bucket, index + 1; 0: none */
    bool live;
};

struct e1000_model {
    struct lyra_os os;
    const struct lyra_bus_events *ev;
    void *drv;

    /* parameters */
    const char *link_spec;
    struct lyra_link_params lp;
    uint8_t mac[6];
    enum variant variant;
    uint64_t dma_mem;
    uint32_t map_slots, tx_capture;
    bool datasheet; /* quirks=datasheet (false: QEMU's behaviour) */

    /* device */
    bool started, link_up, irq_on;
    /* e1000_model_rx_fault: the next frame's last descriptor written back
     * with these instead */
    bool fault_armed;
    uint16_t fault_len;
    uint8_t fault_sta, fault_err;
    /* the frames faults hit, while their buffers hold them (oldest first) */
    struct em_fault_hit {
        const uint8_t *at; /* the frame's first receive buffer */
        uint8_t sta, err;  /* what the descriptor said */
    } fault_hit[8];
    unsigned n_fault_hit;
    struct lyra_link *link;
    uint8_t cfg[256];
    uint32_t bar0;
    uint16_t eeprom[64];
    uint32_t regs[REG_SPACE / 4];
    uint32_t icr, ims;
    uint64_t time_us;

    /* DMA */
    uint8_t *arena;
    uint64_t arena_used;
    struct dma_region allocs[MAX_ALLOCS];
    unsigned nallocs;
    struct dma_mapping *maps;
    uint32_t *map_bucket; /* by host address: a mapping's index + 1, after maps */
    uint32_t map_nbuckets; /* a power of two >= map_slots */
    uint32_t map_hint;

    /* transmit assembly (one packet across descriptors; a TSO packet is
     * cut into frames built in txseg) */
    uint8_t txbuf[TXBUF_TSO];
    uint8_t txseg[FRAME_JUMBO];
    uint32_t txlen;
    bool tx_in_frame, tx_fault, tx_big, tx_tso;
    uint8_t tx_popts;
    struct em_tx_ctx {
        uint8_t ipcss, ipcso, tucss, tucso;
        uint16_t ipcse, tucse;
        uint8_t tucmd, hdrlen; /* TUCMD; HDRLEN (TSE) */
        uint16_t mss;          /* TSE */
        uint32_t paylen;       /* TSE, 20 bits */
    } ctx;

    /* transmitted frames without a link */
    uint8_t *cap;
    uint32_t *cap_len;
    uint32_t cap_head, cap_count;

    uint8_t rxbuf[FRAME_JUMBO + 64];
    struct model_stats st;
};

/* ----- helpers ---------------------------------------------------------- */

static inline uint16_t ld16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t ld32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ld64le(const uint8_t *p)
{
    return ld32le(p) | (uint64_t)ld32le(p + 4) << 32;
}
static inline void st16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline uint16_t ld16be(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline void st16be(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline uint32_t ld32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void st32be(uint8_t *p, uint32_t v)
{
    st16be(p, (uint16_t)(v >> 16));
    st16be(p + 2, (uint16_t)v);
}

static inline uint32_t *reg(struct e1000_model *m, uint32_t off)
{
    return &m->regs[off / 4];
}

static inline bool master_on(const struct e1000_model *m)
{
    return (ld16le(&m->cfg[4]) & PCI_CMD_MASTER) != 0;
}

/* e1000_model_dma.c: host memory behind [bus, bus+len), or NULL (a DMA
 * fault); the bus ops dma_alloc, dma_free, dma_map, dma_unmap. */
uint8_t *em_dma_ptr(struct e1000_model *m, uint64_t bus, uint64_t len);
void *em_dma_alloc(void *self, size_t size, size_t align, uint64_t *bus);
void em_dma_free(void *self, void *p, size_t size);
int em_dma_map(void *self, const void *p, size_t len, uint64_t *bus);
void em_dma_unmap(void *self, const void *p, size_t len);

/* e1000_model_regs.c: power-on state, reset, the bus ops read32, write32,
 * cfg_read, cfg_write. */
void em_eeprom_init(struct e1000_model *m);
void em_cfg_init(struct e1000_model *m);
void em_device_reset(struct e1000_model *m);
uint32_t em_read32(void *self, uint32_t off);
void em_write32(void *self, uint32_t off, uint32_t v);
uint32_t em_cfg_read(void *self, uint32_t off, unsigned size);
void em_cfg_write(void *self, uint32_t off, unsigned size, uint32_t v);

/* e1000_model_tx.c: the transmit ring from TDH to TDT; the frame being
 * assembled across descriptors forgotten. */
void em_tx_run(struct e1000_model *m);
void em_tx_assembly_reset(struct e1000_model *m);
/* One finished frame f of len bytes (room for ETH_ZLEN behind it): the
 * checksums POPTS asked for inserted from the context, padded (PSP), to
 * the link or the capture queue. */
void em_tx_frame_out(struct e1000_model *m, uint8_t *f, uint32_t len);

/* e1000_model_tso.c: the gathered TSE packet cut into frames (manual 3.5),
 * or dropped and counted when the request is inconsistent. */
void em_tso_send(struct e1000_model *m);

/* e1000_model_rx.c: one frame from the wire into the receive ring; 0 or a
 * negative errno as e1000_model_inject documents. */
int em_rx_frame(struct e1000_model *m, const uint8_t *frame, size_t flen);

#endif
