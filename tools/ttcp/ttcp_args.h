/* lyra-ttcp's command line (the classic ttcp options plus the stack
 * options), apart from the tool so that it can be fuzzed
 * (tests/fuzz/fuzz_ttcp_args.c) and tested on its own. */
#ifndef LYRA_TTCP_ARGS_H
#define LYRA_TTCP_ARGS_H

#include <stddef.h>
#include <stdio.h>

#include "tool_args.h"

#define TTCP_MAX_LEN (1 << 20) /* -l: one write or read */
#define TTCP_MAX_UDP_LEN 65507 /* what fits a datagram (RFC 791, 768) */
#define TTCP_MAX_ROTATE (1ull << 30) /* --rotate: at most 1 GiB */

struct ttcp_opts {
    int trans;      /* 1: -t, 0: -r */
    int udp;        /* -u */
    long len;       /* -l: bytes per write (default 8192) */
    long count;     /* -n: writes (default 2048) */
    int port;       /* -p (default 5001) */
    int nodelay;    /* -D: TCP_NODELAY */
    long sockbuf;   /* -b: SO_SNDBUF / SO_RCVBUF (0: the default) */
    double timeout; /* -W: a UDP receiver ends after this much silence */
    int quiet;      /* -q: only the result lines */
    size_t rotate;  /* --rotate: bytes the buffers rotate through (0: one buffer, warm) */
    int pkt;        /* --pkt: buffers from lyra_pkt_alloc (lyra-ttcp only) */
    long rlen;      /* --rlen: bytes per read (0: -l) */
    int zerocopy;   /* --zerocopy: the sender's MSG_ZEROCOPY (lyra-ttcp only) */
    int loan;       /* --loan: the receiver's lyra_recv_loan (lyra-ttcp only) */
    const char *host;
    struct tool_stack_opts so;
};

void ttcp_opts_init(struct ttcp_opts *o);
/* Parses argv[1..argc) (argv strings must outlive o). `stacks`: whether
 * --stack/--peer are allowed (lyra-ttcp) or refused (ttcp on the host's
 * sockets). Returns 0, 1 for a usage error (said on err), 2 for --help.
 * Never exits. */
int ttcp_parse_args(int argc, char **argv, struct ttcp_opts *o, int stacks, FILE *err);
void ttcp_usage(FILE *f, const char *tool, int stacks);

#endif
