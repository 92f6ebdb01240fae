/* ne2k_model: DP8390 + NE2000 board model behind `bus` (see ne2k_model.h).
 *
 * Register semantics follow the DP8390D datasheet; where QEMU's ne2000
 * differs, the `quirks` parameter picks one side (see ne2k_model.h): the
 * receive count with or without the CRC (and the CRC in the ring), the
 * unicast filter on the PROM or on PAR0-5, transmit ending at once or at
 * the next poll. Both pad short received frames and wrap remote DMA at
 * PSTOP. Everything lives in the instance: card RAM, PROM, a frame buffer
 * and the test transmit queue. */
#include "ne2k_model.h"

#include <errno.h>
#include <string.h>

#include "lyra/bus.h"
#include "lyra/component.h"
#include "lyra/diag.h"
#include "lyra/os.h"
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

/* ----- card memory ------------------------------------------------------- */

static uint8_t mem_read(const struct ne2k_model *m, uint32_t a)
{
    if (a < NE_PROM_SIZE)
        return m->prom[a];
    if (a >= NE_MEM_START && a < NE_MEM_END)
        return m->mem[a - NE_MEM_START];
    return 0xff;
}

static void mem_write(struct ne2k_model *m, uint32_t a, uint8_t v)
{
    if (a >= NE_MEM_START && a < NE_MEM_END)
        m->mem[a - NE_MEM_START] = v;
}

static bool ring_ok(const struct ne2k_model *m)
{
    return m->pstart >= (NE_MEM_START >> 8) && m->pstop <= (NE_MEM_END >> 8) &&
           m->pstart < m->pstop && m->curr >= m->pstart && m->curr < m->pstop &&
           m->bnry >= m->pstart && m->bnry < m->pstop;
}

/* ----- reset ------------------------------------------------------------- */

static void chip_reset(struct ne2k_model *m)
{
    m->cr = CR_STP | CR_RD2;
    m->isr = ISR_RST;
    m->imr = 0;
    m->tcr = TCR_LB0;
    m->dcr = 0;
    m->rcr = 0;
    m->tsr = m->rsr = 0;
    m->rsar = m->rbcr = m->tbcr = 0;
    m->dma_addr = m->dma_count = 0;
    m->dma_mode = DMA_NONE;
    m->stopped = true;
    m->tx_busy = false;
    m->ovw = OVW_NONE;
    memset(m->cntr, 0, sizeof(m->cntr));
    m->st.resets++;
}

static void count_missed(struct ne2k_model *m)
{
    m->st.rx_missed++;
    if (m->cntr[2] < 0xff)
        m->cntr[2]++;
    if (m->cntr[2] & 0x80)
        m->isr |= ISR_CNT;
    m->rsr |= RSR_MPA;
    m->isr |= ISR_RXE;
}

/* ----- transmit ---------------------------------------------------------- */

static void out_frame(struct ne2k_model *m, const uint8_t *f, size_t len)
{
    if (m->link) {
        if (m->os.ops->link_send(m->os.self, m->link, f, len) < 0)
            m->st.link_tx_fail++;
        return;
    }
    if (m->txq_n == NE2K_MODEL_TXQ) {
        m->st.txq_drop++;
        return;
    }
    unsigned k = (m->txq_head + m->txq_n) % NE2K_MODEL_TXQ;
    memcpy(m->txq[k], f, len);
    m->txq_len[k] = (uint16_t)len;
    m->txq_n++;
}

static void finish_tx(struct ne2k_model *m)
{
    uint32_t a = (uint32_t)m->tpsr << 8;
    uint32_t len = m->tbcr;
    m->tx_busy = false;
    m->cr &= (uint8_t)~CR_TXP;
    if (len == 0 || len > TX_MAX || a < NE_MEM_START || a + len > NE_MEM_END) {
        m->st.tx_abort++;
        m->tsr = TSR_ABT;
        m->isr |= ISR_TXE;
        return;
    }
    if (len < ETH_ZLEN)
        m->st.tx_runt++;
    if (m->tcr & TCR_LBMASK) {
        m->st.tx_loopback++; /* looped back inside the chip: not on the wire */
    } else {
        out_frame(m, &m->mem[a - NE_MEM_START], len);
        m->st.tx_frames++;
        m->st.tx_bytes += len;
    }
    m->tsr = TSR_PTX;
    m->isr |= ISR_PTX;
}

/* ----- receive ----------------------------------------------------------- */

/* CRC-32 (IEEE 802.3) of the address, most significant bit first: the
 * DP8390 indexes MAR with its top 6 bits. */
static unsigned mcast_index(const uint8_t *a)
{
    uint32_t crc = 0xffffffffu;
    for (unsigned i = 0; i < 6; i++) {
        uint8_t o = a[i];
        for (unsigned b = 0; b < 8; b++, o >>= 1)
            crc = (crc << 1) ^ ((((crc >> 31) ^ o) & 1) ? 0x04c11db7u : 0);
    }
    return crc >> 26;
}

static bool accept(const struct ne2k_model *m, const uint8_t *d)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (!memcmp(d, bcast, 6))
        return (m->rcr & RCR_AB) != 0;
    if (d[0] & 1) {
        unsigned i = mcast_index(d);
        return (m->rcr & RCR_AM) && (m->mar[i >> 3] & (1u << (i & 7)));
    }
    if (m->rcr & RCR_PRO)
        return true;
    if (!m->datasheet) { /* QEMU compares with the PROM, not PAR0-5 */
        for (unsigned i = 0; i < 6; i++)
            if (d[i] != m->prom[2 * i])
                return false;
        return true;
    }
    return !memcmp(d, m->par, 6);
}

/* The Ethernet FCS: CRC-32 (reflected 0xEDB88320), sent low byte first. */
static uint32_t eth_fcs(const uint8_t *p, size_t len)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (unsigned k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static int receive(struct ne2k_model *m, const uint8_t *frame, size_t len)
{
    if (len > FRAME_MAX) {
        m->st.rx_oversize++;
        return -EMSGSIZE;
    }
    if (m->stopped || (m->tcr & TCR_LBMASK) || m->ovw != OVW_NONE || (m->rcr & RCR_MON)) {
        count_missed(m);
        return -EAGAIN;
    }
    if (len < 6 || !accept(m, frame)) {
        m->st.rx_filtered++;
        return -ENOENT;
    }
    if (!ring_ok(m)) {
        m->st.rx_bad_ring++;
        count_missed(m);
        return -EIO;
    }
    if (frame != m->buf)
        memcpy(m->buf, frame, len);
    if (len < ETH_ZLEN) {
        memset(m->buf + len, 0, ETH_ZLEN - len);
        len = ETH_ZLEN;
        m->st.rx_padded++;
    }
    /* The datasheet's DP8390 stores the frame's FCS after it and counts it;
     * QEMU counts only the frame but leaves room for an FCS when it works
     * out the next page. Either way the frame takes the same pages. */
    if (m->datasheet) {
        uint32_t fcs = eth_fcs(m->buf, len);
        for (unsigned i = 0; i < FCS_LEN; i++)
            m->buf[len + i] = (uint8_t)(fcs >> (8 * i));
    }
    unsigned n = (unsigned)(m->pstop - m->pstart);
    uint32_t total = (uint32_t)len + NE_RXHDR_LEN + (m->datasheet ? FCS_LEN : 0);
    unsigned pages = ((uint32_t)len + NE_RXHDR_LEN + FCS_LEN + NE_PAGE - 1) / NE_PAGE;
    /* Pages the ring may take: up to, not into, the BNRY page. BNRY ==
     * CURR counts as full (the driver keeps BNRY one behind the next page
     * it reads). */
    unsigned room = (unsigned)(m->bnry - m->curr + n) % n;
    if (pages > room) {
        m->st.rx_overflow++;
        m->isr |= ISR_OVW | ISR_RST;
        m->ovw = OVW_LOCKED;
        count_missed(m);
        return -ENOSPC;
    }
    uint8_t status = RSR_PRX | ((m->buf[0] & 1) ? RSR_PHY : 0);
    uint8_t next = (uint8_t)(m->curr + pages);
    if (next >= m->pstop)
        next = (uint8_t)(next - n);
    uint32_t a = (uint32_t)m->curr << 8;
    uint8_t hdr[NE_RXHDR_LEN] = {status, next, (uint8_t)(total & 0xff), (uint8_t)(total >> 8)};
    uint32_t end = (uint32_t)m->pstop << 8;
    for (uint32_t i = 0; i < total; i++) {
        mem_write(m, a, i < NE_RXHDR_LEN ? hdr[i] : m->buf[i - NE_RXHDR_LEN]);
        if (++a == end)
            a = (uint32_t)m->pstart << 8;
    }
    m->curr = next;
    m->rsr = status;
    m->isr |= ISR_PRX;
    m->st.rx_frames++;
    m->st.rx_bytes += len;
    if (m->datasheet)
        m->st.rx_fcs++;
    return 0;
}

/* ----- remote DMA -------------------------------------------------------- */

static void dma_start(struct ne2k_model *m, int mode)
{
    m->dma_addr = m->rsar;
    m->dma_count = m->rbcr;
    m->dma_mode = mode;
    if (m->dma_count == 0) {
        m->dma_mode = DMA_NONE;
        if (!(m->faults & NE2K_FAULT_NO_RDC))
            m->isr |= ISR_RDC;
    }
}

static void dma_advance(struct ne2k_model *m, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++) {
        m->dma_addr++;
        if (m->pstop && m->dma_addr == ((uint32_t)m->pstop << 8))
            m->dma_addr = (uint16_t)(m->pstart << 8);
    }
    m->dma_count = m->dma_count <= bytes ? 0 : (uint16_t)(m->dma_count - bytes);
    if (m->dma_count == 0) {
        m->dma_mode = DMA_NONE;
        if (!(m->faults & NE2K_FAULT_NO_RDC))
            m->isr |= ISR_RDC;
    }
}

/* One data port transfer of 1 or 2 bytes (byte / word mode). */
static uint16_t dma_in(struct ne2k_model *m, unsigned width)
{
    if (m->dma_mode != DMA_READ) {
        m->st.rdma_misuse++;
        return width == 2 ? 0xffff : 0xff;
    }
    uint16_t a = m->dma_addr;
    uint16_t v = mem_read(m, a);
    if (width == 2) {
        uint16_t a2 = (uint16_t)(a + 1);
        if (m->pstop && a2 == ((uint32_t)m->pstop << 8))
            a2 = (uint16_t)(m->pstart << 8);
        v = (uint16_t)(v | (mem_read(m, a2) << 8));
    }
    dma_advance(m, width);
    return v;
}

static void dma_out(struct ne2k_model *m, uint16_t v, unsigned width)
{
    if (m->dma_mode != DMA_WRITE) {
        m->st.rdma_misuse++;
        return;
    }
    uint16_t a = m->dma_addr;
    mem_write(m, a, (uint8_t)(v & 0xff));
    if (width == 2) {
        uint16_t a2 = (uint16_t)(a + 1);
        if (m->pstop && a2 == ((uint32_t)m->pstop << 8))
            a2 = (uint16_t)(m->pstart << 8);
        mem_write(m, a2, (uint8_t)(v >> 8));
    }
    dma_advance(m, width);
}

static unsigned width_of(const struct ne2k_model *m)
{
    return (m->dcr & DCR_WTS) ? 2 : 1;
}

/* ----- registers --------------------------------------------------------- */

static void cr_write(struct ne2k_model *m, uint8_t v)
{
    if (v & CR_STP) {
        if (m->tx_busy) /* a transmission in progress completes first */
            finish_tx(m);
        m->stopped = true;
        m->isr |= ISR_RST;
        if (m->ovw == OVW_LOCKED)
            m->ovw = OVW_STOPPED;
    } else if (v & CR_STA) {
        if (m->stopped && m->ovw == OVW_LOOPBACK)
            m->ovw = OVW_RESTARTED;
        m->stopped = false;
        m->isr &= (uint8_t)~ISR_RST;
    }
    uint8_t run = (v & (CR_STP | CR_STA)) ? (uint8_t)(v & (CR_STP | CR_STA))
                                          : (uint8_t)(m->cr & (CR_STP | CR_STA));
    m->cr = (uint8_t)((v & (CR_PAGEMASK | CR_RDMASK)) | run | (m->cr & CR_TXP));
    uint8_t rd = v & CR_RDMASK;
    if (rd & CR_RD2)
        m->dma_mode = DMA_NONE;
    else if (rd == CR_RD0)
        dma_start(m, DMA_READ);
    else if (rd == CR_RD1)
        dma_start(m, DMA_WRITE);
    else if (rd == CR_SEND) {
        m->st.rdma_send_cmd++; /* "send packet" needs DCR.ARM: not modelled */
        m->dma_mode = DMA_NONE;
    }
    if ((v & CR_TXP) && !(v & CR_STP) && !m->stopped) {
        if (m->tx_busy) {
            m->st.tx_overlap++;
        } else {
            m->tx_busy = true;
            m->cr |= CR_TXP;
            if (!m->tx_defer && !m->datasheet)
                finish_tx(m);
        }
    }
}

static uint8_t reg_read(struct ne2k_model *m, uint32_t r)
{
    if (r == NE_CR)
        return m->cr;
    switch (m->cr >> 6) {
    case 0:
        switch (r) {
        case NE_BNRY: return m->bnry;
        case NE_TSR: return m->tsr;
        case NE_ISR: return m->isr;
        case NE_CRDA0: return (uint8_t)(m->dma_addr & 0xff);
        case NE_CRDA1: return (uint8_t)(m->dma_addr >> 8);
        case NE_RSR: return m->rsr;
        case NE_CNTR0:
        case NE_CNTR1:
        case NE_CNTR2: {
            uint8_t v = m->cntr[r - NE_CNTR0];
            m->cntr[r - NE_CNTR0] = 0; /* cleared by the read */
            return v;
        }
        default: return 0;
        }
    case 1:
        if (r >= NE_PAR0 && r < NE_PAR0 + 6)
            return m->par[r - NE_PAR0];
        if (r == NE_CURR)
            return m->curr;
        return m->mar[r - NE_MAR0];
    case 2:
        switch (r) {
        case NE_P2_PSTART: return m->pstart;
        case NE_P2_PSTOP: return m->pstop;
        case NE_P2_TPSR: return m->tpsr;
        case NE_P2_RCR: return m->rcr;
        case NE_P2_TCR: return m->tcr;
        case NE_P2_DCR: return m->dcr;
        case NE_P2_IMR: return m->imr;
        default: return 0xff;
        }
    default:
        return 0xff;
    }
}

static void reg_write(struct ne2k_model *m, uint32_t r, uint8_t v)
{
    if (r == NE_CR) {
        cr_write(m, v);
        return;
    }
    unsigned page = m->cr >> 6;
    if (page == 1) {
        if (r >= NE_PAR0 && r < NE_PAR0 + 6)
            m->par[r - NE_PAR0] = v;
        else if (r == NE_CURR)
            m->curr = v;
        else
            m->mar[r - NE_MAR0] = v;
        return;
    }
    if (page != 0)
        return; /* page 2 is read back only; page 3 reserved */
    switch (r) {
    case NE_PSTART: m->pstart = v; break;
    case NE_PSTOP: m->pstop = v; break;
    case NE_BNRY: m->bnry = v; break;
    case NE_TPSR: m->tpsr = v; break;
    case NE_TBCR0: m->tbcr = (uint16_t)((m->tbcr & 0xff00) | v); break;
    case NE_TBCR1: m->tbcr = (uint16_t)((m->tbcr & 0x00ff) | (v << 8)); break;
    case NE_ISR:
        m->isr &= (uint8_t)~(v & 0x7f); /* RST is status only */
        if ((v & ISR_OVW) && m->ovw == OVW_RESTARTED)
            m->ovw = OVW_NONE;
        break;
    case NE_RSAR0: m->rsar = (uint16_t)((m->rsar & 0xff00) | v); break;
    case NE_RSAR1: m->rsar = (uint16_t)((m->rsar & 0x00ff) | (v << 8)); break;
    case NE_RBCR0: m->rbcr = (uint16_t)((m->rbcr & 0xff00) | v); break;
    case NE_RBCR1: m->rbcr = (uint16_t)((m->rbcr & 0x00ff) | (v << 8)); break;
    case NE_RCR: m->rcr = v; break;
    case NE_TCR:
        m->tcr = v;
        if (m->ovw == OVW_STOPPED && (v & TCR_LBMASK))
            m->ovw = OVW_LOOPBACK;
        break;
    case NE_DCR: m->dcr = v; break;
    case NE_IMR: m->imr = v; break;
    default: break;
    }
}

/* ----- bus ops ----------------------------------------------------------- */

static int bus_info(void *self, struct lyra_bus_info *info)
{
    (void)self;
    memset(info, 0, sizeof(*info));
    info->has_pio = 1;
    info->irq = 9;
    info->pio_size = NE_IO_SIZE;
    return 0;
}

static uint8_t bus_inb(void *self, uint32_t port)
{
    struct ne2k_model *m = self;
    port &= NE_IO_SIZE - 1;
    if (port < 0x10)
        return reg_read(m, port);
    if (port == NE_DATA)
        return (uint8_t)dma_in(m, 1);
    if (port == NE_RESET) {
        chip_reset(m);
        return 0;
    }
    return 0xff;
}

static uint16_t bus_inw(void *self, uint32_t port)
{
    struct ne2k_model *m = self;
    port &= NE_IO_SIZE - 1;
    if (port == NE_DATA)
        return dma_in(m, width_of(m));
    return bus_inb(self, port);
}

static uint32_t bus_inl(void *self, uint32_t port)
{
    (void)self;
    (void)port;
    return 0xffffffffu;
}

static void bus_outb(void *self, uint32_t port, uint8_t v)
{
    struct ne2k_model *m = self;
    port &= NE_IO_SIZE - 1;
    if (port < 0x10)
        reg_write(m, port, v);
    else if (port == NE_DATA)
        dma_out(m, v, 1);
    /* the reset port ignores writes (the end of the reset pulse) */
}

static void bus_outw(void *self, uint32_t port, uint16_t v)
{
    struct ne2k_model *m = self;
    port &= NE_IO_SIZE - 1;
    if (port == NE_DATA)
        dma_out(m, v, width_of(m));
    else
        bus_outb(self, port, (uint8_t)v);
}

static void bus_outl(void *self, uint32_t port, uint32_t v)
{
    (void)self;
    (void)port;
    (void)v;
}

static void bus_insw(void *self, uint32_t port, void *buf, size_t count)
{
    uint8_t *b = buf;
    for (size_t i = 0; i < count; i++) {
        uint16_t w = bus_inw(self, port);
        b[2 * i] = (uint8_t)(w & 0xff);
        b[2 * i + 1] = (uint8_t)(w >> 8);
    }
}

static void bus_outsw(void *self, uint32_t port, const void *buf, size_t count)
{
    const uint8_t *b = buf;
    for (size_t i = 0; i < count; i++)
        bus_outw(self, port, (uint16_t)(b[2 * i] | (b[2 * i + 1] << 8)));
}

static bool bus_irq_pending(void *self)
{
    struct ne2k_model *m = self;
    return (m->isr & m->imr & 0x7f) != 0;
}

static void bus_irq_enable(void *self, bool on)
{
    struct ne2k_model *m = self;
    m->irq_on = on;
}

static void bus_delay_us(void *self, unsigned us)
{
    (void)self;
    (void)us; /* the model does everything at once: nothing to wait for */
}

static const struct lyra_bus_ops model_bus_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_BUS_IFACE, LYRA_BUS_MAJOR, LYRA_BUS_MINOR, struct lyra_bus_ops),
    .info = bus_info,
    .inb = bus_inb,
    .inw = bus_inw,
    .inl = bus_inl,
    .outb = bus_outb,
    .outw = bus_outw,
    .outl = bus_outl,
    .insw = bus_insw,
    .outsw = bus_outsw,
    .irq_pending = bus_irq_pending,
    .irq_enable = bus_irq_enable,
    .delay_us = bus_delay_us,
};

static int bus_attach(void *self, const void *events, void *user)
{
    struct ne2k_model *m = self;
    const struct lyra_bus_events *ev = events;
    if (ev && ev->hdr.major != LYRA_BUS_MAJOR)
        return -EPROTO;
    m->ev = ev;
    m->drv = user;
    return 0;
}

/* ----- test API ---------------------------------------------------------- */

int ne2k_model_inject(void *self, const void *frame, size_t len)
{
    return receive(self, frame, len);
}

size_t ne2k_model_take_tx(void *self, void *buf, size_t cap)
{
    struct ne2k_model *m = self;
    if (!m->txq_n)
        return 0;
    unsigned k = m->txq_head;
    size_t len = m->txq_len[k];
    memcpy(buf, m->txq[k], len < cap ? len : cap);
    m->txq_head = (k + 1) % NE2K_MODEL_TXQ;
    m->txq_n--;
    return len;
}

void ne2k_model_set_faults(void *self, unsigned faults)
{
    struct ne2k_model *m = self;
    m->faults = faults;
}

/* ----- component --------------------------------------------------------- */

enum {
    P_MAC, P_LINK, P_PCAP, P_LOSS, P_DUP, P_REORDER, P_REORDER_DEPTH, P_DELAY, P_CORRUPT,
    P_RATE, P_TX_DEFER, P_QUIRKS, P__COUNT
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
    struct ne2k_model *m = self;
    memset(m, 0, sizeof(*m));
    memcpy(m->mac, p[P_MAC].u.mac, 6);
    if (m->mac[0] & 1) {
        lyra_diag_add(d, LYRA_E_RANGE, 0, "ne2k_model.mac: must be a unicast address");
        return -EINVAL;
    }
    m->link_spec = p[P_LINK].set ? p[P_LINK].u.s : NULL;
    m->lp.pcap = p[P_PCAP].set ? p[P_PCAP].u.s : NULL;
    m->lp.loss_ppm = (uint32_t)p[P_LOSS].u.i;
    m->lp.dup_ppm = (uint32_t)p[P_DUP].u.i;
    m->lp.reorder_ppm = (uint32_t)p[P_REORDER].u.i;
    m->lp.reorder_depth = (uint32_t)p[P_REORDER_DEPTH].u.i;
    m->lp.delay_ns = (uint64_t)p[P_DELAY].u.i;
    m->lp.corrupt_ppm = (uint32_t)p[P_CORRUPT].u.i;
    m->lp.rate_bps = (uint64_t)p[P_RATE].u.i;
    m->tx_defer = p[P_TX_DEFER].u.b;
    const char *q = p[P_QUIRKS].u.s;
    if (!strcmp(q, "datasheet")) {
        m->datasheet = true;
    } else if (strcmp(q, "qemu")) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "ne2k_model.quirks: '%s' is neither qemu nor datasheet", q);
        return -EINVAL;
    }
    /* The address PROM: each byte doubled; bytes 14-15 'W' 'W' mark an
     * NE2000 (as QEMU's). */
    for (unsigned i = 0; i < 6; i++)
        m->prom[2 * i] = m->prom[2 * i + 1] = m->mac[i];
    m->prom[14] = m->prom[15] = 0x57;
    chip_reset(m);
    m->st.resets = 0;
    return 0;
}

static int model_start(void *self)
{
    struct ne2k_model *m = self;
    if (!m->os.ops)
        return -ENOTCONN;
    if (m->link_spec && *m->link_spec) {
        if (!m->os.ops->link_open) {
            lyra_log(&m->os, LYRA_LOG_ERROR, WHO, "link %s: the os provides no links",
                     m->link_spec);
            return -ENOTSUP;
        }
        int r = m->os.ops->link_open(m->os.self, m->link_spec, &m->lp, &m->link);
        if (r) {
            lyra_log(&m->os, LYRA_LOG_ERROR, WHO, "cannot open link %s (%d)", m->link_spec, r);
            m->link = NULL;
            return r;
        }
    } else if (m->lp.pcap) {
        lyra_log(&m->os, LYRA_LOG_WARN, WHO, "pcap is only written on a link: ignored");
    }
    return 0;
}

static void model_stop(void *self)
{
    struct ne2k_model *m = self;
    if (m->link && m->os.ops->link_close)
        m->os.ops->link_close(m->os.self, m->link);
    m->link = NULL;
}

static void model_destroy(void *self)
{
    model_stop(self);
}

/* QEMU's ne2000_can_receive: a ring with less free room than a full-size
 * frame refuses to take more, and the frames wait on the link (so QEMU never
 * overflows, where the datasheet's card at line rate would). */
static bool ring_can_take_max(const struct ne2k_model *m)
{
    unsigned n = (unsigned)(m->pstop - m->pstart);
    if (!n || m->pstop <= m->pstart)
        return false;
    /* as receive() counts room and pages */
    unsigned room = (unsigned)(m->bnry - m->curr + n) % n;
    return room >= (FRAME_MAX + NE_RXHDR_LEN + FCS_LEN + NE_PAGE - 1) / NE_PAGE;
}

static int model_poll(void *self, unsigned budget)
{
    struct ne2k_model *m = self;
    int work = 0;
    if (m->tx_busy) {
        finish_tx(m);
        work++;
    }
    if (!m->link || !m->os.ops->link_recv)
        return work;
    for (unsigned i = 0; i < budget; i++) {
        if (!m->datasheet && !m->stopped && !ring_can_take_max(m)) {
            m->st.rx_held++;
            break;
        }
        int r = m->os.ops->link_recv(m->os.self, m->link, m->buf, sizeof(m->buf));
        if (r == -EMSGSIZE) {
            m->st.rx_oversize++;
            continue;
        }
        if (r <= 0)
            break;
        receive(m, m->buf, (size_t)r);
        work++;
    }
    return work;
}

static void model_stats(void *self, struct lyra_stats_sink *sink)
{
    struct ne2k_model *m = self;
#define MS_EMIT(n) lyra_stat(sink, #n, m->st.n);
    MODEL_STATS(MS_EMIT)
#undef MS_EMIT
}

static const struct lyra_provide model_provides[] = {
    {
        .iface = LYRA_BUS_IFACE,
        .major = LYRA_BUS_MAJOR,
        .minor = LYRA_BUS_MINOR,
        .ops = &model_bus_ops,
        .attach = bus_attach,
        .max_users = 1,
        .doc = "the board's 32-port I/O window (ISA, no PCI, no MMIO, no DMA)",
    },
};

static const struct lyra_slot model_slots[] = {
    {
        .name = "os",
        .iface = LYRA_OS_IFACE,
        .major = LYRA_OS_MAJOR,
        .minor = 1,
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct ne2k_model, os.ops, os.self),
        .doc = "the link (os 1.1 link ops) and logging",
    },
};

#define NS_PER_S 1000000000ll
#define PPM_ALL (100 * LYRA_PPM_PER_PERCENT)

static const struct lyra_param model_params[P__COUNT] = {
    [P_MAC] = {"mac", LYRA_P_MAC, "02:00:00:00:00:10", 1, 0,
               "the address in the board's PROM (what the driver reads)"},
    [P_LINK] = {"link", LYRA_P_STRING, NULL, 1, 0,
                "wire:NAME or tap:IFNAME; unset: no link (frames only through the test API)"},
    [P_PCAP] = {"pcap", LYRA_P_STRING, NULL, 1, 0,
                "capture the link's frames, both directions, to this pcap file"},
    [P_LOSS] = {"loss", LYRA_P_PERCENT, "0%", 0, PPM_ALL, "frames sent that the link loses"},
    [P_DUP] = {"dup", LYRA_P_PERCENT, "0%", 0, PPM_ALL, "frames sent that arrive twice"},
    [P_REORDER] = {"reorder", LYRA_P_PERCENT, "0%", 0, PPM_ALL,
                   "frames sent that are held back behind later ones"},
    [P_REORDER_DEPTH] = {"reorder_depth", LYRA_P_INT, "3", 1, 64,
                         "how many later frames a reordered frame waits for"},
    [P_DELAY] = {"delay", LYRA_P_DURATION, "0", 0, 60 * NS_PER_S,
                 "one-way delay of frames sent (bare number: ms)"},
    [P_CORRUPT] = {"corrupt", LYRA_P_PERCENT, "0%", 0, PPM_ALL,
                   "frames sent with one byte flipped"},
    [P_RATE] = {"rate", LYRA_P_INT, "0", 0, 100000000000ll,
                "link rate in bit/s for frames sent; 0: unlimited"},
    [P_TX_DEFER] = {"tx_defer", LYRA_P_BOOL, "off", 1, 0,
                    "a transmission ends at the model's next poll (CR.TXP stays set until "
                    "then) instead of at once as in QEMU; always so with quirks=datasheet"},
    [P_QUIRKS] = {"quirks", LYRA_P_STRING, "qemu", 1, 0,
                  "qemu: behave as QEMU's ne2000 (receive count without the CRC, unicast "
                  "filter on the PROM, transmit ends at once); datasheet: as the DP8390D "
                  "(count includes the 4 CRC bytes, which follow the frame in the ring; "
                  "unicast filter on PAR0-5; transmit ends at the next poll)"},
};

LYRA_EXPORT const struct lyra_component lyra_component_ne2k_model = {
    LYRA_COMPONENT_HDR,
    .name = "ne2k_model",
    .version = "1.0.0",
    .summary = "NE2000 (DP8390) board model behind bus, attached to a link",
    .doc = "@component ne2k_model\n"
           "@summary NE2000 (DP8390) board model\n"
           "@provides bus 1.0 (port I/O; one driver)\n"
           "@uses os os 1.1 (links)\n"
           "As strict as the DP8390D datasheet: 16 KiB card RAM at 0x4000, the PROM with "
           "doubled bytes, remote DMA ending with ISR.RDC, transmit from TPSR, receive into "
           "the ring with a 4-byte header. Where QEMU's ne2000 differs from the datasheet, "
           "param quirks picks the side: quirks=qemu (default) counts the frame without its "
           "CRC, filters unicast against the PROM and ends a transmission at once; "
           "quirks=datasheet writes the frame's CRC-32 after it and counts it, filters "
           "unicast against PAR0-5 and ends a transmission at the next poll. A full "
           "ring raises OVW; frames are then missed until the driver runs the datasheet's "
           "recovery (STOP, loopback, START, clear OVW). Received frames under 60 bytes are "
           "padded, over 1514 dropped. The poll hook pulls frames from the link.\n"
           "@stat rx_frames rx_bytes: written to the ring; rx_padded; rx_oversize; "
           "rx_missed (stopped, loopback, overflow lock); rx_filtered (address filter); "
           "rx_overflow (ring full, OVW); rx_bad_ring (ring registers unusable)\n"
           "@stat tx_frames tx_bytes: on the wire; tx_runt (under 60 bytes); tx_abort (bad "
           "TPSR/TBCR); tx_loopback; tx_overlap (TXP while sending); txq_drop; link_tx_fail\n"
           "@stat rdma_misuse (data port without a matching remote DMA); rdma_send_cmd; "
           "resets; rx_fcs (frames stored with their CRC, quirks=datasheet); rx_held (polls that "
           "left frames on the link because the ring could not take a full-size one, as QEMU "
           "does; quirks=qemu)\n",
    .provides = model_provides,
    .n_provides = LYRA_COUNT(model_provides),
    .slots = model_slots,
    .n_slots = LYRA_COUNT(model_slots),
    .params = model_params,
    .n_params = LYRA_COUNT(model_params),
    .instance_size = sizeof(struct ne2k_model),
    .create = model_create,
    .start = model_start,
    .stop = model_stop,
    .destroy = model_destroy,
    .poll = model_poll,
    .stats = model_stats,
    .check = model_check,
};
