/* lyra-ping's command line, apart from the tool so that it can be fuzzed
 * (tests/fuzz/fuzz_ping_args.c) and tested on its own. */
#ifndef LYRA_PING_ARGS_H
#define LYRA_PING_ARGS_H

#include <stddef.h>
#include <stdio.h>

#include "tool_args.h"

#define PING_MAX_SIZE 65000

struct ping_opts {
    long count;
    size_t size;
    double interval, timeout;
    int udp_port; /* 0: ICMP */
    int quiet;
    const char *dest;
    struct tool_stack_opts so; /* --stack, --peer, overrides, --stats */
};

/* Defaults as ping's: 5 echoes of 56 bytes, 1 s apart, 2 s to answer. */
void ping_opts_init(struct ping_opts *o);
/* Parses argv[1..argc) (argv strings must outlive o). Returns 0, 1 for a
 * usage error (said on err), 2 for --help. Never exits. */
int ping_parse_args(int argc, char **argv, struct ping_opts *o, FILE *err);
void ping_usage(FILE *f);

#endif
