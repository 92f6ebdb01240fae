/* Command-line pieces every stack tool shares (lyra-ping, lyra-ttcp):
 * numbers with ranges, and the stack options --stack MANIFEST [overrides]
 * [--peer MANIFEST [overrides]] --stats[=all] --stats-json FILE. Nothing
 * here exits or allocates; errors are said on `err`, prefixed by the tool. */
#ifndef LYRA_TOOL_ARGS_H
#define LYRA_TOOL_ARGS_H

#include <stdio.h>

#define TOOL_MAX_OVERRIDES 64

struct tool_stack_arg {
    const char *manifest;
    const char *ov[TOOL_MAX_OVERRIDES + 1]; /* NULL-terminated */
    unsigned n;
};

struct tool_stack_opts {
    struct tool_stack_arg st, peer;
    struct tool_stack_arg *cur; /* where INST.PARAM=VALUE goes */
    int stats;                  /* 1: --stats, 2: --stats=all */
    const char *json;
};

/* v as a number in [lo, hi] (NaN, inf, trailing text refused). 0, or -1
 * after saying why. */
int tool_parse_num(const char *tool, const char *opt, const char *v, double lo, double hi,
                   double *out, FILE *err);

/* Takes argv[*i] (and its value, advancing *i) when it is a stack option or
 * an override. 1 taken, 0 not a stack option, -1 a usage error (said). */
int tool_parse_stack_opt(const char *tool, int argc, char **argv, int *i,
                         struct tool_stack_opts *o, FILE *err);

/* The usage lines of the stack options. */
void tool_stack_usage(FILE *f, const char *peer_does);

#endif
