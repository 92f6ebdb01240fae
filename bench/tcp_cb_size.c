/* The size of tcp's per-connection records, for whatever compiler builds
 * this file (issue 10.2: struct tcp_cb <= 256 bytes, held by the
 * _Static_assert in components/tcp/tcp.c). Nothing runs: each size is the
 * size of a const array, which `nm -S` reads from the object, so a cross
 * compiler (Cortex-M4) gives its numbers without a board. bench/tcp_cb_size.py
 * compiles it for x86-64 and Cortex-M4 and prints the table docs/tcp.md
 * keeps. */
#include <stddef.h>

#include "tcp_priv.h"

#define MEMBER_SIZE(type, m) sizeof(((type *)0)->m)
#define SZ(name, n) extern const unsigned char lyra_sz_##name[n]; const unsigned char lyra_sz_##name[n]

SZ(tcp_cb, sizeof(struct tcp_cb));
SZ(tcp_cb_tmr, MEMBER_SIZE(struct tcp_cb, tmr));
SZ(tcp_cb_cc, MEMBER_SIZE(struct tcp_cb, cc));
SZ(tcp_cb_rto, MEMBER_SIZE(struct tcp_cb, rto));
SZ(tcp_cb_tm, MEMBER_SIZE(struct tcp_cb, tm));
SZ(tcp_cb_ooo, MEMBER_SIZE(struct tcp_cb, ooo));
/* everything from the addresses to the end: sequence variables, windows,
 * timestamps, RTT timing, MSS, flags, state and counters */
SZ(tcp_cb_rest, sizeof(struct tcp_cb) - offsetof(struct tcp_cb, laddr));
SZ(tcp_ep, sizeof(struct tcp_ep));
SZ(tcp_range, sizeof(struct tcp_range));
SZ(tcp, sizeof(struct tcp));
