#ifndef LYRA_STACK_INTERNAL_H
#define LYRA_STACK_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include "lyra/stack.h"

struct lyra_component;
struct lyra_value;
struct lyra_os_ops;
struct lyra_socket_ops;
struct lyra_waiter;
struct lyra_cvnode;
struct lyra_socket_events;

#define POLL_BUDGET 64

struct inst_rt {
    const struct lyra_component *c;
    const char *name;
    void *self;
    struct lyra_value *v;
    const char **texts;
    char **owned; /* copies of string values, per parameter */
    int created, started;
    /* what the os held more after its last start than before (lyra_stack_ram) */
    uint64_t ram_heap, ram_pages;
    int ram_known;
};

struct lyra_stack {
    char name[64];
    const struct lyra_plan *plan;
    struct inst_rt *inst;
    unsigned n;
    unsigned *order; /* start order: providers first */
    /* the started instances that have a poll hook, in start order, so an
     * idle step does not walk every instance */
    struct lyra_poller {
        int (*poll)(void *self, unsigned budget);
        void *self;
        unsigned inst;
    } *pollers;
    unsigned n_pollers;
    struct lyra_proxy **px; /* per plan binding; NULL when not accounted */
    /* With any binding accounted, the loop's own entries into the stack
     * are too (issue 12.6): each instance's poll hook (tcp's: the receive
     * batch's end), and the due timers (delayed ACKs, retransmissions),
     * which no binding sees. */
    int acct_loop;
    struct lyra_loop_cnt {
        uint64_t calls, ns;
    } *loop_cnt, timers_cnt; /* loop_cnt: per instance */
    const struct lyra_os_ops *os;
    void *os_self;
    atomic_int stop;
    void (*cleanup)(void *ctx);
    void *cleanup_ctx;
    /* Serialises poll steps and socket calls from application threads
     * (NULL when the os has no locks: then there is one thread). */
    void *mu;
    void *cv; /* broadcast after each step while someone waits (NULL: none) */
    atomic_int loop_running; /* a thread is inside lyra_stack_run_for */
    int looping;             /* one of them runs the loop, the others wait (under mu) */
    int driving;             /* a blocked caller is stepping the loop (under mu) */
    uint64_t sleep_until;    /* deadline of the thread in os wait; 0: none (under mu) */
    unsigned waiters;        /* callers in cond_wait (under mu) */
    const struct lyra_socket_ops *sock;
    void *sock_self;
    /* Blocked socket calls (stack_wait.c), each waiting on its own
     * condition; the driver is the one stepping the loop when no thread
     * runs it (all under mu). */
    struct lyra_waiter *wl;
    struct lyra_waiter *driver;
    struct lyra_cvnode *cv_free, *cv_all;
    /* conditions to broadcast once the lock is released (lyra_stack_unlock) */
#define LYRA_WAKE_DEFER 8
    void *defer[LYRA_WAKE_DEFER];
    unsigned n_defer;
};


/* Runs at the end of lyra_stack_destroy: the dynamic loader frees the plan
 * and closes the shared objects there, after every instance is gone. */
void lyra_stack_set_cleanup(struct lyra_stack *s, void (*fn)(void *ctx), void *ctx);

/* For the socket API (socket_api.c): the stack lock, one step with it held,
 * the wait for progress, the socket provider. */
struct lyra_socket_ops;
void lyra_stack_lock(struct lyra_stack *s);
void lyra_stack_unlock(struct lyra_stack *s);
uint64_t lyra_stack_step_locked(struct lyra_stack *s);
void lyra_stack_kick(struct lyra_stack *s);
int lyra_stack_loop_running(const struct lyra_stack *s);
uint64_t lyra_stack_now(struct lyra_stack *s);
const struct lyra_socket_ops *lyra_stack_socket(struct lyra_stack *s, void **self);


/* ---- waiting (stack_wait.c) ----
 * A blocked call registers a waiter for its descriptor (or, lyra_poll, a
 * set of descriptors) and sleeps on a condition of its own; the socket
 * provider's ready events (socket 1.2) wake only the waiters of that
 * descriptor. So 32 threads blocked on 32 descriptors cost one wake-up
 * and one transport call per datagram, not 32. */

/* Poll entries on descriptors below this are indexed (an event finds its
 * entry without a scan); beyond, the waiter takes every event. */
#ifndef LYRA_POLL_INDEX_FDS
#define LYRA_POLL_INDEX_FDS 1024
#endif
#define LYRA_WAIT_READY_MAX 16
#define LYRA_WAIT_CLOSED 0x40000000 /* in ready[]: that descriptor was closed */

struct lyra_waiter {
    struct lyra_waiter *next, *prev;
    int fd;              /* the descriptor of a call; -1: a poll (idx) */
    unsigned want;       /* LYRA_POLL_* that end the wait (ERR, HUP, NVAL always do) */
    const uint16_t *idx; /* poll: idx[fd] != 0 when fd is watched (fd < LYRA_POLL_INDEX_FDS) */
    uint32_t *closed;    /* poll: a bit per indexed fd closed during the wait */
    int any;             /* poll with an fd beyond the index: every event wakes it */
    int woken;           /* an event came since the last look */
    int sleeping;
    unsigned nready;     /* poll: descriptors reported since the last look */
    int overflow;        /* more than LYRA_WAIT_READY_MAX: look at every entry */
    int ready[LYRA_WAIT_READY_MAX];
    void *cv;            /* own condition (the stack's cache), or the stack's */
};

/* Registers w (fields set by the caller; woken, lists cleared here). */
void lyra_waiter_add(struct lyra_stack *s, struct lyra_waiter *w);
void lyra_waiter_del(struct lyra_stack *s, struct lyra_waiter *w);
/* Waits until an event for w, with s locked: sleeps on w's condition while
 * another thread steps the loop, else steps it here. Returns 0 (look
 * again), -ETIMEDOUT at deadline, -ECANCELED after lyra_stack_stop. */
int lyra_stack_wait_locked(struct lyra_stack *s, struct lyra_waiter *w, uint64_t deadline);
/* After each step (and state-changing call): wake the waiters for OUT
 * (a shared resource such as the skb pool may be back) and a loop thread
 * waiting to take over. */
void lyra_stack_progress(struct lyra_stack *s);
/* Every waiter looks again (the loop ended, the driver changed, stop). */
void lyra_stack_wake_all(struct lyra_stack *s);
/* The socket provider's events (socket 1.2), user: the stack. */
extern const struct lyra_socket_events lyra_stack_sock_events;
void lyra_stack_wait_destroy(struct lyra_stack *s);
/* The deferred wake-ups now (before a cond_wait, which unlocks by itself). */
void lyra_stack_signal_now(struct lyra_stack *s);

#endif
