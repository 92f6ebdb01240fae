/* e1000_model: the transmit side. Legacy and TCP/IP data descriptors are
 * gathered into one packet up to EOP, with checksum insertion from the last
 * context descriptor (manual 3.3); a packet whose first data descriptor has
 * DCMD.TSE is cut into frames by e1000_model_tso.c (manual 3.5). Frames go
 * to the link or, without one, to a capture queue that e1000_model_take_tx
 * drains. */
#include "e1000_model_int.h"

#include <string.h>

#include "e1000_model.h"
#include "lyra/inet_csum.h"

void em_tx_assembly_reset(struct e1000_model *m)
{
    m->txlen = 0;
    m->tx_in_frame = m->tx_fault = m->tx_big = m->tx_tso = false;
    m->tx_popts = 0;
}

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

void em_tx_frame_out(struct e1000_model *m, uint8_t *f, uint32_t len)
{
    if (m->tx_popts & TXD_POPTS_IXSM)
        insert_csum(m, f, len, m->ctx.ipcss, m->ctx.ipcso, m->ctx.ipcse);
    if (m->tx_popts & TXD_POPTS_TXSM)
        insert_csum(m, f, len, m->ctx.tucss, m->ctx.tucso, m->ctx.tucse);
    if (len < ETH_ZLEN && (*reg(m, R_TCTL) & TCTL_PSP)) {
        memset(f + len, 0, ETH_ZLEN - len);
        len = ETH_ZLEN;
        m->st.tx_padded++;
    }
    tx_emit(m, f, len);
}

static void tx_end_of_packet(struct e1000_model *m)
{
    if (m->tx_fault) {
        /* counted in dma_faults when it happened */
    } else if (m->tx_big) {
        m->st.tx_oversize++;
    } else if (m->tx_tso) {
        em_tso_send(m);
    } else {
        em_tx_frame_out(m, m->txbuf, m->txlen);
    }
    em_tx_assembly_reset(m);
}

/* A TCP/IP context descriptor (manual 3.3.6): the offsets for checksum
 * insertion and, with TUCMD.TSE, the segmentation parameters. One context
 * is kept: a TSE context replaces the checksum offsets too. */
static void tx_context(struct e1000_model *m, const uint8_t *d)
{
    struct em_tx_ctx *c = &m->ctx;
    c->ipcss = d[0];
    c->ipcso = d[1];
    c->ipcse = ld16le(d + 2);
    c->tucss = d[4];
    c->tucso = d[5];
    c->tucse = ld16le(d + 6);
    c->paylen = ld32le(d + 8) & 0xfffff;
    c->tucmd = d[11];
    c->hdrlen = d[13];
    c->mss = ld16le(d + 14);
}

/* One descriptor; returns whether it asked for status (RS). */
static bool tx_desc(struct e1000_model *m, const uint8_t *d)
{
    uint32_t w2 = ld32le(d + 8);
    uint8_t cmd = d[11];
    bool dext = (cmd & TXD_CMD_DEXT) != 0;
    unsigned dtyp = (w2 >> 20) & 0xf;
    if (dext && dtyp == 0) {
        tx_context(m, d);
        return (cmd & TXD_CMD_RS) != 0;
    }
    uint32_t len;
    uint8_t popts = 0;
    bool tse = false;
    if (!dext) {
        len = ld16le(d + 8); /* bit 2 here is IC (not modelled), not TSE */
    } else if (dtyp == 1) {
        len = w2 & 0xfffff;
        popts = d[13];
        tse = (cmd & TXD_CMD_TSE) != 0;
    } else {
        m->st.tx_bad_desc++;
        m->tx_fault = true; /* unknown type: the frame is lost */
        len = 0;
    }
    if (!m->tx_in_frame) {
        m->tx_in_frame = true;
        /* POPTS and TSE count on a packet's first descriptor (3.3.7) */
        m->tx_popts = popts;
        m->tx_tso = tse;
    }
    if (len && !m->tx_fault && !m->tx_big) {
        if (len > (m->tx_tso ? TXBUF_TSO : TXBUF_MAX) - m->txlen) {
            m->tx_big = true;
        } else {
            const uint8_t *src = em_dma_ptr(m, ld64le(d), len);
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
void em_tx_run(struct e1000_model *m)
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
        uint8_t *d = em_dma_ptr(m, base + (uint64_t)*tdh * 16, 16);
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
