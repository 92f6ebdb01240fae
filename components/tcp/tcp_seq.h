/* TCP sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 3.4,
 * RFC 1982 serial number arithmetic with SERIAL_BITS 32).
 *
 * tcp_seq_t is a one-member struct so that a sequence number cannot be
 * mixed with a length or a plain counter by accident: adding a length is
 * tcp_seq_add(), the distance between two is tcp_seq_diff() (signed).
 *
 * a < b means b lies in the 2^31 - 1 values after a. Two values exactly
 * 2^31 apart have no order in RFC 1982 (3.2); here, as in Linux's before(),
 * each is then "less" than the other. TCP never compares values that far
 * apart: windows are below 2^30 (RFC 7323 2.3). */
#ifndef LYRA_TCP_SEQ_H
#define LYRA_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint32_t v;
} tcp_seq_t;

static inline tcp_seq_t tcp_seq(uint32_t v)
{
    return (tcp_seq_t){v};
}

/* a + n, wrapping at 2^32 (RFC 1982 3.1 allows n < 2^31). */
static inline tcp_seq_t tcp_seq_add(tcp_seq_t a, uint32_t n)
{
    return (tcp_seq_t){a.v + n};
}

/* a - b as a signed distance: negative when a is before b. Exactly 2^31
 * apart gives INT32_MIN. Written without an out-of-range conversion. */
static inline int32_t tcp_seq_diff(tcp_seq_t a, tcp_seq_t b)
{
    uint32_t d = a.v - b.v;
    return d <= (uint32_t)INT32_MAX ? (int32_t)d : -(int32_t)(~d) - 1;
}

static inline bool tcp_seq_lt(tcp_seq_t a, tcp_seq_t b)
{
    return ((a.v - b.v) & 0x80000000u) != 0;
}

static inline bool tcp_seq_le(tcp_seq_t a, tcp_seq_t b)
{
    return a.v == b.v || tcp_seq_lt(a, b);
}

static inline bool tcp_seq_gt(tcp_seq_t a, tcp_seq_t b)
{
    return tcp_seq_lt(b, a);
}

static inline bool tcp_seq_ge(tcp_seq_t a, tcp_seq_t b)
{
    return a.v == b.v || tcp_seq_lt(b, a);
}

static inline bool tcp_seq_eq(tcp_seq_t a, tcp_seq_t b)
{
    return a.v == b.v;
}

/* lo <= s < hi, the test of RFC 9293 3.4 ("RCV.NXT =< SEG.SEQ <
 * RCV.NXT+RCV.WND"): true for the hi - lo values from lo on, whatever the
 * wrap; an empty range (lo == hi) holds nothing. */
static inline bool tcp_seq_in(tcp_seq_t s, tcp_seq_t lo, tcp_seq_t hi)
{
    return s.v - lo.v < hi.v - lo.v;
}

/* The later (max) and earlier (min) of two sequence numbers. */
static inline tcp_seq_t tcp_seq_max(tcp_seq_t a, tcp_seq_t b)
{
    return tcp_seq_lt(a, b) ? b : a;
}

static inline tcp_seq_t tcp_seq_min(tcp_seq_t a, tcp_seq_t b)
{
    return tcp_seq_lt(a, b) ? a : b;
}

/* Timestamp values compare the same way (RFC 7323 5.3: PAWS rejects a
 * segment whose TSval is less than TS.Recent, modulo 2^32). They stay plain
 * uint32_t: a TSval is a clock reading, not a place in the byte stream. */
static inline bool tcp_ts_lt(uint32_t a, uint32_t b)
{
    return ((a - b) & 0x80000000u) != 0;
}

#endif
