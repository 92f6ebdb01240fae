/* The application API: a stack handle, no hidden "current stack".
 *
 *   lyra_stack_load(path, overrides, &s)      dynamic (dlopen) assembly
 *   lyra_assembly_NAME_create(overrides, &s)  static assembly (generated)
 *   lyra_stack_start(s); lyra_stack_run(s) or lyra_stack_poll(s) in a loop;
 *   lyra_stack_stop(s) from any thread or a signal handler ends run();
 *   lyra_stack_destroy(s) stops every component and frees everything.
 * Overrides are "INSTANCE.PARAM=VALUE" strings, NULL-terminated (or NULL),
 * checked with the descriptors' parameter types. */
#ifndef LYRA_STACK_H
#define LYRA_STACK_H

#include <stdint.h>
#include <stdio.h>

#include "lyra/component.h"
#include "lyra/diag.h"
#include "lyra/plan.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lyra_stack;

/* Creates and binds every instance of a plan (not started). Errors go to d
 * (or stderr when d is NULL). Returns 0, -EINVAL for manifest/override
 * errors (exit status 1), or -ENOEXEC when an instance fails to create or
 * bind (exit status 2; d says why). */
int lyra_stack_create(const struct lyra_plan *plan, const char *const *overrides,
                      struct lyra_diag *d, struct lyra_stack **out);
/* Dynamic assembly from a manifest file (in lyra_manifest). Same returns. */
int lyra_stack_load(const char *manifest, const char *const *overrides, struct lyra_stack **out);
int lyra_stack_load_diag(const char *manifest, const char *const *overrides, struct lyra_diag *d,
                         struct lyra_stack **out);

/* Starts instances, providers before their users. */
int lyra_stack_start(struct lyra_stack *s);
/* One run-to-completion step: every instance's poll, then due timers.
 * Returns the next deadline (monotonic ns of the stack's os), 0 when work is
 * pending now, LYRA_TIME_NEVER when nothing is scheduled. */
uint64_t lyra_stack_poll(struct lyra_stack *s);
/* Loops poll/wait until lyra_stack_stop. Returns 0, or -ENOSYS when no
 * instance provides `os` to wait with. */
int lyra_stack_run(struct lyra_stack *s);
/* As run, but returns after ns nanoseconds of the stack's clock too. */
int lyra_stack_run_for(struct lyra_stack *s, uint64_t ns);
/* Asks run() to return. Safe from other threads and signal handlers. */
void lyra_stack_stop(struct lyra_stack *s);
int lyra_stack_stopping(const struct lyra_stack *s);
/* Stops (reverse start order) and destroys every instance. */
void lyra_stack_destroy(struct lyra_stack *s);

const char *lyra_stack_name(const struct lyra_stack *s);
void lyra_stack_set_name(struct lyra_stack *s, const char *name);
/* An instance by name (NULL if none); c receives its descriptor. */
void *lyra_stack_instance(struct lyra_stack *s, const char *name,
                          const struct lyra_component **c);
/* Instance names in plan order; NULL past the end. */
const char *lyra_stack_instance_name(const struct lyra_stack *s, unsigned i);
/* RAM of instance i (plan order; docs/manifests.md, "RAM"): its struct
 * (the descriptor's instance_size: what a static build of the same ABI
 * reserves) and what it took from the os in its last start: heap (os
 * mem_alloc, bytes asked for) and pages (os page_alloc), in bytes; heap and
 * pages are UINT64_MAX where the os cannot tell (os < 2.5), before the
 * first start and after a failed one. host: the component is a host's
 * stand-in (LYRA_COMP_F_HOST: os_posix, device models), not the stack. The
 * framework's own bookkeeping is not in it. 0, or -1 past the end. */
struct lyra_ram {
    uint64_t instance, heap, pages;
    int host;
};
int lyra_stack_ram(const struct lyra_stack *s, unsigned i, struct lyra_ram *r);
/* The value of a parameter as the stack was created (NULL if unknown). */
const struct lyra_value *lyra_stack_param(struct lyra_stack *s, const char *inst,
                                          const char *param);

/* Stats: every instance's counters, and per accounted binding its calls,
 * bytes and ns (inclusive of what the callee calls) per op and event.
 * Taken under the stack's lock (any thread, the loop running or not; not
 * from a callback the stack runs, which holds it already). */
struct lyra_stats_visitor {
    void (*counter)(void *ctx, const char *inst, const char *name, uint64_t v);
    void (*binding)(void *ctx, const char *user, const char *slot, const char *prov,
                    const char *iface, const char *op, int is_event, uint64_t calls,
                    uint64_t bytes, uint64_t ns);
    void *ctx;
};
void lyra_stack_stats(struct lyra_stack *s, const struct lyra_stats_visitor *v);
/* One counter (UINT64_MAX when absent). */
uint64_t lyra_stack_counter(struct lyra_stack *s, const char *inst, const char *name);
/* Socket calls blocked in this stack now (recv, send, accept, connect,
 * poll waiting for their event): for tests and diagnostics, e.g. to know a
 * thread has gone to sleep in a call rather than guess after a sleep. */
unsigned lyra_stack_blocked(struct lyra_stack *s);
/* The counters that moved, one group of NAME=VALUE per instance (--stats). */
void lyra_stack_stats_print(struct lyra_stack *s, FILE *f);
/* Every counter, one per line (--stats=all). */
void lyra_stack_stats_print_all(struct lyra_stack *s, FILE *f);
/* Writes {"INST": {counters..., "bindings": {...}}, ..., "copy": {...},
 * "ram": {...}} (no trailing newline; "copy": lyra/copy_stats.h; "ram":
 * lyra_stack_ram, docs/manifests.md "RAM"). */
void lyra_stack_stats_json(struct lyra_stack *s, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
