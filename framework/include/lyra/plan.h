/* A plan: a checked assembly as data. The dynamic path builds one from a
 * manifest at run time; lyra_add_assembly() generates one as const C at
 * build time. lyra_stack_create() turns either into a running stack, so both
 * kinds of assembly go through the same code. */
#ifndef LYRA_PLAN_H
#define LYRA_PLAN_H

#include <stdint.h>

#include "lyra/component.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lyra_plan_inst {
    const char *name;
    const struct lyra_component *c;
    const char *const *params; /* c->n_params texts, NULL where unset */
};

struct lyra_plan_bind {
    uint16_t user, slot, index, prov, provide;
    uint8_t account;
};

struct lyra_plan {
    const char *name;   /* assembly name */
    const char *source; /* manifest it came from */
    uint16_t n_inst, n_bind;
    const struct lyra_plan_inst *inst;
    const struct lyra_plan_bind *bind;
};

#ifdef __cplusplus
}
#endif
#endif
