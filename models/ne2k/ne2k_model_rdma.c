/* ne2k_model: the card's 16 KiB of RAM and the address PROM as remote DMA
 * sees them through the data port (DP8390D, "Remote DMA"): RSAR/RBCR set
 * the window, each transfer advances it (wrapping at PSTOP), and ISR.RDC
 * reports the end. */
#include "ne2k_model_int.h"

/* ----- card memory ------------------------------------------------------- */

static uint8_t mem_read(const struct ne2k_model *m, uint32_t a)
{
    if (a < NE_PROM_SIZE)
        return m->prom[a];
    if (a >= NE_MEM_START && a < NE_MEM_END)
        return m->mem[a - NE_MEM_START];
    return 0xff;
}

void ne2km_mem_write(struct ne2k_model *m, uint32_t a, uint8_t v)
{
    if (a >= NE_MEM_START && a < NE_MEM_END)
        m->mem[a - NE_MEM_START] = v;
}

/* ----- remote DMA -------------------------------------------------------- */

void ne2km_dma_start(struct ne2k_model *m, int mode)
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
uint16_t ne2km_dma_in(struct ne2k_model *m, unsigned width)
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

void ne2km_dma_out(struct ne2k_model *m, uint16_t v, unsigned width)
{
    if (m->dma_mode != DMA_WRITE) {
        m->st.rdma_misuse++;
        return;
    }
    uint16_t a = m->dma_addr;
    ne2km_mem_write(m, a, (uint8_t)(v & 0xff));
    if (width == 2) {
        uint16_t a2 = (uint16_t)(a + 1);
        if (m->pstop && a2 == ((uint32_t)m->pstop << 8))
            a2 = (uint16_t)(m->pstart << 8);
        ne2km_mem_write(m, a2, (uint8_t)(v >> 8));
    }
    dma_advance(m, width);
}

unsigned ne2km_width_of(const struct ne2k_model *m)
{
    return (m->dcr & DCR_WTS) ? 2 : 1;
}
