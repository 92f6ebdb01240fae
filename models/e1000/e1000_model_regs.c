/* e1000_model: the register file (BAR0 MMIO and PCI configuration
 * space), the EEPROM and reset. Writes with side effects (CTRL.RST, EERD,
 * ICR/ICS/IMS/IMC, TDT, TCTL) act here; the rings run in the tx and rx
 * files. */
#include "e1000_model_int.h"

#include <string.h>

/* ----- reset and EEPROM ---------------------------------------------------- */

void em_eeprom_init(struct e1000_model *m)
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

void em_cfg_init(struct e1000_model *m)
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

/* Every register to its default (manual 13.4.1). With quirks=qemu this is
 * the power-on state only, with RAL0/RAH0 preloaded with the MAC as QEMU
 * does; with quirks=datasheet it is also what CTRL.RST does, and the
 * receive addresses stay empty (RAH.AV clear) until the driver writes them. */
void em_device_reset(struct e1000_model *m)
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
    em_tx_assembly_reset(m);
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

/* ----- MMIO and PCI configuration ----------------------------------------- */

uint32_t em_read32(void *self, uint32_t off)
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

void em_write32(void *self, uint32_t off, uint32_t v)
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
                em_device_reset(m);
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
        em_tx_run(m);
        return;
    case R_TCTL:
        *reg(m, off) = v;
        em_tx_run(m);
        return;
    default:
        if (off >= R_STATS_LO && off < R_STATS_HI)
            return; /* statistics are read-only */
        *reg(m, off) = v;
        return;
    }
}

uint32_t em_cfg_read(void *self, uint32_t off, unsigned size)
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

void em_cfg_write(void *self, uint32_t off, unsigned size, uint32_t v)
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
        em_tx_run(m); /* as if the ring was waiting for the bus */
}
