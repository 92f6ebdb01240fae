/* Descriptor look-ups and ops-table checks used by the binder. */
#include <errno.h>
#include <string.h>

#include "lyra/component.h"

const struct lyra_slot *lyra_component_slot(const struct lyra_component *c, const char *name,
                                            unsigned *index)
{
    for (unsigned i = 0; i < c->n_slots; i++)
        if (!strcmp(c->slots[i].name, name)) {
            if (index)
                *index = i;
            return &c->slots[i];
        }
    return NULL;
}

int lyra_component_param(const struct lyra_component *c, const char *name)
{
    for (unsigned i = 0; i < c->n_params; i++)
        if (!strcmp(c->params[i].name, name))
            return (int)i;
    return -1;
}

int lyra_ops_check(const void *table, const char *iface, uint16_t major, uint16_t minor,
                   uint32_t min_size, const char **why)
{
    const struct lyra_ops_hdr *h = table;
    if (!h) {
        *why = "no table";
        return -EPROTO;
    }
    if (!h->iface || strcmp(h->iface, iface)) {
        *why = "table is for another interface";
        return -EPROTO;
    }
    if (h->major != major) {
        *why = "major version differs";
        return -EPROTO;
    }
    if (h->minor < minor) {
        *why = "minor version older than required";
        return -EPROTO;
    }
    if (h->size < min_size) {
        *why = "table smaller than expected";
        return -EPROTO;
    }
    return 0;
}
