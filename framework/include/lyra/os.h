/* Interface `os` 2.0: what a component needs of its platform.
 *
 * Provided by an OS adapter (os_posix on Linux, the bare-metal adapter under
 * QEMU) or by fake_os in tests. Every op is immediate unless noted.
 *
 * Timers are caller-owned (no allocation): arm a struct lyra_timer that lives
 * in the caller's instance. timer_arm (also a re-arm: an armed timer moves)
 * and timer_cancel cost O(1) whatever the number armed (every provider uses
 * lyra/timer_wheel.h); a deadline already passed is due at the next poll
 * step. Callbacks run from the stack's poll step (run_timers), never from
 * inside another op, one at a time, in deadline then arming order; a
 * callback may arm or cancel any timer, itself included (a timer re-armed
 * for a time already passed runs at the next step, not in this one).
 *
 * Contexts (issue 8.6). The stack calls into components from three: a poll
 * step (the loop's thread, or a blocked caller driving the loop, with the
 * stack lock held), an application thread inside a socket call (stack lock
 * held), and create/start/stop/destroy (one thread, nothing running).
 *   - now_ns, timer_arm, timer_cancel, random, vlog: any of them, and from
 *     several threads at once (the provider serialises what it must).
 *   - step_now_ns: a poll step or a socket call (the stack lock held), or
 *     create/start/stop/destroy (one thread, nothing running).
 *   - mem_alloc, mem_free, lock_create/destroy, cond_create/destroy,
 *     page_alloc/free, link_open/close: create, start, stop or destroy
 *     only (never per packet).
 *   - lock, unlock, cond_wait, cond_broadcast: the stack's own code
 *     (framework/), not components.
 *   - run_timers, wait: the thread that runs the loop, one at a time;
 *     wake: any thread, and on bare metal an interrupt handler (the only
 *     op allowed there besides now_ns).
 *   - link_send, link_recv: a device model's poll step or its bus ops.
 *   - mem_usage: any (the framework reads it around each start).
 *   - page_remap, page_protect, cow_register/unregister: a poll step or a
 *     socket call. A cow hook runs in the faulting thread, from a signal
 *     handler on posix: it may take no lock the faulting code may hold.
 * Only run_timers (timer callbacks) and a cow fault (its hook) call back
 * into a component; no other op re-enters its caller. */
#ifndef LYRA_OS_H
#define LYRA_OS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "lyra/component.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LYRA_OS_IFACE "os"
#define LYRA_OS_MAJOR 2
/* 2.0: struct lyra_timer's private words (a timing wheel node) replace its
 * public fields, so a component built against 1.x, which would embed a
 * timer of the old size, cannot bind. 1.1 added links, 1.2 condition waits.
 * 2.1: struct lyra_link_params gains the rx_ fields at its end (impairment
 * of what a link end receives); zero means off, so a caller that zeroes the
 * whole struct keeps 2.0's behaviour. Caveat: the struct grew, and a 2.1
 * provider cannot tell a binary built against 2.0 headers (whose struct
 * ends at pcap) from a 2.1 one, so such a caller of link_open must be
 * rebuilt; the in-tree device models ask for 2.1.
 * 2.2: mem_check (issue 12.7), at the end of the table.
 * 2.3: page_swap (issue 12.8), at the end of the table.
 * 2.4: step_now_ns, at the end of the table; lyra_now uses it when the
 * provider has it.
 * 2.5: mem_usage, at the end of the table (the RAM report: the framework
 * reads it around each instance's start). */
#define LYRA_OS_MINOR 5

#define LYRA_TIME_NEVER UINT64_MAX

enum lyra_log_level { LYRA_LOG_ERROR, LYRA_LOG_WARN, LYRA_LOG_INFO, LYRA_LOG_DEBUG };

struct lyra_timer;
typedef void (*lyra_timer_fn)(void *ctx, struct lyra_timer *t);

/* Caller-owned timer. Initialise with lyra_timer_init; `priv` belongs to the
 * os provider and its layout is not part of the contract (the providers share
 * lyra/timer_wheel.h, which also says whether a timer is armed). */
struct lyra_timer {
    lyra_timer_fn fn;
    void *ctx;
    uint64_t priv[4];
};

static inline void lyra_timer_init(struct lyra_timer *t, lyra_timer_fn fn, void *ctx)
{
    t->fn = fn;
    t->ctx = ctx;
    t->priv[0] = t->priv[1] = t->priv[2] = t->priv[3] = 0; /* not armed */
}

/* Page protection for page_protect. */
#define LYRA_PROT_NONE 0
#define LYRA_PROT_READ 1
#define LYRA_PROT_WRITE 2

/* Copy-on-write fault hook: called when a write hits a page protected with
 * page_protect(.., LYRA_PROT_READ) that was registered with cow_register.
 * The hook makes the page writable again (after saving what it must) and
 * returns 0; non-zero lets the fault proceed as a crash. */
typedef int (*lyra_cow_fn)(void *ctx, void *page);

/* A link a host device model attaches to: "wire:NAME" (point-to-point
 * between two stacks, in one process or two) or "tap:IFNAME" (a Linux TAP).
 * Impairment applies to what this end sends and (2.1, the rx_ fields) to
 * what it receives, seeded from os.seed, each direction from a stream of its
 * own. */
struct lyra_link;

struct lyra_link_params {
    uint32_t loss_ppm, dup_ppm, reorder_ppm, corrupt_ppm; /* parts per million */
    uint32_t reorder_depth;                                /* frames */
    uint64_t delay_ns;
    uint64_t rate_bps; /* 0: unlimited */
    const char *pcap;  /* capture both directions to this file; NULL: none */
    /* 2.1: the same for frames as they come off the medium, before the
     * stack gets them (a TAP whose kernel has no netem); 0: off */
    uint32_t rx_loss_ppm, rx_dup_ppm, rx_reorder_ppm, rx_corrupt_ppm;
    uint32_t rx_reorder_depth;
    uint64_t rx_delay_ns;
    uint64_t rx_rate_bps;
};

struct lyra_os_ops {
    struct lyra_ops_hdr hdr;
    /* time */
    uint64_t (*now_ns)(void *self);
    void (*timer_arm)(void *self, struct lyra_timer *t, uint64_t deadline_ns);
    void (*timer_cancel)(void *self, struct lyra_timer *t);
    /* randomness: getrandom, or a PRNG seeded from os.seed when it is set */
    void (*random)(void *self, void *buf, size_t len);
    /* logging; `who` is the instance name */
    void (*vlog)(void *self, int level, const char *who, const char *fmt, va_list ap);
    /* memory for pools and tables, at create/start only (never per packet) */
    void *(*mem_alloc)(void *self, size_t size, size_t align);
    void (*mem_free)(void *self, void *p);
    /* locks: opaque handles for state shared with application threads */
    int (*lock_create)(void *self, void **lock);
    void (*lock_destroy)(void *self, void *lock);
    void (*lock)(void *self, void *lock);
    void (*unlock)(void *self, void *lock);
    /* pages (zero copy): size, allocation of page-aligned memory that can be
     * remapped, remapping src pages over dst (both page aligned), protection,
     * and a copy-on-write fault hook for a range. Providers that cannot do
     * an op return -ENOTSUP. */
    size_t (*page_size)(void *self);
    void *(*page_alloc)(void *self, size_t npages);
    void (*page_free)(void *self, void *p, size_t npages);
    int (*page_remap)(void *self, void *dst, void *src, size_t npages);
    int (*page_protect)(void *self, void *p, size_t npages, int prot);
    int (*cow_register)(void *self, void *p, size_t npages, lyra_cow_fn fn, void *ctx);
    int (*cow_unregister)(void *self, void *p, size_t npages);
    /* the loop: run due timers and return when to run them again (at or
     * before the earliest deadline: the wheel may need a step to move far
     * timers closer; LYRA_TIME_NEVER when none is armed), block until a
     * deadline or a wake-up, and wake a blocked loop from another thread */
    uint64_t (*run_timers)(void *self);
    int (*wait)(void *self, uint64_t deadline_ns);
    void (*wake)(void *self);
    /* host only (NULL elsewhere): register a file descriptor whose
     * readability ends a wait */
    int (*watch_fd)(void *self, int fd);
    int (*unwatch_fd)(void *self, int fd);
    /* 1.1, host only (NULL elsewhere): links for device models. open at
     * start, close at stop. send takes a whole frame (copied; 0 or -errno,
     * -EAGAIN when the link is full: the frame is dropped and counted as the
     * hardware would). recv copies the next frame in (returns its length, 0
     * when none is waiting, -EMSGSIZE when cap is short: the frame is
     * dropped). Readability wakes the loop's wait. */
    int (*link_open)(void *self, const char *spec, const struct lyra_link_params *p,
                     struct lyra_link **out);
    void (*link_close)(void *self, struct lyra_link *l);
    int (*link_send)(void *self, struct lyra_link *l, const void *frame, size_t len);
    int (*link_recv)(void *self, struct lyra_link *l, void *buf, size_t cap);
    /* 1.2: condition variables on the locks above, for application threads
     * that wait for the stack's loop (the socket API). cond_wait releases
     * `lock` while it sleeps and holds it again on return: 0 when woken
     * (possibly spuriously), -ETIMEDOUT at deadline_ns (now_ns's clock;
     * LYRA_TIME_NEVER: no deadline). NULL where there is one thread (bare
     * metal): waiters then drive the loop themselves. */
    int (*cond_create)(void *self, void **cond);
    void (*cond_destroy)(void *self, void *cond);
    int (*cond_wait)(void *self, void *cond, void *lock, uint64_t deadline_ns);
    void (*cond_broadcast)(void *self, void *cond);
    /* 2.2: 0 when every byte of [p, p + len) is readable memory of this
     * process, -EFAULT when one is not (NULL, a range that wraps, a page
     * not mapped or not readable); len 0 is 0. For a provider asked to
     * reference memory it will read later without copying it now (skb_zc
     * and LYRA_SEG_F_REF). Never blocks; any thread (os_posix: one whose
     * mask keeps SIGSEGV and SIGBUS as its first check found them, and not
     * from a handler blocking them: docs/buffers.md); NULL: cannot tell
     * (callers use LYRA_OS_HAS). */
    int (*mem_check)(void *self, const void *p, size_t len);
    /* 2.3: a shows the pages b showed and b those a showed (both page
     * aligned, not overlapping, both from page_alloc), read-write after.
     * What page_remap would need three calls for (one range parked in a
     * third place); for a zero-copy receive that hands the application the
     * received page and the receive buffer the application's old one.
     * Same contexts as page_remap; 0 or -errno (a one-page swap that fails
     * normally leaves both showing what they showed, posix: unless the
     * kernel is out of memory for mappings; their protection may be
     * read-write then: callers that protected either must not rely on it).
     * NULL: not provided (callers use LYRA_OS_HAS; skb_zc copies instead). */
    int (*page_swap)(void *self, void *a, void *b, size_t npages);
    /* 2.4: the time of the current poll step or socket call, on now_ns's
     * clock: now_ns read at most once from when the stack lock is taken, a
     * wait (wait, cond_wait) ends or run_timers runs (which gives its own
     * reading) until the next of these. A step stamps each segment, header
     * and timer it handles; with now_ns a system call's worth each (posix:
     * a vDSO read, ~26 ns on a KVM guest, several per segment), with this
     * one read per step. It lags the true time by at most what runs under
     * the lock since: fine for time stamps and deadlines (ms to s), not for
     * measuring durations (accounting uses now_ns). Call with the stack
     * lock held (components always are) or where nothing runs (start,
     * stop). NULL: now_ns (lyra_now). */
    uint64_t (*step_now_ns)(void *self);
    /* 2.5: the memory this instance's callers hold now, in bytes: heap
     * from mem_alloc (the bytes asked for, whatever the allocator rounds)
     * and pages from page_alloc (npages * page_size). For the RAM report
     * (lyra_stack_ram): the framework reads it before and after each
     * instance's start, when no other thread allocates. Any context (posix:
     * two atomic loads); NULL: cannot tell (the report then has instance
     * sizes only). */
    void (*mem_usage)(void *self, uint64_t *heap_bytes, uint64_t *page_bytes);
};

/* Does os provider o have op `field` (by its minor version and table size)? */
#define LYRA_OS_HAS(o, minor_, field)                                                   \
    ((o)->hdr.minor >= (minor_) &&                                                      \
     (o)->hdr.size >= offsetof(struct lyra_os_ops, field) + sizeof((o)->field) && (o)->field)

/* Convenience for components holding (ops, instance) of their os slot. */
struct lyra_os {
    const struct lyra_os_ops *ops;
    void *self;
};

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static inline void lyra_log(const struct lyra_os *os, int level, const char *who, const char *fmt,
                            ...)
{
    va_list ap;
    va_start(ap, fmt);
    os->ops->vlog(os->self, level, who, fmt, ap);
    va_end(ap);
}

/* The components' clock: the step's (os 2.4 step_now_ns) where the
 * provider keeps one, else now_ns. */
static inline uint64_t lyra_now(const struct lyra_os *os)
{
    const struct lyra_os_ops *o = os->ops;
    return LYRA_OS_HAS(o, 4, step_now_ns) ? o->step_now_ns(os->self) : o->now_ns(os->self);
}

#ifdef __cplusplus
}
#endif
#endif
