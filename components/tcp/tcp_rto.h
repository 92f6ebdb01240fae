/* The retransmission timeout of one connection (RFC 6298), pure: RTT
 * samples in, the RTO out, with Karn's rule and exponential backoff. Times
 * are microseconds in 32 bits (over an hour), so the state costs the
 * control block 16 bytes. */
#ifndef LYRA_TCP_RTO_H
#define LYRA_TCP_RTO_H

#include <stdint.h>

struct tcp_rto {
    uint32_t srtt, rttvar; /* us; srtt 0: no sample yet */
    uint32_t rto;          /* us, backoff included */
    uint8_t backoff;       /* RTO doublings since the last new sample */
};

struct tcp_rto_limits {
    uint32_t min_us;  /* RFC 6298 (2.4): 1 s SHOULD; a parameter so tests may shorten it */
    uint32_t max_us;  /* (2.5): at least 60 s */
    uint32_t init_us; /* (2.1): 1 s */
    uint32_t g_us;    /* clock granularity G */
};

/* (2.1): before any sample. */
void tcp_rto_init(struct tcp_rto *r, const struct tcp_rto_limits *l);
/* A measurement of a segment that was not retransmitted (Karn: the caller
 * never passes one that was, RFC 6298 3); (2.2) first, (2.3) after; the
 * backoff ends (5.7 note: a new RTT sample ends it). */
void tcp_rto_sample(struct tcp_rto *r, const struct tcp_rto_limits *l, uint32_t rtt_us);
/* (5.5): the timer expired: double the RTO, up to the maximum. */
void tcp_rto_backoff(struct tcp_rto *r, const struct tcp_rto_limits *l);

#endif
