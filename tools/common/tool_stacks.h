/* Running stacks in a tool (lyra-ping, lyra-ttcp): load, start, optional
 * services, a loop thread each; at the end the counters as asked
 * (--stats, --stats=all, --stats-json) and teardown. */
#ifndef LYRA_TOOL_STACKS_H
#define LYRA_TOOL_STACKS_H

#include <pthread.h>

#include "tool_args.h"

struct lyra_stack;
struct lyra_services;

struct tool_stack {
    struct tool_stack_arg a;
    struct lyra_stack *s;
    pthread_t loop;
    int running;
    struct lyra_services *sv;
};

/* Loads, starts and runs t's stack on a thread of its own, with the
 * services named (comma list, or NULL). 0, 1 (manifest or override error,
 * said by the loader) or 2 (said here). */
int tool_stack_up(const char *tool, struct tool_stack *t, const char *services);
/* Stops the loop and the services; the stack stays for its counters. */
void tool_stack_stop(struct tool_stack *t);
/* A peer loaded from the same manifest gets "-peer" added to its name, so
 * the two are told apart in counters and messages. */
void tool_stacks_name_apart(struct tool_stack *st, struct tool_stack *peer);
/* Prints or writes the stacks' counters as the options ask and destroys
 * the stacks. 0, or 2 when the JSON file cannot be written. */
int tool_stacks_finish(const char *tool, struct tool_stack *const *v, int n,
                       const struct tool_stack_opts *o);

#endif
