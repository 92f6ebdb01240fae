/* A connection's timers on one os timer. A control block has room for one
 * struct lyra_timer (48 bytes on x86-64) within its 256-byte budget, not
 * four, so the connection keeps a deadline per kind here (24 bytes) and
 * arms its os timer for the earliest (lazily: tcp_timer.c rearm); when it fires, tcp_timers_due says
 * which kinds expired. Times are milliseconds of the os clock, 32 bits,
 * compared wrap-safe: deadlines up to 24 days ahead (keepalive's 2 hours
 * fit). The kinds that never run together share a slot: retransmission
 * and the zero-window probe (persist), keepalive and TIME_WAIT. */
#ifndef LYRA_TCP_TIMERS_H
#define LYRA_TCP_TIMERS_H

#include <stdint.h>

enum tcp_timer_kind {
    TCP_T_RTX,      /* retransmission (RFC 6298), or persist (RFC 9293 3.8.6.1) */
    TCP_T_DELACK,   /* delayed ACK (RFC 9293 3.8.6.3, at most 500 ms; we use 200) */
    TCP_T_KEEP,     /* keepalive (RFC 1122 4.2.3.6), or TIME_WAIT's 2 MSL */
    TCP_T_USER,     /* connect timeout, TCP_USER_TIMEOUT, R2 (RFC 1122 4.2.3.5) */
    TCP_T_N
};

struct tcp_timers {
    uint32_t at[TCP_T_N]; /* ms */
    uint32_t os_at;       /* ms: when the os timer fires, while os_armed */
    uint8_t armed;        /* a bit per kind */
    uint8_t os_armed;     /* the os timer is armed (tcp_timer.c: it may fire early) */
};

static inline void tcp_timers_init(struct tcp_timers *t)
{
    t->armed = 0;
    t->os_armed = 0;
}

static inline void tcp_timers_set(struct tcp_timers *t, enum tcp_timer_kind k, uint32_t at_ms)
{
    t->at[k] = at_ms;
    t->armed = (uint8_t)(t->armed | 1u << k);
}

static inline void tcp_timers_clear(struct tcp_timers *t, enum tcp_timer_kind k)
{
    t->armed = (uint8_t)(t->armed & ~(1u << k));
}

static inline int tcp_timers_armed(const struct tcp_timers *t, enum tcp_timer_kind k)
{
    return t->armed >> k & 1;
}

/* The earliest deadline: 1 and *at_ms, or 0 when none is armed (the
 * connection's os timer may stay armed: tcp_timer.c rearm). */
int tcp_timers_next(const struct tcp_timers *t, uint32_t now_ms, uint32_t *at_ms);
/* The kinds due at now_ms (a bit each), disarmed. */
unsigned tcp_timers_due(struct tcp_timers *t, uint32_t now_ms);

#endif
