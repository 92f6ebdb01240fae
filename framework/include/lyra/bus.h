/* Interface `bus` 1.0: everything a NIC driver sees of its device.
 *
 * Provided by a device model on the host (models/: ne2k_model, e1000_model own
 * the link, the pcap capture and the MAC the card reports) and by the
 * bare-metal adapter over real (emulated) hardware. Drivers touch registers
 * only through this, so one driver source runs on both.
 *
 * Port numbers and MMIO offsets are relative to the device's I/O window
 * (ISA iobase or PCI BAR): the driver never knows where the card sits.
 * Every op is immediate. A device model is as strict as the datasheet: a
 * sequence that would hang the real card hangs the model too.
 *
 * Contexts (issue 8.6): the driver calls these from its own entry points
 * only: its start and stop, its poll hook (the stack's poll step) and the
 * netdev ops its user calls (a poll step or an application thread in a
 * socket call, stack lock held), never two at once. info may also be
 * called from the driver's bind (nothing else may). dma_alloc and
 * dma_free: start and stop only; dma_map and dma_unmap: anywhere the
 * driver runs (per frame). No op calls back into the driver; a host model
 * raises `irq` from its own poll step (a poll step like the driver's, so
 * the driver may do its work there); on bare metal `irq`
 * comes from the interrupt handler, where the driver may only note it and
 * must do the work at its next poll step. */
#ifndef LYRA_BUS_H
#define LYRA_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lyra/component.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LYRA_BUS_IFACE "bus"
#define LYRA_BUS_MAJOR 1
#define LYRA_BUS_MINOR 2 /* 1.1: insw_csum; 1.2: outsw_csum */

struct lyra_bus_info {
    uint16_t vendor, device; /* PCI IDs; 0 for ISA */
    uint8_t is_pci;
    uint8_t has_pio;  /* port I/O window */
    uint8_t has_mmio; /* memory-mapped registers (BAR0) */
    uint8_t irq;
    uint32_t pio_size, mmio_size;
};

struct lyra_bus_ops {
    struct lyra_ops_hdr hdr;
    /* What the device is. Fixed from the provider's create on: a driver
     * may call it from its slot's bind (the only op allowed there) to refuse,
     * with -ENODEV, a device it does not drive, which `lyranet check` then
     * reports as a manifest error. */
    int (*info)(void *self, struct lyra_bus_info *info);
    /* port I/O */
    uint8_t (*inb)(void *self, uint32_t port);
    uint16_t (*inw)(void *self, uint32_t port);
    uint32_t (*inl)(void *self, uint32_t port);
    void (*outb)(void *self, uint32_t port, uint8_t v);
    void (*outw)(void *self, uint32_t port, uint16_t v);
    void (*outl)(void *self, uint32_t port, uint32_t v);
    /* string I/O: count 16-bit words from/to one port (rep insw/outsw) */
    void (*insw)(void *self, uint32_t port, void *buf, size_t count);
    void (*outsw)(void *self, uint32_t port, const void *buf, size_t count);
    /* 32-bit MMIO in BAR0 */
    uint32_t (*read32)(void *self, uint32_t off);
    void (*write32)(void *self, uint32_t off, uint32_t v);
    /* PCI configuration space (size 1, 2 or 4) */
    uint32_t (*cfg_read)(void *self, uint32_t off, unsigned size);
    void (*cfg_write)(void *self, uint32_t off, unsigned size, uint32_t v);
    /* DMA memory: coherent memory the device reads and writes, with its bus
     * address (allocate at start only). dma_map gives the bus address of
     * other memory (zero-copy transmit of user buffers); -EFAULT when the
     * platform cannot reach it. */
    void *(*dma_alloc)(void *self, size_t size, size_t align, uint64_t *bus);
    void (*dma_free)(void *self, void *p, size_t size);
    int (*dma_map)(void *self, const void *p, size_t len, uint64_t *bus);
    void (*dma_unmap)(void *self, const void *p, size_t len);
    /* interrupt line: level now (poll mode), and mask at the controller */
    bool (*irq_pending)(void *self);
    void (*irq_enable)(void *self, bool on);
    /* busy-wait (reset sequences); on the host models this advances the
     * model's notion of time instead of sleeping */
    void (*delay_us)(void *self, unsigned us);
    /* 1.1, optional (NULL: none): insw that also returns the Internet
     * checksum's sum of the bytes it stored (RFC 1071, folded to 16 bits,
     * network order: what lyra_csum_copy returns), added in the same loop
     * that moves the words, so the programmed-I/O read of a received frame
     * is the one pass over its bytes that the transport's checksum needs
     * (issue 11.4). A bare-metal provider's loop is in/store/add per word. */
    uint16_t (*insw_csum)(void *self, uint32_t port, void *buf, size_t count);
    /* 1.2, optional (NULL: none): outsw that also returns the sum of the
     * bytes it wrote (as insw_csum's), so the programmed-I/O write of a
     * frame to be sent is the one pass over its payload that the
     * transport's checksum needs: a NIC driver that has it offers checksum
     * insertion (netdev csum_tx) and the stack never reads a referenced
     * payload itself (issue 12.1, 11.4). */
    uint16_t (*outsw_csum)(void *self, uint32_t port, const void *buf, size_t count);
};

/* Whether bus provider o has insw_csum (by its minor version and size). */
#define LYRA_BUS_HAS_INSW_CSUM(o)                                                        \
    ((o)->hdr.minor >= 1 &&                                                             \
     (o)->hdr.size >= offsetof(struct lyra_bus_ops, insw_csum) + sizeof((o)->insw_csum) && \
     (o)->insw_csum)

/* Whether bus provider o has outsw_csum (by its minor version and size). */
#define LYRA_BUS_HAS_OUTSW_CSUM(o)                                                         \
    ((o)->hdr.minor >= 2 &&                                                               \
     (o)->hdr.size >= offsetof(struct lyra_bus_ops, outsw_csum) + sizeof((o)->outsw_csum) && \
     (o)->outsw_csum)

/* Events to the driver bound to the bus. */
struct lyra_bus_events {
    struct lyra_ops_hdr hdr;
    /* the device raised its interrupt line (interrupt mode) */
    void (*irq)(void *user);
};

#ifdef __cplusplus
}
#endif
#endif
