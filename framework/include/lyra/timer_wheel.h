/* The timer store every os provider shares (os_posix, fake_os, a bare-metal
 * adapter): a hierarchical timing wheel. Arm, re-arm and cancel are O(1)
 * whatever the number of timers armed; a poll step with nothing due costs
 * one comparison. No allocation (the nodes are the callers' struct
 * lyra_timer), no global state, not thread safe: the provider serialises.
 *
 * Deadlines are exact (1 ns ticks). 11 levels of 64 slots cover every 64-bit
 * time: a timer sits at the level of the highest 6-bit digit in which its
 * deadline differs from the wheel's time `cur`, and moves one or more levels
 * down (a cascade) when `cur` enters its slot, so it moves at most 10 times
 * in its life. Timers due at the same time run in arming order. */
#ifndef LYRA_TIMER_WHEEL_H
#define LYRA_TIMER_WHEEL_H

#include <stdint.h>

#include "lyra/os.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LYRA_TW_BITS 6
#define LYRA_TW_SLOTS 64
#define LYRA_TW_LEVELS 11

struct lyra_tw_link {
    struct lyra_tw_link *next, *prev;
};

struct lyra_tw {
    struct lyra_tw_link slot[LYRA_TW_LEVELS][LYRA_TW_SLOTS];
    uint64_t occupied[LYRA_TW_LEVELS]; /* a bit per non-empty slot */
    struct lyra_tw_link due;           /* deadline <= cur, not taken yet */
    uint64_t cur;                      /* the wheel's time (ns) */
    uint64_t next;                     /* <= the earliest slot entry; UINT64_MAX: none */
    unsigned next_stale;               /* a cancel may have emptied next's slot */
    unsigned armed;
};

void lyra_tw_init(struct lyra_tw *w, uint64_t now_ns);
/* (Re-)arms t for deadline_ns; an armed timer moves (from wherever it is,
 * a batch included). A deadline <= the wheel's time is due at once. */
void lyra_tw_arm(struct lyra_tw *w, struct lyra_timer *t, uint64_t deadline_ns);
void lyra_tw_cancel(struct lyra_tw *w, struct lyra_timer *t);
int lyra_tw_armed(const struct lyra_timer *t);
uint64_t lyra_tw_deadline(const struct lyra_timer *t); /* LYRA_TIME_NEVER when not armed */

/* Moves the wheel's time to now_ns (never back) and every timer due by then
 * onto batch, a list head the caller initialised with lyra_tw_batch_init.
 * Timers on a batch stay armed (cancel and arm take them off) until
 * lyra_tw_pop hands them out, disarmed, in deadline then arming order. */
void lyra_tw_batch_init(struct lyra_tw_link *batch);
void lyra_tw_collect(struct lyra_tw *w, uint64_t now_ns, struct lyra_tw_link *batch);
struct lyra_timer *lyra_tw_pop(struct lyra_tw *w, struct lyra_tw_link *batch);

/* When to look again: the wheel's time when timers are due already (armed
 * into the past since the last collect), else a lower bound of the earliest
 * deadline (exact for the nearest timers; for far ones the time their slot
 * must be cascaded), or LYRA_TIME_NEVER. */
uint64_t lyra_tw_next(struct lyra_tw *w);

#ifdef __cplusplus
}
#endif
#endif
