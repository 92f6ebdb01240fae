/* ne2k_model: the link side. A transmission sends TBCR bytes from TPSR to
 * the link (or the test queue); a received frame is filtered, padded,
 * optionally given its FCS, and written into the ring PSTART..PSTOP after
 * its 4-byte header, or missed and counted. */
#include "ne2k_model_int.h"

#include <errno.h>
#include <string.h>

static bool ring_ok(const struct ne2k_model *m)
{
    return m->pstart >= (NE_MEM_START >> 8) && m->pstop <= (NE_MEM_END >> 8) &&
           m->pstart < m->pstop && m->curr >= m->pstart && m->curr < m->pstop &&
           m->bnry >= m->pstart && m->bnry < m->pstop;
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

void ne2km_finish_tx(struct ne2k_model *m)
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

int ne2km_receive(struct ne2k_model *m, const uint8_t *frame, size_t len)
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
    if (m->fault_armed) {
        m->fault_armed = false;
        memcpy(hdr, m->fault_hdr, NE_RXHDR_LEN);
    }
    uint32_t end = (uint32_t)m->pstop << 8;
    for (uint32_t i = 0; i < total; i++) {
        ne2km_mem_write(m, a, i < NE_RXHDR_LEN ? hdr[i] : m->buf[i - NE_RXHDR_LEN]);
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

/* QEMU's ne2000_can_receive: a ring with less free room than a full-size
 * frame refuses to take more, and the frames wait on the link (so QEMU never
 * overflows, where the datasheet's card at line rate would). */
bool ne2km_ring_can_take_max(const struct ne2k_model *m)
{
    unsigned n = (unsigned)(m->pstop - m->pstart);
    if (!n || m->pstop <= m->pstart)
        return false;
    /* as ne2km_receive() counts room and pages */
    unsigned room = (unsigned)(m->bnry - m->curr + n) % n;
    return room >= (FRAME_MAX + NE_RXHDR_LEN + FCS_LEN + NE_PAGE - 1) / NE_PAGE;
}

void ne2k_model_rx_fault(void *self, const uint8_t hdr[4])
{
    struct ne2k_model *m = self;
    memcpy(m->fault_hdr, hdr, sizeof(m->fault_hdr));
    m->fault_armed = true;
}
