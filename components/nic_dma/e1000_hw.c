/* e1000 bring-up (manual 14: general configuration, receive and transmit
 * initialisation). */
#include "e1000_hw.h"

#include <errno.h>

#include "e1000_regs.h"

#define RESET_POLLS 1000 /* x 10 us */
#define EERD_POLLS 1000  /* x 5 us */

int e1000_hw_probe(struct e1000_hw *hw)
{
    struct lyra_bus_info info = {0};
    if (hw->bus->info(hw->bself, &info))
        return -ENODEV;
    if (!info.is_pci || !info.has_mmio || info.vendor != E1000_VENDOR_INTEL)
        return -ENODEV;
    if (info.mmio_size && info.mmio_size < 0x6000)
        return -ENODEV; /* the registers we use go up to 0x5480 */
    switch (info.device) {
    case E1000_DEV_82540EM:
        hw->variant = E1000_V_82540;
        break;
    case E1000_DEV_82574L:
        hw->variant = E1000_V_82574;
        break;
    default:
        return -ENODEV;
    }
    hw->device = info.device;
    return 0;
}

void e1000_hw_enable_master(struct e1000_hw *hw)
{
    uint32_t cmd = hw->bus->cfg_read(hw->bself, E1000_PCI_COMMAND, 2);
    cmd |= E1000_PCI_CMD_MEM | E1000_PCI_CMD_MASTER;
    hw->bus->cfg_write(hw->bself, E1000_PCI_COMMAND, 2, cmd & 0xffff);
}

int e1000_hw_reset(struct e1000_hw *hw)
{
    e1000_wr(hw, E1000_IMC, 0xffffffffu);
    e1000_wr(hw, E1000_RCTL, 0);
    e1000_wr(hw, E1000_TCTL, 0);
    e1000_wr(hw, E1000_CTRL, e1000_rd(hw, E1000_CTRL) | E1000_CTRL_RST);
    /* the manual asks for at least 1 us before the next access */
    hw->bus->delay_us(hw->bself, 10);
    unsigned i;
    for (i = 0; i < RESET_POLLS; i++) {
        if (!(e1000_rd(hw, E1000_CTRL) & E1000_CTRL_RST))
            break;
        hw->bus->delay_us(hw->bself, 10);
    }
    if (i == RESET_POLLS)
        return -ETIMEDOUT;
    e1000_wr(hw, E1000_IMC, 0xffffffffu);
    (void)e1000_rd(hw, E1000_ICR);
    uint32_t ctrl = e1000_rd(hw, E1000_CTRL);
    ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_PHY_RST);
    ctrl |= E1000_CTRL_SLU | E1000_CTRL_ASDE;
    e1000_wr(hw, E1000_CTRL, ctrl);
    return 0;
}

int e1000_hw_eeprom_read(struct e1000_hw *hw, uint8_t addr, uint16_t *out)
{
    unsigned shift = hw->variant == E1000_V_82574 ? E1000_EERD_ADDR_SHIFT_82574
                                                  : E1000_EERD_ADDR_SHIFT_82540;
    uint32_t done = hw->variant == E1000_V_82574 ? E1000_EERD_DONE_82574 : E1000_EERD_DONE_82540;
    e1000_wr(hw, E1000_EERD, (uint32_t)addr << shift | E1000_EERD_START);
    for (unsigned i = 0; i < EERD_POLLS; i++) {
        uint32_t v = e1000_rd(hw, E1000_EERD);
        if (v & done) {
            *out = (uint16_t)(v >> E1000_EERD_DATA_SHIFT);
            return 0;
        }
        hw->bus->delay_us(hw->bself, 5);
    }
    return -ETIMEDOUT;
}

int e1000_hw_read_mac(struct e1000_hw *hw, uint8_t mac[6])
{
    for (uint8_t w = 0; w < 3; w++) {
        uint16_t v;
        int r = e1000_hw_eeprom_read(hw, w, &v);
        if (r)
            return r;
        mac[2 * w] = (uint8_t)v;
        mac[2 * w + 1] = (uint8_t)(v >> 8);
    }
    return 0;
}

int e1000_hw_eeprom_valid(struct e1000_hw *hw, bool *ok)
{
    uint16_t sum = 0;
    for (uint8_t w = 0; w < E1000_EEPROM_CSUM_WORDS; w++) {
        uint16_t v;
        int r = e1000_hw_eeprom_read(hw, w, &v);
        if (r)
            return r;
        sum = (uint16_t)(sum + v);
    }
    *ok = sum == E1000_EEPROM_CSUM;
    return 0;
}

void e1000_hw_set_filter(struct e1000_hw *hw, const uint8_t mac[6])
{
    uint32_t lo = (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 |
                  (uint32_t)mac[3] << 24;
    uint32_t hi = (uint32_t)mac[4] | (uint32_t)mac[5] << 8;
    e1000_wr(hw, E1000_RAL(0), lo);
    e1000_wr(hw, E1000_RAH(0), hi | E1000_RAH_AV);
    for (unsigned i = 1; i < E1000_RA_N; i++) {
        e1000_wr(hw, E1000_RAL(i), 0);
        e1000_wr(hw, E1000_RAH(i), 0);
    }
    for (unsigned i = 0; i < E1000_MTA_N; i++)
        e1000_wr(hw, E1000_MTA + 4 * i, 0);
}

void e1000_hw_rx_init(struct e1000_hw *hw, uint64_t ring_bus, uint32_t n, uint32_t rdt,
                      bool csum)
{
    e1000_wr(hw, E1000_RCTL, 0);
    e1000_wr(hw, E1000_RDBAL, (uint32_t)ring_bus);
    e1000_wr(hw, E1000_RDBAH, (uint32_t)(ring_bus >> 32));
    e1000_wr(hw, E1000_RDLEN, n * 16);
    e1000_wr(hw, E1000_RDH, 0);
    e1000_wr(hw, E1000_RDT, rdt);
    e1000_wr(hw, E1000_RDTR, 0);
    e1000_wr(hw, E1000_RXCSUM, csum ? E1000_RXCSUM_IPOFLD | E1000_RXCSUM_TUOFLD : 0);
    e1000_wr(hw, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC |
                                 E1000_RCTL_BSIZE_2048 | E1000_RCTL_RDMTS_HALF);
}

void e1000_hw_tx_init(struct e1000_hw *hw, uint64_t ring_bus, uint32_t n)
{
    e1000_wr(hw, E1000_TCTL, 0);
    e1000_wr(hw, E1000_TDBAL, (uint32_t)ring_bus);
    e1000_wr(hw, E1000_TDBAH, (uint32_t)(ring_bus >> 32));
    e1000_wr(hw, E1000_TDLEN, n * 16);
    e1000_wr(hw, E1000_TDH, 0);
    e1000_wr(hw, E1000_TDT, 0);
    e1000_wr(hw, E1000_TIPG, E1000_TIPG_DEFAULT);
    e1000_wr(hw, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | 0x0fu << E1000_TCTL_CT_SHIFT |
                                 0x40u << E1000_TCTL_COLD_SHIFT);
}

void e1000_hw_shutdown(struct e1000_hw *hw)
{
    e1000_wr(hw, E1000_IMC, 0xffffffffu);
    e1000_wr(hw, E1000_RCTL, 0);
    e1000_wr(hw, E1000_TCTL, 0);
    (void)e1000_rd(hw, E1000_ICR);
}

bool e1000_hw_link_up(struct e1000_hw *hw)
{
    return (e1000_rd(hw, E1000_STATUS) & E1000_STATUS_LU) != 0;
}
