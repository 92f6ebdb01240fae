#ifndef LYRA_STACK_INTERNAL_H
#define LYRA_STACK_INTERNAL_H

#include "lyra/stack.h"

/* Runs at the end of lyra_stack_destroy: the dynamic loader frees the plan
 * and closes the shared objects there, after every instance is gone. */
void lyra_stack_set_cleanup(struct lyra_stack *s, void (*fn)(void *ctx), void *ctx);

#endif
