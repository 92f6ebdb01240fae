/* e1000 hardware bring-up through `bus`: probe, PCI command (bus
 * mastering), reset, MAC from the EEPROM (EERD), receive address filter,
 * and ring registers. No state beyond struct e1000_hw. */
#ifndef NIC_DMA_E1000_HW_H
#define NIC_DMA_E1000_HW_H

#include <stdbool.h>
#include <stdint.h>

#include "lyra/bus.h"

enum e1000_variant { E1000_V_82540, E1000_V_82574 };

struct e1000_hw {
    const struct lyra_bus_ops *bus;
    void *bself;
    enum e1000_variant variant;
    uint16_t device;
};

static inline uint32_t e1000_rd(const struct e1000_hw *hw, uint32_t off)
{
    return hw->bus->read32(hw->bself, off);
}

static inline void e1000_wr(const struct e1000_hw *hw, uint32_t off, uint32_t v)
{
    hw->bus->write32(hw->bself, off, v);
}

/* Checks the IDs (8086:100e, 8086:10d3) and BAR0; -ENODEV otherwise. */
int e1000_hw_probe(struct e1000_hw *hw);
/* Memory space and bus mastering on in the PCI command register (firmware
 * and QEMU leave mastering off: DMA would be refused). */
void e1000_hw_enable_master(struct e1000_hw *hw);
/* Masks interrupts, resets the MAC (CTRL.RST, waits for it to clear),
 * masks again, clears ICR, then sets link up (SLU, ASDE). -ETIMEDOUT.
 * Nothing after it relies on what the reset did or did not do: QEMU's
 * e1000 ignores CTRL.RST (registers keep their values, RAL0/RAH0 hold the
 * MAC from power-on), the manual's card returns every register to its
 * default with RAL/RAH empty. The caller writes every register it uses,
 * the receive address included (e1000_hw_set_filter). */
int e1000_hw_reset(struct e1000_hw *hw);
/* One EEPROM word through EERD (the variant's layout). -ETIMEDOUT. */
int e1000_hw_eeprom_read(struct e1000_hw *hw, uint8_t addr, uint16_t *out);
/* MAC from EEPROM words 0..2. */
int e1000_hw_read_mac(struct e1000_hw *hw, uint8_t mac[6]);
/* Whether EEPROM words 0..0x3f sum to 0xbaba (manual 5.6.1). */
int e1000_hw_eeprom_valid(struct e1000_hw *hw, bool *ok);
/* RAL0/RAH0 = mac (AV), other receive addresses invalid, MTA cleared.
 * Needed after every reset: the manual's card has no receive address
 * until it is written (QEMU preloads RAL0/RAH0). */
void e1000_hw_set_filter(struct e1000_hw *hw, const uint8_t mac[6]);
/* Receive ring at ring_bus with n descriptors (n*16 a multiple of 128),
 * BSIZE 2048 with LPE off (the card writes at most a 1518-byte frame into
 * a buffer), broadcast accepted, CRC stripped; RDT = rdt (the descriptors
 * before it hold buffers; n-1 when all do). */
void e1000_hw_rx_init(struct e1000_hw *hw, uint64_t ring_bus, uint32_t n, uint32_t rdt,
                      bool csum);
/* Transmit ring; TDH = TDT = 0; TCTL.EN with PSP (pad short packets). */
void e1000_hw_tx_init(struct e1000_hw *hw, uint64_t ring_bus, uint32_t n);
/* RCTL and TCTL off, every interrupt masked. */
void e1000_hw_shutdown(struct e1000_hw *hw);
bool e1000_hw_link_up(struct e1000_hw *hw);

#endif
