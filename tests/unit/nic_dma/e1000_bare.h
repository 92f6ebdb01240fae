/* The e1000 device model alone, for tests that write descriptors and
 * registers by hand (test_nic_dma's DMA faults, test_e1000_tso's
 * segmentation): fake_os behind it, bus mastering on. e1000_bare_down is
 * the leak check: no os memory left once the model is gone. */
#ifndef E1000_BARE_H
#define E1000_BARE_H

#include <criterion/criterion.h>

#include "e1000_model.h"
#include "fake_os.h"
#include "lt.h"
#include "lyra/bus.h"

#define E1000_BARE_PCI_CMD 0x04

struct e1000_bare {
    struct lt_inst *os, *dev;
    const struct lyra_bus_ops *b;
    void *s;
};

static inline void e1000_bare_up(struct e1000_bare *x)
{
    x->os = lt_create(&lyra_component_fake_os, NULL);
    x->dev = lt_create(&lyra_component_e1000_model, NULL);
    cr_assert_eq(lt_bind(x->dev, "os", x->os), 0);
    cr_assert_eq(lt_start(x->os), 0);
    cr_assert_eq(lt_start(x->dev), 0);
    x->b = lt_ops(x->dev, "bus");
    x->s = x->dev->self;
    x->b->cfg_write(x->s, E1000_BARE_PCI_CMD, 2, 0x0007); /* memory, bus master */
}

static inline void e1000_bare_down(struct e1000_bare *x)
{
    lt_destroy(x->dev);
    cr_assert_eq(fake_os_mem_in_use(x->os->self), 0);
    lt_destroy(x->os);
}

#endif
