/* Descriptor look-ups and ops-table checks used by the binder. */
#include <errno.h>
#include <string.h>

#include "lyra/component.h"
#include "lyra/diag.h"

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

/* Runs c's check hook (ABI 0.1) and copies its errors to d as "INST.PARAM:
 * msg" at the line of the parameter at fault (lines[k], 0 when the value is
 * the default) or at inst_line. Returns the number of errors. */
unsigned lyra_component_run_check(const struct lyra_component *c, const char *inst,
                                  const struct lyra_value *v, const unsigned *lines,
                                  unsigned inst_line, struct lyra_diag *d)
{
    int (*check)(const struct lyra_value *, struct lyra_diag *) = LYRA_COMPONENT_CHECK(c);
    if (!check)
        return 0;
    struct lyra_diag cd;
    lyra_diag_init(&cd, NULL);
    check(v, &cd);
    for (unsigned e = 0; e < cd.n; e++) {
        unsigned k = cd.v[e].line;
        unsigned line = k && k <= c->n_params && lines && lines[k - 1] ? lines[k - 1] : inst_line;
        if (k && k <= c->n_params)
            lyra_diag_add(d, LYRA_E_RANGE, line, "%s.%s: %s", inst, c->params[k - 1].name,
                          cd.v[e].msg);
        else
            lyra_diag_add(d, LYRA_E_RANGE, line, "%s: %s", inst, cd.v[e].msg);
    }
    unsigned n = cd.n + cd.dropped;
    lyra_diag_free(&cd);
    return n;
}
