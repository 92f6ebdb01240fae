#include "tcp_timers.h"

#include "tcp_seq.h"

static int32_t ms_from(uint32_t at, uint32_t now)
{
    return tcp_seq_diff(tcp_seq(at), tcp_seq(now));
}

int tcp_timers_next(const struct tcp_timers *t, uint32_t now_ms, uint32_t *at_ms)
{
    int found = 0;
    uint32_t best = 0;
    for (unsigned k = 0; k < TCP_T_N; k++) {
        if (!(t->armed >> k & 1))
            continue;
        /* compared as signed distances from now (modulo 2^32, converted
         * as tcp_seq_diff does): wrap-safe while < 2^31 ms */
        if (!found || ms_from(t->at[k], now_ms) < ms_from(best, now_ms))
            best = t->at[k];
        found = 1;
    }
    if (found)
        *at_ms = best;
    return found;
}

unsigned tcp_timers_due(struct tcp_timers *t, uint32_t now_ms)
{
    unsigned due = 0;
    for (unsigned k = 0; k < TCP_T_N; k++)
        if ((t->armed >> k & 1) && ms_from(t->at[k], now_ms) <= 0)
            due |= 1u << k;
    t->armed = (uint8_t)(t->armed & ~due);
    return due;
}
