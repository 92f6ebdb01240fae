/* e1000_model: the receive side. A frame from the wire is padded, run
 * through the address filter (RAL/RAH, MTA, BAM, MPE, UPE), optionally
 * given its FCS and receive checksums (RXCSUM), and written into as many
 * receive descriptors as its size and BSIZE need (manual 3.2). Every drop
 * is counted. */
#include "e1000_model_int.h"

#include <errno.h>
#include <string.h>

#include "e1000_model.h"
#include "lyra/inet_csum.h"

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

int em_rx_frame(struct e1000_model *m, const uint8_t *frame, size_t flen)
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
        desc[i] = em_dma_ptr(m, base + (uint64_t)h * 16, 16);
        buf[i] = desc[i] ? em_dma_ptr(m, ld64le(desc[i]), chunk) : NULL;
        if (!buf[i]) {
            m->st.dma_faults++;
            return -EFAULT;
        }
    }
    for (unsigned i = 0; i < m->n_fault_hit; i++)
        if (m->fault_hit[i].at == buf[0]) { /* a lied-about frame is written over */
            memmove(&m->fault_hit[i], &m->fault_hit[i + 1],
                    (m->n_fault_hit - i - 1) * sizeof(m->fault_hit[0]));
            m->n_fault_hit--;
            break;
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
        bool last = i + 1 == need;
        uint16_t dlen = (uint16_t)chunk;
        uint8_t derr = last ? err : 0;
        uint8_t dsta = (uint8_t)(RXD_STA_DD | (last ? RXD_STA_EOP | sta : 0));
        if (last && m->fault_armed) { /* e1000_model_rx_fault: a card gone wrong */
            m->fault_armed = false;
            dlen = m->fault_len;
            derr = m->fault_err;
            dsta = (uint8_t)(m->fault_sta | RXD_STA_DD);
            if (m->n_fault_hit == 8) /* the oldest record goes */
                memmove(&m->fault_hit[0], &m->fault_hit[1], 7 * sizeof(m->fault_hit[0]));
            else
                m->n_fault_hit++;
            m->fault_hit[m->n_fault_hit - 1] =
                (struct em_fault_hit){.at = buf[0], .sta = dsta, .err = derr};
        }
        uint8_t *d = desc[i];
        st16le(d + 8, dlen);
        st16le(d + 10, 0);
        d[13] = derr;
        st16le(d + 14, 0);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        d[12] = dsta;
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

void e1000_model_rx_fault(void *self, uint16_t len, uint8_t sta, uint8_t err)
{
    struct e1000_model *m = self;
    m->fault_armed = true;
    m->fault_len = len;
    m->fault_sta = sta;
    m->fault_err = err;
}

int e1000_model_rx_fault_hit(void *self, const void *p, size_t size, uint8_t *sta, uint8_t *err)
{
    struct e1000_model *m = self;
    const uint8_t *lo = p;
    for (unsigned i = 0; i < m->n_fault_hit; i++)
        if (m->fault_hit[i].at >= lo && m->fault_hit[i].at < lo + size) {
            *sta = m->fault_hit[i].sta;
            *err = m->fault_hit[i].err;
            return 1;
        }
    return 0;
}

int e1000_model_inject(void *self, const void *frame, size_t len)
{
    struct e1000_model *m = self;
    if (!m->started || (!frame && len))
        return -ENETDOWN;
    return em_rx_frame(m, frame, len);
}
