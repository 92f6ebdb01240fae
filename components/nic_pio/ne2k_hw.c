/* DP8390 / NE2000 register sequences (see ne2k_hw.h). The order of every
 * sequence follows the DP8390D datasheet; where Linux's ne.c/8390.c does a
 * step real boards need, it is noted. */
#include "ne2k_hw.h"

#include <errno.h>
#include <string.h>

#include "lyra/inet_csum.h"

/* The state bits (STP/STA) every CR write carries while the card is in
 * that state; kept by the sequences that change it. */
static uint8_t run_bits(struct ne2k_hw *h)
{
    /* CR reads back STP/STA as last written (and TXP while sending). */
    return ne2k_in(h, NE_CR) & (CR_STP | CR_STA);
}

static void page_select(struct ne2k_hw *h, uint8_t run, unsigned page)
{
    ne2k_out(h, NE_CR, (uint8_t)((page << 6) | CR_RD2 | run));
}

/* Waits for an ISR bit: at most wait_spins reads, 1 us apart. */
static int wait_isr(struct ne2k_hw *h, uint8_t bit)
{
    for (unsigned i = 0; i < h->wait_spins; i++) {
        if (ne2k_in(h, NE_ISR) & bit)
            return 0;
        if (h->bus->delay_us)
            h->bus->delay_us(h->bus_self, 1);
    }
    return -ETIMEDOUT;
}

/* Ends a remote DMA: waits for RDC and acknowledges it; on timeout aborts
 * the transfer (CR.RD2) so the card is usable again, and counts it. */
static int rdma_finish(struct ne2k_hw *h)
{
    int r = wait_isr(h, ISR_RDC);
    if (r) {
        h->rdma_timeout++;
        ne2k_out(h, NE_CR, (uint8_t)(CR_RD2 | run_bits(h)));
    }
    ne2k_ack(h, ISR_RDC);
    return r;
}

static void rdma_setup(struct ne2k_hw *h, uint16_t addr, uint32_t count, uint8_t cmd)
{
    uint8_t run = run_bits(h);
    page_select(h, run, 0);
    ne2k_ack(h, ISR_RDC);
    ne2k_out(h, NE_RBCR0, (uint8_t)(count & 0xff));
    ne2k_out(h, NE_RBCR1, (uint8_t)(count >> 8));
    ne2k_out(h, NE_RSAR0, (uint8_t)(addr & 0xff));
    ne2k_out(h, NE_RSAR1, (uint8_t)(addr >> 8));
    ne2k_out(h, NE_CR, (uint8_t)(cmd | run));
}

int ne2k_reset(struct ne2k_hw *h)
{
    /* A read of the reset port resets the board; real NE2000 clones want
     * the value written back to end the reset pulse (Linux ne.c does). */
    uint8_t v = ne2k_in(h, NE_RESET);
    ne2k_out(h, NE_RESET, v);
    if (wait_isr(h, ISR_RST)) {
        h->reset_timeout++;
        return -ETIMEDOUT;
    }
    ne2k_ack(h, 0xff);
    return 0;
}

int ne2k_read_prom(struct ne2k_hw *h, uint8_t mac[6])
{
    uint8_t prom[NE_PROM_SIZE];
    /* Stopped, word mode, no DMA count; receiver in monitor mode and the
     * transmitter in loopback so that the start the remote read needs
     * cannot receive or send anything (as Linux ne.c). */
    ne2k_out(h, NE_CR, CR_RD2 | CR_STP);
    ne2k_out(h, NE_DCR, DCR_WORD);
    ne2k_out(h, NE_RBCR0, 0);
    ne2k_out(h, NE_RBCR1, 0);
    ne2k_out(h, NE_IMR, 0);
    ne2k_out(h, NE_ISR, 0xff);
    ne2k_out(h, NE_RCR, RCR_MON);
    ne2k_out(h, NE_TCR, TCR_LB0);
    ne2k_ack(h, ISR_RDC);
    ne2k_out(h, NE_RBCR0, NE_PROM_SIZE);
    ne2k_out(h, NE_RBCR1, 0);
    ne2k_out(h, NE_RSAR0, 0);
    ne2k_out(h, NE_RSAR1, 0);
    ne2k_out(h, NE_CR, CR_RD0 | CR_STA);
    h->bus->insw(h->bus_self, NE_DATA, prom, NE_PROM_SIZE / 2);
    int r = rdma_finish(h);
    ne2k_out(h, NE_CR, CR_RD2 | CR_STP);
    if (r)
        return r;
    /* Word mode: every PROM byte comes twice; keep the even ones. */
    for (unsigned i = 0; i < 6; i++)
        mac[i] = prom[2 * i];
    return 0;
}

int ne2k_init(struct ne2k_hw *h, const uint8_t mac[6], uint8_t rcr, const uint8_t mar[8],
              uint8_t imr)
{
    h->pstart = NE2K_RX_START;
    h->pstop = NE2K_RX_STOP;
    /* 1) stop, page 0, abort remote DMA */
    ne2k_out(h, NE_CR, CR_RD2 | CR_STP);
    /* 2) data configuration: word mode */
    ne2k_out(h, NE_DCR, DCR_WORD);
    /* 3) clear the remote byte count */
    ne2k_out(h, NE_RBCR0, 0);
    ne2k_out(h, NE_RBCR1, 0);
    /* 4) receiver: monitor (nothing buffered) until started */
    ne2k_out(h, NE_RCR, RCR_MON);
    /* 5) transmitter: internal loopback */
    ne2k_out(h, NE_TCR, TCR_LB0);
    /* 6) ring: BNRY one behind CURR (the next page read is BNRY + 1) */
    ne2k_out(h, NE_PSTART, h->pstart);
    ne2k_out(h, NE_BNRY, ne2k_ring_prev(h, h->pstart));
    ne2k_out(h, NE_PSTOP, h->pstop);
    /* 7) clear every interrupt status, 8) mask */
    ne2k_out(h, NE_ISR, 0xff);
    ne2k_out(h, NE_IMR, imr);
    /* 9) page 1: station address, multicast hash, current page */
    page_select(h, CR_STP, 1);
    for (unsigned i = 0; i < 6; i++)
        ne2k_out(h, NE_PAR0 + i, mac[i]);
    for (unsigned i = 0; i < 8; i++)
        ne2k_out(h, NE_MAR0 + i, mar[i]);
    ne2k_out(h, NE_CURR, h->pstart);
    page_select(h, CR_STP, 0);
    /* 10) start, 11) transmitter normal, then the receive filter */
    ne2k_out(h, NE_CR, CR_RD2 | CR_STA);
    ne2k_out(h, NE_TCR, 0);
    ne2k_out(h, NE_RCR, rcr);
    return 0;
}

void ne2k_set_filter(struct ne2k_hw *h, uint8_t rcr, const uint8_t mar[8])
{
    uint8_t run = run_bits(h);
    page_select(h, run, 1);
    for (unsigned i = 0; i < 8; i++)
        ne2k_out(h, NE_MAR0 + i, mar[i]);
    page_select(h, run, 0);
    ne2k_out(h, NE_RCR, rcr);
}

void ne2k_stop(struct ne2k_hw *h)
{
    ne2k_out(h, NE_CR, CR_RD2 | CR_STP);
    ne2k_out(h, NE_IMR, 0);
}

int ne2k_rdma_read_sum(struct ne2k_hw *h, uint16_t addr, void *buf, uint32_t len, uint16_t *sum,
                       int *summed)
{
    uint8_t *b = buf;
    int with_sum = sum && LYRA_BUS_HAS_INSW_CSUM(h->bus);
    uint32_t s = 0;
    if (summed)
        *summed = with_sum;
    if (len == 0) {
        if (with_sum)
            *sum = 0;
        return 0;
    }
    rdma_setup(h, addr, (len + 1) & ~1u, CR_RD0);
    if (len >= 2 && with_sum)
        s = h->bus->insw_csum(h->bus_self, NE_DATA, b, len / 2);
    else if (len >= 2)
        h->bus->insw(h->bus_self, NE_DATA, b, len / 2);
    if (len & 1) {
        uint16_t w = h->bus->inw(h->bus_self, NE_DATA);
        b[len - 1] = (uint8_t)(w & 0xff); /* little-endian (DCR.BOS clear) */
        s += (uint32_t)b[len - 1] << 8;   /* an even offset: the high half of its word */
    }
    if (with_sum)
        *sum = lyra_csum_fold(s);
    return rdma_finish(h);
}

int ne2k_rdma_read(struct ne2k_hw *h, uint16_t addr, void *buf, uint32_t len)
{
    return ne2k_rdma_read_sum(h, addr, buf, len, NULL, NULL);
}

int ne2k_write_begin(struct ne2k_writer *w, struct ne2k_hw *h, uint16_t addr, uint32_t count)
{
    w->hw = h;
    w->written = 0;
    w->sum = 0;
    w->summing = false;
    w->has_carry = false;
    w->carry = 0;
    rdma_setup(h, addr, (count + 1) & ~1u, CR_RD1);
    return 0;
}

void ne2k_write_piece(struct ne2k_writer *w, const uint8_t *p, uint32_t len)
{
    struct ne2k_hw *h = w->hw;
    if (len == 0)
        return;
    w->written += len;
    if (w->has_carry) {
        /* the carried byte first (little-endian word, DCR.BOS clear): in
         * network order it is the high half */
        h->bus->outw(h->bus_self, NE_DATA, (uint16_t)(w->carry | (p[0] << 8)));
        w->sum += w->summing ? (uint32_t)w->carry << 8 | p[0] : 0;
        w->has_carry = false;
        p++;
        len--;
    }
    /* words start at even offsets of the write: their sums add as they are */
    if (len >= 2 && w->summing && LYRA_BUS_HAS_OUTSW_CSUM(h->bus)) {
        w->sum += h->bus->outsw_csum(h->bus_self, NE_DATA, p, len / 2);
    } else if (len >= 2) {
        h->bus->outsw(h->bus_self, NE_DATA, p, len / 2);
        if (w->summing)
            w->sum += lyra_csum_fold(lyra_csum_add(p, len & ~1u, 0));
    }
    if (len & 1) {
        w->carry = p[len - 1];
        w->has_carry = true;
    }
}

void ne2k_write_zeros(struct ne2k_writer *w, uint32_t len)
{
    struct ne2k_hw *h = w->hw;
    if (len == 0)
        return;
    w->written += len;
    if (w->has_carry) {
        h->bus->outw(h->bus_self, NE_DATA, w->carry);
        w->sum += w->summing ? (uint32_t)w->carry << 8 : 0;
        w->has_carry = false;
        len--;
    }
    for (uint32_t i = 0; i < len / 2; i++)
        h->bus->outw(h->bus_self, NE_DATA, 0);
    if (len & 1) {
        w->carry = 0;
        w->has_carry = true;
    }
}

int ne2k_write_end(struct ne2k_writer *w)
{
    struct ne2k_hw *h = w->hw;
    if (w->has_carry) {
        h->bus->outw(h->bus_self, NE_DATA, w->carry);
        w->sum += w->summing ? (uint32_t)w->carry << 8 : 0;
        w->has_carry = false;
    }
    return rdma_finish(h);
}

void ne2k_tx_start(struct ne2k_hw *h, uint8_t page, uint16_t len)
{
    ne2k_out(h, NE_TPSR, page);
    ne2k_out(h, NE_TBCR0, (uint8_t)(len & 0xff));
    ne2k_out(h, NE_TBCR1, (uint8_t)(len >> 8));
    ne2k_out(h, NE_CR, CR_RD2 | CR_TXP | CR_STA);
}

uint8_t ne2k_curr(struct ne2k_hw *h)
{
    uint8_t run = run_bits(h);
    page_select(h, run, 1);
    uint8_t v = ne2k_in(h, NE_CURR);
    page_select(h, run, 0);
    return v;
}

int ne2k_rx_header(struct ne2k_hw *h, uint8_t page, struct ne2k_rxhdr *hdr)
{
    uint8_t b[NE_RXHDR_LEN];
    int r = ne2k_rdma_read(h, (uint16_t)(page * NE_PAGE), b, sizeof(b));
    if (r)
        return r;
    hdr->status = b[0];
    hdr->next = b[1];
    hdr->count = (uint16_t)(b[2] | (b[3] << 8));
    return 0;
}

int ne2k_rx_data(struct ne2k_hw *h, uint8_t page, void *buf, uint32_t len, uint16_t *sum,
                 int *summed)
{
    uint32_t addr = (uint32_t)page * NE_PAGE + NE_RXHDR_LEN;
    uint32_t end = (uint32_t)h->pstop * NE_PAGE;
    uint8_t *b = buf;
    if (addr + len > end) { /* the frame wraps: split at the ring's end */
        uint32_t first = end - addr; /* even: page-aligned end, header of 4 */
        uint16_t s2 = 0;
        int r = ne2k_rdma_read_sum(h, (uint16_t)addr, b, first, sum, summed);
        if (!r)
            r = ne2k_rdma_read_sum(h, (uint16_t)(h->pstart * NE_PAGE), b + first, len - first,
                                   sum ? &s2 : NULL, NULL);
        if (!r && sum && *summed)
            *sum = (uint16_t)lyra_csum_block(*sum, s2, first); /* first is even */
        return r;
    }
    return ne2k_rdma_read_sum(h, (uint16_t)addr, b, len, sum, summed);
}

bool ne2k_ovw_begin(struct ne2k_hw *h)
{
    /* 1) save TXP */
    bool txp = (ne2k_in(h, NE_CR) & CR_TXP) != 0;
    /* 2) STOP */
    ne2k_out(h, NE_CR, CR_RD2 | CR_STP);
    /* 3) wait at least 1.6 ms for a reception in progress to end */
    if (h->bus->delay_us)
        h->bus->delay_us(h->bus_self, 1600);
    /* 4) clear the remote byte count */
    ne2k_out(h, NE_RBCR0, 0);
    ne2k_out(h, NE_RBCR1, 0);
    /* 5) resend when a transmission was under way and did not finish */
    bool resend = false;
    if (txp) {
        uint8_t isr = ne2k_in(h, NE_ISR);
        resend = (isr & (ISR_PTX | ISR_TXE)) == 0;
    }
    /* 6) loopback mode 1, 7) START */
    ne2k_out(h, NE_TCR, TCR_LB0);
    ne2k_out(h, NE_CR, CR_RD2 | CR_STA);
    return resend;
}

void ne2k_ovw_end(struct ne2k_hw *h, bool resend)
{
    /* 9) clear OVW, 10) out of loopback, 11) resend */
    ne2k_ack(h, ISR_OVW);
    ne2k_out(h, NE_TCR, 0);
    if (resend)
        ne2k_out(h, NE_CR, CR_RD2 | CR_TXP | CR_STA);
}

void ne2k_tallies(struct ne2k_hw *h, uint32_t *fae, uint32_t *crc, uint32_t *missed)
{
    *fae = ne2k_in(h, NE_CNTR0);
    *crc = ne2k_in(h, NE_CNTR1);
    *missed = ne2k_in(h, NE_CNTR2);
}

bool ne2k_bus_drivable(const struct lyra_bus_ops *bus, void *bus_self)
{
    struct lyra_bus_info info;
    memset(&info, 0, sizeof(info));
    if (!bus->info || bus->info(bus_self, &info))
        return true; /* nothing known: the reset at start probes */
    /* QEMU's ne2k_pci is an RTL8029 (10ec:8029) */
    return info.has_pio && (!info.is_pci || (info.vendor == 0x10ec && info.device == 0x8029));
}
