/* e1000_model: the Intel 82540EM / 82574L as a `bus` provider (see
 * e1000_model.h). Written from the 8254x manual, independently of the
 * nic_dma driver: register numbers are repeated here on purpose, so the
 * model checks the driver rather than sharing its mistakes. */
#include "e1000_model.h"

#include <errno.h>
#include <string.h>

#include "lyra/bus.h"
#include "lyra/component.h"
#include "lyra/inet_csum.h"
#include "lyra/diag.h"
#include "lyra/os.h"

#define WHO "e1000_model"

/* ----- what the manual defines --------------------------------------------- */

#define MMIO_SIZE (128u * 1024u)
#define REG_SPACE 0x8000u /* registers kept; above reads 0 */

#define R_CTRL 0x0000
#define R_STATUS 0x0008
#define R_EECD 0x0010
#define R_EERD 0x0014
#define R_ICR 0x00c0
#define R_ICS 0x00c8
#define R_IMS 0x00d0
#define R_IMC 0x00d8
#define R_RCTL 0x0100
#define R_TCTL 0x0400
#define R_RDBAL 0x2800
#define R_RDBAH 0x2804
#define R_RDLEN 0x2808
#define R_RDH 0x2810
#define R_RDT 0x2818
#define R_TDBAL 0x3800
#define R_TDBAH 0x3804
#define R_TDLEN 0x3808
#define R_TDH 0x3810
#define R_TDT 0x3818
#define R_STATS_LO 0x4000 /* statistics: read to clear */
#define R_STATS_HI 0x4100
#define R_MPC 0x4010
#define R_RNBC 0x40a0
#define R_RXCSUM 0x5000
#define R_MTA 0x5200
#define R_RAL0 0x5400
#define N_RA 16

#define CTRL_RST (1u << 26)
#define STATUS_FD (1u << 0)
#define STATUS_LU (1u << 1)
#define STATUS_SPEED_1000 (2u << 6)
#define ICR_TXDW (1u << 0)
#define ICR_TXQE (1u << 1)
#define ICR_LSC (1u << 2)
#define ICR_RXDMT0 (1u << 4)
#define ICR_RXO (1u << 6)
#define ICR_RXT0 (1u << 7)
#define RCTL_EN (1u << 1)
#define RCTL_UPE (1u << 3)
#define RCTL_MPE (1u << 4)
#define RCTL_LPE (1u << 5)
#define RCTL_BAM (1u << 15)
#define RCTL_BSEX (1u << 25)
#define RCTL_SECRC (1u << 26)
#define TCTL_EN (1u << 1)
#define TCTL_PSP (1u << 3)
#define RXCSUM_IPOFLD (1u << 8)
#define RXCSUM_TUOFLD (1u << 9)
#define RAH_AV (1u << 31)

#define PCI_CMD_MASTER 0x0004

#define TXD_CMD_EOP 0x01
#define TXD_CMD_RS 0x08
#define TXD_CMD_DEXT 0x20
#define TXD_STA_DD 0x01
#define TXD_POPTS_IXSM 0x01
#define TXD_POPTS_TXSM 0x02
#define RXD_STA_DD 0x01
#define RXD_STA_EOP 0x02
#define RXD_STA_IXSM 0x04
#define RXD_STA_TCPCS 0x20
#define RXD_STA_IPCS 0x40
#define RXD_ERR_TCPE 0x20
#define RXD_ERR_IPE 0x40

#define ETH_ZLEN 60
#define FRAME_STD 1514
#define FRAME_JUMBO 16384
#define TXBUF_MAX 16384
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
    uint32_t map_hint;

    /* transmit assembly (one frame across descriptors) */
    uint8_t txbuf[TXBUF_MAX];
    uint32_t txlen;
    bool tx_in_frame, tx_fault, tx_big;
    uint8_t tx_popts;
    struct {
        uint8_t ipcss, ipcso, tucss, tucso;
        uint16_t ipcse, tucse;
    } ctx;

    /* transmitted frames without a link */
    uint8_t *cap;
    uint32_t *cap_len;
    uint32_t cap_head, cap_count;

    uint8_t rxbuf[FRAME_JUMBO + 64];
    struct model_stats st;
};

/* ----- helpers ---------------------------------------------------------- */

static uint16_t ld16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t ld32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t ld64le(const uint8_t *p)
{
    return ld32le(p) | (uint64_t)ld32le(p + 4) << 32;
}
static void st16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static uint16_t ld16be(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t crc32_eth(const uint8_t *p, size_t len)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static uint32_t *reg(struct e1000_model *m, uint32_t off)
{
    return &m->regs[off / 4];
}

static bool master_on(const struct e1000_model *m)
{
    return (ld16le(&m->cfg[4]) & PCI_CMD_MASTER) != 0;
}

/* Host memory behind [bus, bus+len), or NULL: a DMA fault. */
static uint8_t *dma_ptr(struct e1000_model *m, uint64_t bus, uint64_t len)
{
    if (len == 0)
        len = 1;
    if (bus >= ARENA_BUS && bus - ARENA_BUS < m->dma_mem && m->arena) {
        uint64_t off = bus - ARENA_BUS;
        for (unsigned i = 0; i < m->nallocs; i++) {
            const struct dma_region *a = &m->allocs[i];
            if (a->live && off >= a->off && off - a->off <= a->size &&
                len <= a->size - (off - a->off))
                return m->arena + off;
        }
        return NULL;
    }
    if (bus >= MAP_BUS && m->maps) {
        uint64_t idx = (bus - MAP_BUS) / MAP_WINDOW;
        if (idx >= m->map_slots)
            return NULL;
        const struct dma_mapping *e = &m->maps[idx];
        if (!e->live || bus < e->bus || bus - e->bus > e->len || len > e->len - (bus - e->bus))
            return NULL;
        return (uint8_t *)(uintptr_t)(e->p + (bus - e->bus));
    }
    return NULL;
}

/* ----- reset and EEPROM ---------------------------------------------------- */

static void eeprom_init(struct e1000_model *m)
{
    memset(m->eeprom, 0, sizeof(m->eeprom));
    for (int i = 0; i < 3; i++)
        m->eeprom[i] = (uint16_t)(m->mac[2 * i] | m->mac[2 * i + 1] << 8);
    m->eeprom[0x0a] = 0x6400; /* initialization control 1: signature 01b */
    m->eeprom[0x0b] = 0x001e; /* subsystem id */
    m->eeprom[0x0c] = 0x8086; /* subsystem vendor */
    m->eeprom[0x0d] = (uint16_t)(m->variant == V_82574 ? 0x10d3 : 0x100e);
    m->eeprom[0x0e] = 0x8086;
    uint16_t sum = 0;
    for (int i = 0; i < 0x3f; i++)
        sum = (uint16_t)(sum + m->eeprom[i]);
    m->eeprom[0x3f] = (uint16_t)(0xbaba - sum);
}

static void cfg_init(struct e1000_model *m)
{
    uint16_t dev = m->variant == V_82574 ? 0x10d3 : 0x100e;
    memset(m->cfg, 0, sizeof(m->cfg));
    st16le(&m->cfg[0x00], 0x8086);
    st16le(&m->cfg[0x02], dev);
    st16le(&m->cfg[0x04], 0x0103); /* as the firmware leaves it: no bus mastering */
    st16le(&m->cfg[0x06], 0x0000);
    m->cfg[0x08] = 0x03;           /* revision */
    m->cfg[0x0b] = 0x02;           /* class: network, ethernet */
    m->bar0 = 0xfebc0000u;
    st16le(&m->cfg[0x2c], 0x8086);
    st16le(&m->cfg[0x2e], 0x001e);
    m->cfg[0x3c] = 11; /* interrupt line */
    m->cfg[0x3d] = 1;  /* INTA */
}

static void tx_assembly_reset(struct e1000_model *m)
{
    m->txlen = 0;
    m->tx_in_frame = m->tx_fault = m->tx_big = false;
    m->tx_popts = 0;
}

/* Every register to its default (manual 13.4.1). With quirks=qemu this is
 * the power-on state only, with RAL0/RAH0 preloaded with the MAC as QEMU
 * does; with quirks=datasheet it is also what CTRL.RST does, and the
 * receive addresses stay empty (RAH.AV clear) until the driver writes them. */
static void device_reset(struct e1000_model *m)
{
    memset(m->regs, 0, sizeof(m->regs));
    m->icr = m->ims = 0;
    *reg(m, R_CTRL) = 0x00000041u; /* FD, SLU: as after the EEPROM load */
    if (!m->datasheet) {
        *reg(m, R_RAL0) =
            ld32le((const uint8_t[]){m->mac[0], m->mac[1], m->mac[2], m->mac[3]});
        *reg(m, R_RAL0 + 4) = (uint32_t)(m->mac[4] | m->mac[5] << 8) | RAH_AV;
    }
    memset(&m->ctx, 0, sizeof(m->ctx));
    tx_assembly_reset(m);
    m->st.resets++;
}

static uint32_t eerd_write(struct e1000_model *m, uint32_t v)
{
    if (!(v & 1))
        return v & ~(m->variant == V_82574 ? 2u : 0x10u);
    unsigned addr;
    uint32_t done;
    if (m->variant == V_82574) {
        addr = (v >> 2) & 0x3fff;
        done = 1u << 1;
        v &= 0xfffcu;
    } else {
        addr = (v >> 8) & 0xff;
        done = 1u << 4;
        v &= 0xff00u;
    }
    uint16_t data = addr < 64 ? m->eeprom[addr] : 0xffff;
    return (uint32_t)data << 16 | v | done;
}

/* ----- transmit ------------------------------------------------------------ */

static void tx_emit(struct e1000_model *m, const uint8_t *f, uint32_t len)
{
    m->st.tx_frames++;
    m->st.tx_bytes += len;
    if (m->link) {
        if (m->os.ops->link_send(m->os.self, m->link, f, len))
            m->st.tx_link_drop++;
        return;
    }
    if (m->cap_count >= m->tx_capture) {
        m->st.tx_capture_drop++;
        return;
    }
    uint32_t slot = (m->cap_head + m->cap_count) % m->tx_capture;
    uint32_t k = len < CAP_SLOT ? len : CAP_SLOT;
    memcpy(m->cap + (size_t)slot * CAP_SLOT, f, k);
    m->cap_len[slot] = len;
    m->cap_count++;
}

/* Checksum from css to cse (inclusive; 0: the end) stored at cso, over
 * whatever the field held (the pseudo-header sum the driver put there). */
static void insert_csum(struct e1000_model *m, uint8_t *f, uint32_t len, uint32_t css,
                        uint32_t cso, uint32_t cse)
{
    uint32_t end = cse ? cse + 1 : len;
    if (end > len)
        end = len;
    if (css >= end || cso + 2 > len) {
        m->st.tx_bad_desc++;
        return;
    }
    uint16_t c = (uint16_t)~lyra_csum_fold(lyra_csum_add(f + css, end - css, 0));
    if (c == 0)
        c = 0xffff;
    f[cso] = (uint8_t)(c >> 8);
    f[cso + 1] = (uint8_t)c;
    m->st.tx_csum_inserted++;
}

static void tx_end_of_packet(struct e1000_model *m)
{
    uint32_t len = m->txlen;
    if (m->tx_fault) {
        /* counted in dma_faults when it happened */
    } else if (m->tx_big) {
        m->st.tx_oversize++;
    } else {
        if (m->tx_popts & TXD_POPTS_IXSM)
            insert_csum(m, m->txbuf, len, m->ctx.ipcss, m->ctx.ipcso, m->ctx.ipcse);
        if (m->tx_popts & TXD_POPTS_TXSM)
            insert_csum(m, m->txbuf, len, m->ctx.tucss, m->ctx.tucso, m->ctx.tucse);
        if (len < ETH_ZLEN && (*reg(m, R_TCTL) & TCTL_PSP)) {
            memset(m->txbuf + len, 0, ETH_ZLEN - len);
            len = ETH_ZLEN;
            m->st.tx_padded++;
        }
        tx_emit(m, m->txbuf, len);
    }
    tx_assembly_reset(m);
}

/* One descriptor; returns whether it asked for status (RS). */
static bool tx_desc(struct e1000_model *m, const uint8_t *d)
{
    uint32_t w2 = ld32le(d + 8);
    uint8_t cmd = d[11];
    bool dext = (cmd & TXD_CMD_DEXT) != 0;
    unsigned dtyp = (w2 >> 20) & 0xf;
    if (dext && dtyp == 0) { /* TCP/IP context */
        m->ctx.ipcss = d[0];
        m->ctx.ipcso = d[1];
        m->ctx.ipcse = ld16le(d + 2);
        m->ctx.tucss = d[4];
        m->ctx.tucso = d[5];
        m->ctx.tucse = ld16le(d + 6);
        return (cmd & TXD_CMD_RS) != 0;
    }
    uint32_t len;
    uint8_t popts = 0;
    if (!dext) {
        len = ld16le(d + 8);
    } else if (dtyp == 1) {
        len = w2 & 0xfffff;
        popts = d[13];
    } else {
        m->st.tx_bad_desc++;
        m->tx_fault = true; /* unknown type: the frame is lost */
        len = 0;
    }
    if (!m->tx_in_frame) {
        m->tx_in_frame = true;
        m->tx_popts = popts; /* POPTS counts on a packet's first descriptor */
    }
    if (len && !m->tx_fault && !m->tx_big) {
        if (len > TXBUF_MAX - m->txlen) {
            m->tx_big = true;
        } else {
            const uint8_t *src = dma_ptr(m, ld64le(d), len);
            if (!src) {
                m->st.dma_faults++;
                m->tx_fault = true;
            } else {
                memcpy(m->txbuf + m->txlen, src, len);
                m->txlen += len;
            }
        }
    }
    if (cmd & TXD_CMD_EOP)
        tx_end_of_packet(m);
    return (cmd & TXD_CMD_RS) != 0;
}

/* Runs the transmit ring from TDH to TDT (as QEMU does on TDT/TCTL writes). */
static void tx_run(struct e1000_model *m)
{
    if (!(*reg(m, R_TCTL) & TCTL_EN))
        return;
    uint32_t n = *reg(m, R_TDLEN) / 16;
    uint32_t *tdh = reg(m, R_TDH), tdt = *reg(m, R_TDT);
    if (n == 0 || *tdh == tdt)
        return;
    if (!master_on(m)) {
        m->st.dma_refused++;
        return;
    }
    if (*tdh >= n || tdt >= n) {
        m->st.ring_errors++;
        return;
    }
    uint64_t base = (uint64_t)*reg(m, R_TDBAH) << 32 | *reg(m, R_TDBAL);
    bool any = false;
    while (*tdh != tdt) {
        uint8_t *d = dma_ptr(m, base + (uint64_t)*tdh * 16, 16);
        if (!d) {
            m->st.dma_faults++;
            return; /* the ring itself is unreachable: stop here */
        }
        if (tx_desc(m, d)) {
            d[12] |= TXD_STA_DD;
            any = true;
        }
        *tdh = *tdh + 1 == n ? 0 : *tdh + 1;
    }
    m->icr |= ICR_TXQE | (any ? ICR_TXDW : 0);
}

/* ----- receive ------------------------------------------------------------- */

static bool mta_hit(struct e1000_model *m, const uint8_t *dst)
{
    unsigned mo = (*reg(m, R_RCTL) >> 12) & 3;
    static const unsigned shift[4] = {4, 3, 2, 0};
    uint32_t h = ((uint32_t)dst[4] >> shift[mo] | (uint32_t)dst[5] << (8 - shift[mo])) & 0xfff;
    return (*reg(m, R_MTA + 4 * (h >> 5)) >> (h & 31)) & 1;
}

static bool rx_accept(struct e1000_model *m, const uint8_t *dst)
{
    uint32_t rctl = *reg(m, R_RCTL);
    static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (!memcmp(dst, bc, 6))
        return (rctl & (RCTL_BAM | RCTL_MPE)) != 0;
    if (dst[0] & 1)
        return (rctl & RCTL_MPE) || mta_hit(m, dst);
    if (rctl & RCTL_UPE)
        return true;
    uint32_t lo = ld32le(dst), hi = ld16le(dst + 4);
    for (unsigned i = 0; i < N_RA; i++) {
        uint32_t rah = *reg(m, R_RAL0 + 8 * i + 4);
        if ((rah & RAH_AV) && *reg(m, R_RAL0 + 8 * i) == lo && (rah & 0xffff) == hi)
            return true;
    }
    return false;
}

/* RXCSUM: IP header and TCP/UDP checksums of an IPv4 frame. */
static void rx_csum(struct e1000_model *m, const uint8_t *f, uint32_t len, uint8_t *sta,
                    uint8_t *err)
{
    uint32_t rx = *reg(m, R_RXCSUM);
    if (!(rx & (RXCSUM_IPOFLD | RXCSUM_TUOFLD))) {
        *sta |= RXD_STA_IXSM;
        return;
    }
    if (len < 34 || ld16be(f + 12) != 0x0800)
        return;
    const uint8_t *ip = f + 14;
    uint32_t ihl = (uint32_t)(ip[0] & 0xf) * 4;
    if ((ip[0] >> 4) != 4 || ihl < 20 || 14 + ihl > len)
        return;
    uint32_t tot = ld16be(ip + 2);
    if (tot < ihl || 14 + tot > len)
        return;
    if (rx & RXCSUM_IPOFLD) {
        *sta |= RXD_STA_IPCS;
        if (lyra_csum_fold(lyra_csum_add(ip, ihl, 0)) != 0xffff)
            *err |= RXD_ERR_IPE;
    }
    if (!(rx & RXCSUM_TUOFLD) || (ld16be(ip + 6) & 0x3fff))
        return; /* fragments are not checked */
    uint8_t proto = ip[9];
    const uint8_t *l4 = ip + ihl;
    uint32_t l4len = tot - ihl;
    if (!((proto == 6 && l4len >= 20) || (proto == 17 && l4len >= 8)))
        return;
    if (proto == 17 && ld16be(l4 + 6) == 0)
        return; /* UDP without a checksum */
    uint32_t s = lyra_csum_add(ip + 12, 8, 0) + proto + l4len;
    *sta |= RXD_STA_TCPCS;
    if (lyra_csum_fold(lyra_csum_add(l4, l4len, s)) != 0xffff)
        *err |= RXD_ERR_TCPE;
}

static uint32_t rx_buf_size(uint32_t rctl)
{
    unsigned bs = (rctl >> 16) & 3;
    if (rctl & RCTL_BSEX)
        return bs == 1 ? 16384 : bs == 2 ? 8192 : bs == 3 ? 4096 : 2048;
    return bs == 0 ? 2048 : bs == 1 ? 1024 : bs == 2 ? 512 : 256;
}

static int rx_frame(struct e1000_model *m, const uint8_t *frame, size_t flen)
{
    uint32_t rctl = *reg(m, R_RCTL);
    if (!(rctl & RCTL_EN)) {
        m->st.rx_disabled++;
        return -ENETDOWN;
    }
    if (!master_on(m)) {
        m->st.dma_refused++;
        return -EIO;
    }
    size_t limit = FRAME_STD;
    if (rctl & RCTL_LPE)
        limit = FRAME_JUMBO - 4;
    else if (flen >= 14 && ld16be(frame + 12) == 0x8100)
        limit = FRAME_STD + 4;
    if (flen > limit) {
        m->st.rx_oversize++;
        return -EMSGSIZE;
    }
    uint8_t pad[ETH_ZLEN + 4];
    uint32_t len = (uint32_t)flen;
    const uint8_t *f = frame;
    if (len < ETH_ZLEN) {
        memset(pad, 0, sizeof(pad));
        memcpy(pad, frame, len);
        f = pad;
        len = ETH_ZLEN;
        m->st.rx_padded++;
    }
    if (!rx_accept(m, f)) {
        m->st.rx_filtered++;
        return -EACCES;
    }
    uint8_t fcs[4];
    uint32_t total = len;
    if (!(rctl & RCTL_SECRC)) {
        uint32_t c = crc32_eth(f, len);
        for (int i = 0; i < 4; i++)
            fcs[i] = (uint8_t)(c >> (8 * i));
        total += 4;
    }
    uint32_t n = *reg(m, R_RDLEN) / 16;
    uint32_t rdh = *reg(m, R_RDH), rdt = *reg(m, R_RDT);
    uint32_t bsize = rx_buf_size(rctl);
    uint32_t need = (total + bsize - 1) / bsize;
    uint32_t avail = (n && rdh < n && rdt < n) ? (rdt + n - rdh) % n : 0;
    if (avail < need) {
        m->st.rx_overflow++;
        *reg(m, R_RNBC) += 1;
        *reg(m, R_MPC) += 1;
        m->icr |= ICR_RXO;
        return -ENOBUFS;
    }
    uint64_t base = (uint64_t)*reg(m, R_RDBAH) << 32 | *reg(m, R_RDBAL);
    /* check every address before writing anything: a fault drops the frame */
    uint8_t *desc[FRAME_JUMBO / 256 + 2];
    uint8_t *buf[FRAME_JUMBO / 256 + 2];
    for (uint32_t i = 0, h = rdh; i < need; i++, h = h + 1 == n ? 0 : h + 1) {
        uint32_t chunk = total - i * bsize < bsize ? total - i * bsize : bsize;
        desc[i] = dma_ptr(m, base + (uint64_t)h * 16, 16);
        buf[i] = desc[i] ? dma_ptr(m, ld64le(desc[i]), chunk) : NULL;
        if (!buf[i]) {
            m->st.dma_faults++;
            return -EFAULT;
        }
    }
    uint8_t sta = 0, err = 0;
    rx_csum(m, f, len, &sta, &err);
    for (uint32_t i = 0, off = 0; i < need; i++) {
        uint32_t chunk = total - off < bsize ? total - off : bsize;
        /* bytes of the frame, then of the FCS */
        uint32_t from_f = off < len ? (len - off < chunk ? len - off : chunk) : 0;
        memcpy(buf[i], f + off, from_f);
        if (chunk > from_f)
            memcpy(buf[i] + from_f, fcs + (off + from_f - len), chunk - from_f);
        uint8_t *d = desc[i];
        st16le(d + 8, (uint16_t)chunk);
        st16le(d + 10, 0);
        d[13] = i + 1 == need ? err : 0;
        st16le(d + 14, 0);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        d[12] = (uint8_t)(RXD_STA_DD | (i + 1 == need ? RXD_STA_EOP | sta : 0));
        off += chunk;
    }
    *reg(m, R_RDH) = (rdh + need) % n;
    m->icr |= ICR_RXT0;
    if (avail - need <= n / 2)
        m->icr |= ICR_RXDMT0;
    m->st.rx_frames++;
    m->st.rx_bytes += len;
    return 0;
}

/* ----- bus ops ------------------------------------------------------------- */

static int b_info(void *self, struct lyra_bus_info *info)
{
    struct e1000_model *m = self;
    memset(info, 0, sizeof(*info));
    info->vendor = 0x8086;
    info->device = ld16le(&m->cfg[2]);
    info->is_pci = 1;
    info->has_mmio = 1;
    info->irq = m->cfg[0x3c];
    info->mmio_size = MMIO_SIZE;
    return 0;
}

/* no I/O BAR is modelled */
static uint8_t b_inb(void *self, uint32_t port)
{
    ((struct e1000_model *)self)->st.bad_access++;
    return 0xff;
}
static uint16_t b_inw(void *self, uint32_t port)
{
    ((struct e1000_model *)self)->st.bad_access++;
    return 0xffff;
}
static uint32_t b_inl(void *self, uint32_t port)
{
    ((struct e1000_model *)self)->st.bad_access++;
    return 0xffffffffu;
}
static void b_outb(void *self, uint32_t port, uint8_t v)
{
    ((struct e1000_model *)self)->st.bad_access++;
}
static void b_outw(void *self, uint32_t port, uint16_t v)
{
    ((struct e1000_model *)self)->st.bad_access++;
}
static void b_outl(void *self, uint32_t port, uint32_t v)
{
    ((struct e1000_model *)self)->st.bad_access++;
}
static void b_insw(void *self, uint32_t port, void *buf, size_t count)
{
    ((struct e1000_model *)self)->st.bad_access++;
    memset(buf, 0xff, count * 2);
}
static void b_outsw(void *self, uint32_t port, const void *buf, size_t count)
{
    ((struct e1000_model *)self)->st.bad_access++;
}

static uint32_t b_read32(void *self, uint32_t off)
{
    struct e1000_model *m = self;
    if ((off & 3) || off >= MMIO_SIZE) {
        m->st.bad_access++;
        return 0;
    }
    if (off >= REG_SPACE)
        return 0;
    uint32_t v;
    switch (off) {
    case R_STATUS:
        return STATUS_FD | STATUS_SPEED_1000 | (m->link_up ? STATUS_LU : 0);
    case R_ICR:
        v = m->icr;
        m->icr = 0; /* read to clear */
        return v;
    case R_IMS:
        return m->ims;
    case R_IMC:
    case R_ICS:
        return 0; /* write-only */
    default:
        v = *reg(m, off);
        if (off >= R_STATS_LO && off < R_STATS_HI)
            *reg(m, off) = 0;
        return v;
    }
}

static void b_write32(void *self, uint32_t off, uint32_t v)
{
    struct e1000_model *m = self;
    if ((off & 3) || off >= MMIO_SIZE) {
        m->st.bad_access++;
        return;
    }
    if (off >= REG_SPACE)
        return;
    switch (off) {
    case R_CTRL:
        if (v & CTRL_RST) {
            if (m->datasheet) /* QEMU ignores it: nothing is reset */
                device_reset(m);
            else
                m->st.resets_ignored++;
            v &= ~CTRL_RST; /* self-clearing */
        }
        *reg(m, off) = v;
        return;
    case R_STATUS:
        return;
    case R_EERD:
        *reg(m, off) = eerd_write(m, v);
        return;
    case R_ICR:
        m->icr &= ~v;
        return;
    case R_ICS:
        m->icr |= v;
        return;
    case R_IMS:
        m->ims |= v;
        return;
    case R_IMC:
        m->ims &= ~v;
        return;
    case R_RDLEN:
    case R_TDLEN:
        *reg(m, off) = v & 0xfff80u;
        return;
    case R_RDH:
    case R_RDT:
    case R_TDH:
        *reg(m, off) = v & 0xffff;
        return;
    case R_TDT:
        *reg(m, off) = v & 0xffff;
        tx_run(m);
        return;
    case R_TCTL:
        *reg(m, off) = v;
        tx_run(m);
        return;
    default:
        if (off >= R_STATS_LO && off < R_STATS_HI)
            return; /* statistics are read-only */
        *reg(m, off) = v;
        return;
    }
}

static uint32_t b_cfg_read(void *self, uint32_t off, unsigned size)
{
    struct e1000_model *m = self;
    if ((size != 1 && size != 2 && size != 4) || off + size > sizeof(m->cfg) || (off & (size - 1)))
        return 0xffffffffu;
    if (off == 0x10 && size == 4)
        return m->bar0;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)m->cfg[off + i] << (8 * i);
    return v;
}

static void b_cfg_write(void *self, uint32_t off, unsigned size, uint32_t v)
{
    struct e1000_model *m = self;
    if ((size != 1 && size != 2 && size != 4) || off + size > sizeof(m->cfg) || (off & (size - 1)))
        return;
    if (off == 0x10 && size == 4) { /* BAR0 sizing */
        m->bar0 = (v & ~(MMIO_SIZE - 1)) & 0xfffffff0u;
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        uint32_t a = off + i;
        uint8_t b = (uint8_t)(v >> (8 * i));
        if (a == 0x04)
            m->cfg[a] = b & 0x47; /* IO, MEM, MASTER, PARITY... */
        else if (a == 0x05)
            m->cfg[a] = b & 0x05; /* SERR, INTx disable */
        else if (a == 0x3c)
            m->cfg[a] = b;
    }
    if (master_on(m))
        tx_run(m); /* as if the ring was waiting for the bus */
}

static void *b_dma_alloc(void *self, size_t size, size_t align, uint64_t *bus)
{
    struct e1000_model *m = self;
    if (!m->arena || !size || m->nallocs >= MAX_ALLOCS)
        return NULL;
    if (align < 16)
        align = 16;
    if (align & (align - 1))
        return NULL;
    uint64_t off = (m->arena_used + align - 1) & ~((uint64_t)align - 1);
    if (off > m->dma_mem || size > m->dma_mem - off)
        return NULL;
    m->allocs[m->nallocs++] = (struct dma_region){off, size, true};
    m->arena_used = off + size;
    memset(m->arena + off, 0, size);
    if (bus)
        *bus = ARENA_BUS + off;
    return m->arena + off;
}

static void b_dma_free(void *self, void *p, size_t size)
{
    struct e1000_model *m = self;
    if (!p || !m->arena)
        return;
    uint64_t off = (uint64_t)((uint8_t *)p - m->arena);
    bool live = false;
    for (unsigned i = 0; i < m->nallocs; i++) {
        if (m->allocs[i].live && m->allocs[i].off == off)
            m->allocs[i].live = false;
        live |= m->allocs[i].live;
    }
    if (!live) { /* the arena is a bump allocator: empty again */
        m->nallocs = 0;
        m->arena_used = 0;
    }
}

static bool in_arena(const struct e1000_model *m, const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)m->arena, q = (uintptr_t)p;
    return m->arena && q >= a && q - a < m->dma_mem && len <= m->dma_mem - (q - a);
}

static int b_dma_map(void *self, const void *p, size_t len, uint64_t *bus)
{
    struct e1000_model *m = self;
    if (!p || !len || len > MAP_WINDOW - 4096)
        return -EINVAL;
    if (in_arena(m, p, len)) {
        *bus = ARENA_BUS + (uint64_t)((const uint8_t *)p - m->arena);
        return 0;
    }
    if (!m->maps)
        return -EFAULT;
    for (uint32_t k = 0; k < m->map_slots; k++) {
        uint32_t i = (m->map_hint + k) % m->map_slots;
        struct dma_mapping *e = &m->maps[i];
        if (e->live)
            continue;
        e->p = p;
        e->len = len;
        e->bus = MAP_BUS + (uint64_t)i * MAP_WINDOW + ((uintptr_t)p & 0xfff);
        e->live = true;
        m->map_hint = (i + 1) % m->map_slots;
        *bus = e->bus;
        return 0;
    }
    m->st.dma_map_full++;
    return -ENOSPC;
}

static void b_dma_unmap(void *self, const void *p, size_t len)
{
    struct e1000_model *m = self;
    if (!p || in_arena(m, p, len) || !m->maps)
        return;
    /* mappings are released soon after they are made: search backwards
     * from the newest */
    for (uint32_t k = 0; k < m->map_slots; k++) {
        uint32_t i = (m->map_hint + m->map_slots - 1 - k) % m->map_slots;
        struct dma_mapping *e = &m->maps[i];
        if (e->live && e->p == p && e->len == len) {
            e->live = false;
            return;
        }
    }
}

static bool b_irq_pending(void *self)
{
    struct e1000_model *m = self;
    return (m->icr & m->ims) != 0;
}

static void b_irq_enable(void *self, bool on)
{
    ((struct e1000_model *)self)->irq_on = on;
}

static void b_delay_us(void *self, unsigned us)
{
    ((struct e1000_model *)self)->time_us += us;
}

static const struct lyra_bus_ops e1000_model_bus_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_BUS_IFACE, LYRA_BUS_MAJOR, LYRA_BUS_MINOR, struct lyra_bus_ops),
    .info = b_info,
    .inb = b_inb,
    .inw = b_inw,
    .inl = b_inl,
    .outb = b_outb,
    .outw = b_outw,
    .outl = b_outl,
    .insw = b_insw,
    .outsw = b_outsw,
    .read32 = b_read32,
    .write32 = b_write32,
    .cfg_read = b_cfg_read,
    .cfg_write = b_cfg_write,
    .dma_alloc = b_dma_alloc,
    .dma_free = b_dma_free,
    .dma_map = b_dma_map,
    .dma_unmap = b_dma_unmap,
    .irq_pending = b_irq_pending,
    .irq_enable = b_irq_enable,
    .delay_us = b_delay_us,
};

static int b_attach(void *self, const void *events, void *user)
{
    struct e1000_model *m = self;
    const struct lyra_bus_events *ev = events;
    if (ev && ev->hdr.major != LYRA_BUS_MAJOR)
        return -EPROTO;
    if (m->drv)
        return -EBUSY;
    m->ev = ev;
    m->drv = user;
    return 0;
}

/* ----- test API ------------------------------------------------------------ */

int e1000_model_inject(void *self, const void *frame, size_t len)
{
    struct e1000_model *m = self;
    if (!m->started || (!frame && len))
        return -ENETDOWN;
    return rx_frame(m, frame, len);
}

size_t e1000_model_take_tx(void *self, void *buf, size_t cap)
{
    struct e1000_model *m = self;
    if (!m->cap_count)
        return 0;
    uint32_t slot = m->cap_head;
    size_t len = m->cap_len[slot];
    size_t k = len < cap ? len : cap;
    if (k > CAP_SLOT)
        k = CAP_SLOT;
    memcpy(buf, m->cap + (size_t)slot * CAP_SLOT, k);
    m->cap_head = (m->cap_head + 1) % m->tx_capture;
    m->cap_count--;
    return len;
}

void e1000_model_set_link(void *self, bool up)
{
    struct e1000_model *m = self;
    if (m->link_up == up)
        return;
    m->link_up = up;
    m->icr |= ICR_LSC;
}

/* ----- lifecycle ----------------------------------------------------------- */

enum {
    P_LINK,
    P_PCAP,
    P_MAC,
    P_VARIANT,
    P_LOSS,
    P_DUP,
    P_REORDER,
    P_REORDER_DEPTH,
    P_DELAY,
    P_CORRUPT,
    P_RATE,
    P_DMA_MEM,
    P_MAP_SLOTS,
    P_TX_CAPTURE,
    P_QUIRKS,
    P__COUNT
};

/* Rules the parameter table cannot say (check hook, ABI 0.1): the quirks
 * enumeration and the link's syntax, so `lyranet check` refuses what create
 * and the link's open would. */
static int model_check(const struct lyra_value *p, struct lyra_diag *d)
{
    int bad = 0;
    const char *q = p[P_QUIRKS].u.s;
    if (q && strcmp(q, "qemu") && strcmp(q, "datasheet")) {
        lyra_diag_add(d, LYRA_E_RANGE, P_QUIRKS + 1, "'%s' is neither qemu nor datasheet", q);
        bad++;
    }
    const char *l = p[P_LINK].set ? p[P_LINK].u.s : NULL;
    if (l && !((!strncmp(l, "wire:", 5) && l[5]) || (!strncmp(l, "tap:", 4) && l[4]))) {
        lyra_diag_add(d, LYRA_E_RANGE, P_LINK + 1, "'%s': expected wire:NAME or tap:IFNAME", l);
        bad++;
    } else if (l && ((l[0] == 't' && strlen(l + 4) > 15) || strlen(l) > 95)) {
        /* Linux interface names: 15 characters; wire names: 90 */
        lyra_diag_add(d, LYRA_E_RANGE, P_LINK + 1, "'%s': name too long (tap: 15, wire: 90)", l);
        bad++;
    }
    return bad;
}

static int model_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct e1000_model *m = self;
    memset(m, 0, sizeof(*m));
    m->link_spec = p[P_LINK].set ? p[P_LINK].u.s : NULL;
    m->lp.pcap = p[P_PCAP].set ? p[P_PCAP].u.s : NULL;
    memcpy(m->mac, p[P_MAC].u.mac, 6);
    m->lp.loss_ppm = (uint32_t)p[P_LOSS].u.i;
    m->lp.dup_ppm = (uint32_t)p[P_DUP].u.i;
    m->lp.reorder_ppm = (uint32_t)p[P_REORDER].u.i;
    m->lp.reorder_depth = (uint32_t)p[P_REORDER_DEPTH].u.i;
    m->lp.delay_ns = (uint64_t)p[P_DELAY].u.i;
    m->lp.corrupt_ppm = (uint32_t)p[P_CORRUPT].u.i;
    m->lp.rate_bps = (uint64_t)p[P_RATE].u.i;
    m->dma_mem = (uint64_t)p[P_DMA_MEM].u.i;
    m->map_slots = (uint32_t)p[P_MAP_SLOTS].u.i;
    m->tx_capture = (uint32_t)p[P_TX_CAPTURE].u.i;
    int64_t v = p[P_VARIANT].u.i;
    if (v != V_82540 && v != V_82574) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "e1000_model.variant: %lld is neither 82540 (e1000) nor 82574 (e1000e)",
                      (long long)v);
        return -EINVAL;
    }
    m->variant = (enum variant)v;
    const char *q = p[P_QUIRKS].u.s;
    if (!strcmp(q, "datasheet")) {
        m->datasheet = true;
    } else if (strcmp(q, "qemu")) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "e1000_model.quirks: '%s' is neither qemu nor datasheet", q);
        return -EINVAL;
    }
    if (m->mac[0] & 1) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "e1000_model.mac: a station MAC must be unicast (first octet even)");
        return -EINVAL;
    }
    eeprom_init(m);
    cfg_init(m);
    device_reset(m);
    m->st.resets = 0;
    return 0;
}

static void model_release(struct e1000_model *m)
{
    if (m->link) {
        m->os.ops->link_close(m->os.self, m->link);
        m->link = NULL;
    }
    if (m->cap)
        m->os.ops->mem_free(m->os.self, m->cap);
    if (m->cap_len)
        m->os.ops->mem_free(m->os.self, m->cap_len);
    if (m->maps)
        m->os.ops->mem_free(m->os.self, m->maps);
    if (m->arena)
        m->os.ops->mem_free(m->os.self, m->arena);
    m->cap = NULL;
    m->cap_len = NULL;
    m->maps = NULL;
    m->arena = NULL;
    m->nallocs = 0;
    m->arena_used = 0;
    m->cap_count = m->cap_head = 0;
}

static int model_start(void *self)
{
    struct e1000_model *m = self;
    if (!m->os.ops)
        return -EINVAL;
    if (m->started)
        return 0;
    const struct lyra_os_ops *o = m->os.ops;
    if (m->link_spec && (o->hdr.minor < 1 || !o->link_open)) {
        lyra_log(&m->os, LYRA_LOG_ERROR, WHO,
                 "link=%s asked for, but this os provides no links (os 1.1 link ops)",
                 m->link_spec);
        return -ENOTSUP;
    }
    if (m->lp.pcap && !m->link_spec)
        lyra_log(&m->os, LYRA_LOG_WARN, WHO, "pcap=%s ignored: no link", m->lp.pcap);
    m->arena = o->mem_alloc(m->os.self, (size_t)m->dma_mem, 4096);
    m->maps = o->mem_alloc(m->os.self, (size_t)m->map_slots * sizeof(*m->maps),
                           _Alignof(struct dma_mapping));
    if (m->tx_capture) {
        m->cap = o->mem_alloc(m->os.self, (size_t)m->tx_capture * CAP_SLOT, 64);
        m->cap_len = o->mem_alloc(m->os.self, (size_t)m->tx_capture * sizeof(uint32_t), 4);
    }
    if (!m->arena || !m->maps || (m->tx_capture && (!m->cap || !m->cap_len))) {
        lyra_log(&m->os, LYRA_LOG_ERROR, WHO, "cannot allocate %llu bytes of DMA memory",
                 (unsigned long long)m->dma_mem);
        model_release(m);
        return -ENOMEM;
    }
    memset(m->maps, 0, (size_t)m->map_slots * sizeof(*m->maps));
    if (m->link_spec) {
        int r = o->link_open(m->os.self, m->link_spec, &m->lp, &m->link);
        if (r) {
            lyra_log(&m->os, LYRA_LOG_ERROR, WHO, "cannot open link %s (%d)", m->link_spec, r);
            model_release(m);
            return r;
        }
    }
    m->link_up = true; /* the cable is plugged in */
    m->started = true;
    return 0;
}

static void model_stop(void *self)
{
    struct e1000_model *m = self;
    if (!m->started)
        return;
    m->started = false;
    model_release(m);
}

static void model_destroy(void *self)
{
    model_stop(self);
}

static int model_poll(void *self, unsigned budget)
{
    struct e1000_model *m = self;
    if (!m->started)
        return 0;
    int work = 0;
    while (m->link && (unsigned)work < budget) {
        int r = m->os.ops->link_recv(m->os.self, m->link, m->rxbuf, sizeof(m->rxbuf));
        if (r == -EMSGSIZE) {
            m->st.rx_oversize++;
            continue;
        }
        if (r <= 0)
            break;
        (void)rx_frame(m, m->rxbuf, (size_t)r);
        work++;
    }
    if (m->irq_on && m->ev && m->ev->irq && (m->icr & m->ims))
        m->ev->irq(m->drv);
    return work;
}

static void model_stats(void *self, struct lyra_stats_sink *sink)
{
    struct e1000_model *m = self;
#define S(x) lyra_stat(sink, #x, m->st.x);
    MODEL_STATS(S)
#undef S
    uint32_t live = 0;
    for (uint32_t i = 0; m->maps && i < m->map_slots; i++)
        live += m->maps[i].live;
    lyra_stat(sink, "dma_maps_live", live);
    lyra_stat(sink, "tx_captured", m->cap_count);
}

static const struct lyra_provide model_provides[] = {
    {
        .iface = LYRA_BUS_IFACE,
        .major = LYRA_BUS_MAJOR,
        .minor = LYRA_BUS_MINOR,
        .ops = &e1000_model_bus_ops,
        .attach = b_attach,
        .max_users = 1,
        .doc = "the card: PCI config, BAR0 (128 KiB), DMA memory with checked bus addresses",
    },
};

static const struct lyra_slot model_slots[] = {
    {"os", LYRA_OS_IFACE, LYRA_OS_MAJOR, LYRA_OS_MINOR, 1, 1, NULL, NULL,
     "memory (DMA arena), logging, and links (os 1.1) when link is set",
     LYRA_SLOT_STORE(struct e1000_model, os.ops, os.self)},
};

static const struct lyra_param model_params[P__COUNT] = {
    [P_LINK] = {"link", LYRA_P_STRING, NULL, 0, -1,
                "wire:NAME or tap:IFNAME; unset: frames only through the test API"},
    [P_PCAP] = {"pcap", LYRA_P_STRING, NULL, 0, -1, "capture both directions of the link"},
    [P_MAC] = {"mac", LYRA_P_MAC, "02:00:00:00:00:20", 0, -1,
               "the MAC in the card's EEPROM (words 0-2)"},
    [P_VARIANT] = {"variant", LYRA_P_INT, "82540", 82540, 82574,
                   "82540 (e1000, 8086:100e) or 82574 (e1000e, 8086:10d3: EERD differs)"},
    [P_LOSS] = {"loss", LYRA_P_PERCENT, "0%", 0, 1000000, "frames sent that are lost"},
    [P_DUP] = {"dup", LYRA_P_PERCENT, "0%", 0, 1000000, "frames sent twice"},
    [P_REORDER] = {"reorder", LYRA_P_PERCENT, "0%", 0, 1000000, "frames sent out of order"},
    [P_REORDER_DEPTH] = {"reorder_depth", LYRA_P_INT, "3", 1, 1024,
                         "how many frames a reordered one is held behind"},
    [P_DELAY] = {"delay", LYRA_P_DURATION, "0", 0, 60000000000, "one-way delay of the link"},
    [P_CORRUPT] = {"corrupt", LYRA_P_PERCENT, "0%", 0, 1000000, "frames sent with a bit flipped"},
    [P_RATE] = {"rate", LYRA_P_INT, "0", 0, 100000000000, "link rate in bit/s (0: unlimited)"},
    [P_DMA_MEM] = {"dma_mem", LYRA_P_SIZE, "4M", 65536, 1073741824,
                   "DMA arena for dma_alloc (rings and receive buffers)"},
    [P_MAP_SLOTS] = {"map_slots", LYRA_P_INT, "1024", 16, 65536,
                     "dma_map regions live at once"},
    [P_TX_CAPTURE] = {"tx_capture", LYRA_P_INT, "256", 0, 65536,
                      "transmitted frames kept for e1000_model_take_tx when no link is set"},
    [P_QUIRKS] = {"quirks", LYRA_P_STRING, "qemu", 0, -1,
                  "qemu: as QEMU's e1000 (CTRL.RST resets nothing; RAL0/RAH0 hold the MAC "
                  "from power-on); datasheet: as the 8254x manual (CTRL.RST resets every "
                  "register to its default; RAL/RAH empty until the driver writes them)"},
};

LYRA_EXPORT const struct lyra_component lyra_component_e1000_model = {
    LYRA_COMPONENT_HDR,
    .name = "e1000_model",
    .version = "1.0.0",
    .summary = "device model of the Intel 82540EM / 82574L (e1000) behind `bus`",
    .doc = "Emulates the registers, descriptor rings and DMA of the e1000 as the 8254x manual "
           "defines them, attached to a link (wire or tap) or to the test API. DMA bus "
           "addresses are checked: a descriptor pointing outside dma_alloc'd or dma_map'ped "
           "memory is a DMA fault (dma_faults) and its frame is dropped. Without bus "
           "mastering in the PCI command register all DMA is refused (dma_refused). Param "
           "quirks picks QEMU's behaviour (default: CTRL.RST ignored, counted in "
           "resets_ignored; RAL0/RAH0 preloaded with the MAC) or the manual's (CTRL.RST "
           "resets the registers; RAL/RAH empty until written).",
    .provides = model_provides,
    .n_provides = LYRA_COUNT(model_provides),
    .slots = model_slots,
    .n_slots = LYRA_COUNT(model_slots),
    .params = model_params,
    .n_params = LYRA_COUNT(model_params),
    .instance_size = sizeof(struct e1000_model),
    .create = model_create,
    .start = model_start,
    .stop = model_stop,
    .destroy = model_destroy,
    .poll = model_poll,
    .stats = model_stats,
    .check = model_check,
};
