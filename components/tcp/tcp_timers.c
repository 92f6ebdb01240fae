#include "tcp_timers.h"

int tcp_timers_next(const struct tcp_timers *t, uint32_t now_ms, uint32_t *at_ms)
{
    int found = 0;
    uint32_t best = 0;
    for (unsigned k = 0; k < TCP_T_N; k++) {
        if (!(t->armed >> k & 1))
            continue;
        /* compared as distances from now: wrap-safe while < 2^31 ms */
        if (!found || (int32_t)(t->at[k] - now_ms) < (int32_t)(best - now_ms))
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
        if ((t->armed >> k & 1) && (int32_t)(t->at[k] - now_ms) <= 0)
            due |= 1u << k;
    t->armed = (uint8_t)(t->armed & ~due);
    return due;
}
