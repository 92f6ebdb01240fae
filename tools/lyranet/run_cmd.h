/* The `run` command shared by `lyranet run` and the static binaries
 * build/bin/lyra-NAME: options, signals, the loop, stats at exit. */
#ifndef LYRA_RUN_CMD_H
#define LYRA_RUN_CMD_H

#include "lyra/stack.h"

/* Creates the stack from overrides (NULL-terminated); errors into d.
 * Returns as lyra_stack_create does. */
typedef int (*lyra_run_create_fn)(void *ctx, const char *const *overrides, struct lyra_diag *d,
                                  struct lyra_stack **out);

/* argv[0..argc) are the arguments after the manifest (or all arguments of
 * a static binary). `prog` names the program in usage messages. Returns the
 * exit status: 0 ok, 1 manifest or usage error, 2 run-time failure. */
int lyra_run_main(const char *prog, const char *source, int argc, char **argv,
                  lyra_run_create_fn create, void *ctx);

#endif
