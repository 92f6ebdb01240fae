#ifndef LYRA_STACK_INTERNAL_H
#define LYRA_STACK_INTERNAL_H

#include "lyra/stack.h"

/* Runs at the end of lyra_stack_destroy: the dynamic loader frees the plan
 * and closes the shared objects there, after every instance is gone. */
void lyra_stack_set_cleanup(struct lyra_stack *s, void (*fn)(void *ctx), void *ctx);

/* For the socket API (socket_api.c): the stack lock, one step with it held,
 * the wait for progress, the socket provider. */
struct lyra_socket_ops;
void lyra_stack_lock(struct lyra_stack *s);
void lyra_stack_unlock(struct lyra_stack *s);
uint64_t lyra_stack_step_locked(struct lyra_stack *s);
int lyra_stack_wait_locked(struct lyra_stack *s, uint64_t deadline);
void lyra_stack_kick(struct lyra_stack *s);
int lyra_stack_loop_running(const struct lyra_stack *s);
uint64_t lyra_stack_now(struct lyra_stack *s);
const struct lyra_socket_ops *lyra_stack_socket(struct lyra_stack *s, void **self);

#endif
