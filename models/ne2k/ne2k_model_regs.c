/* ne2k_model: the DP8390's registers (pages 0-2 by CR.PS1:PS0) and the
 * board reset. CR starts and stops the chip, remote DMA and transmission;
 * the overflow lock advances through the datasheet's recovery sequence as
 * CR, TCR and ISR are written. */
#include "ne2k_model_int.h"

#include <string.h>

/* ----- reset ------------------------------------------------------------- */

void ne2km_chip_reset(struct ne2k_model *m)
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

/* ----- registers --------------------------------------------------------- */

static void cr_write(struct ne2k_model *m, uint8_t v)
{
    if (v & CR_STP) {
        if (m->tx_busy) /* a transmission in progress completes first */
            ne2km_finish_tx(m);
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
        ne2km_dma_start(m, DMA_READ);
    else if (rd == CR_RD1)
        ne2km_dma_start(m, DMA_WRITE);
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
                ne2km_finish_tx(m);
        }
    }
}

uint8_t ne2km_reg_read(struct ne2k_model *m, uint32_t r)
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

void ne2km_reg_write(struct ne2k_model *m, uint32_t r, uint8_t v)
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
