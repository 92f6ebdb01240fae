/* os_posix internals shared by its files: the instance and the ops each
 * file implements. Nothing here is visible to other components. */
#ifndef LYRA_OS_POSIX_INT_H
#define LYRA_OS_POSIX_INT_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lyra/os.h"
#include "lyra/timer_wheel.h"

/* A run of pages from page_alloc: which memfd page backs each of its pages
 * (page_remap changes that, so it is tracked per page). */
struct os_region {
    uintptr_t addr;
    size_t npages;
    uint32_t *fpage;
};

struct os_posix {
    /* parameters */
    bool seeded;
    uint64_t seed;
    pid_t pid; /* at create: mem_check's process_vm_readv */
    int log_level;
    unsigned max_fds;

    /* the PRNG: the loop's thread and application threads may both draw
     * random bytes */
    pthread_mutex_t mu;
    bool mu_ok;
    uint64_t rng[4];
    /* timers (os_time.c): the wheel under a spin lock, since every section
     * it guards is O(1) and tens of instructions; tw_hint is at or before
     * the earliest deadline (the wheel's time when timers are due), read
     * without the lock so that an idle step costs a clock read */
    atomic_flag tw_busy;
    _Atomic uint64_t tw_hint;
    struct lyra_tw tw; /* armed timers (lyra/timer_wheel.h) */
    /* os 2.4 step_now_ns: the step's reading, 0 until the step's first
     * (taken again after the stack lock, a wait or run_timers) */
    _Atomic uint64_t step_clk;

    /* loop: an eventfd for wake() and the watched descriptors */
    int evfd;
    pthread_mutex_t fd_mu;
    bool fd_mu_ok;
    int *fds;
    unsigned nfds;
    struct pollfd *pfd; /* wait()'s own copy: max_fds + 1 entries */
    atomic_bool waiting;
    /* the deadline of the wait in progress: a timer armed from another
     * thread before it ends the wait (os_time.c) */
    _Atomic uint64_t wait_until;

    /* pages: one memfd whose pages back every page_alloc region */
    pthread_mutex_t pg_mu;
    bool pg_mu_ok;
    size_t psize;
    int memfd;
    uint32_t fcap;   /* memfd size in pages */
    uint32_t fhigh;  /* memfd pages ever handed out */
    uint32_t ffree;  /* head of the free memfd pages (UINT32_MAX: none) */
    uint32_t nfree;  /* pages on that list */
    uint32_t *fref;  /* per memfd page: how many mapped pages show it */
    uint32_t *fnext; /* per memfd page: free list link */
    struct os_region *reg; /* sorted by addr */
    size_t nreg, capreg;
    /* read without pg_mu by mem_check (os_pages_mapped), which may run in
     * a signal handler: nreg as last stored, whether page_protect ever
     * made a page unreadable, and a flag the table's writers hold while
     * they move it (a reader that finds it taken probes instead) */
    atomic_size_t nreg_live;
    atomic_bool prot_none_seen;
    atomic_flag reg_busy;

    /* stats */
    atomic_uint_fast64_t timers_run;
    atomic_uint_fast64_t wakeups;
    atomic_uint_fast64_t waits;
    atomic_uint_fast64_t log_lines[4];
    atomic_uint_fast64_t remaps;
    atomic_uint_fast64_t cow_faults;
    /* mem_alloc's blocks (nblk: the mem_blocks stat) and the bytes asked
     * for each (os_mem.c; under mu) */
    struct os_blk {
        void *p;
        size_t n;
    } *blk;
    size_t nblk, capblk;
    atomic_uint_fast64_t mem_bytes;  /* their sum (os 2.5 mem_usage; written under mu) */
    atomic_uint_fast64_t page_bytes; /* page_alloc regions held */
    atomic_uint_fast64_t mem_check_syscalls; /* checks made by system call, not by probe */
    atomic_uint_fast64_t mem_check_known;    /* checks of page_alloc regions: no probe */
    atomic_int probing; /* 1: counted in the process's probers, -1: cannot probe (os_pages.c) */
    /* links (link*.c) */
    atomic_uint_fast64_t link_tx;          /* frames put on the medium */
    atomic_uint_fast64_t link_rx;          /* frames taken off it */
    atomic_uint_fast64_t link_drop_full;   /* sends refused: queue full */
    atomic_uint_fast64_t link_drop_nopeer; /* sent on a wire with no other end */
    atomic_uint_fast64_t link_drop_size;   /* received frames longer than cap */
    atomic_uint_fast64_t link_loss;        /* impairment: frames lost */
    atomic_uint_fast64_t link_dup;         /* impairment: extra copies */
    atomic_uint_fast64_t link_reorder;     /* impairment: frames held back */
    atomic_uint_fast64_t link_corrupt;     /* impairment: frames with a flipped byte */
    /* the same for what links receive (rx_ parameters) */
    atomic_uint_fast64_t link_rx_loss, link_rx_dup, link_rx_reorder, link_rx_corrupt;
    atomic_uint_fast64_t link_rx_drop_full; /* rx delay/rate queue full */
    atomic_uint_fast64_t links_opened;      /* seeds each end's rx stream */
};

#define OS_FREE_NONE UINT32_MAX

/* os_pages.c: reads one byte at a and at each page start after it, up to
 * npages pages from first, catching a fault (SIGSEGV, SIGBUS): 0 when
 * every read succeeded, -EFAULT when one faulted, -ENOSYS when the signal
 * handlers could not be installed (the caller checks another way). */
int os_probe_pages(struct os_posix *os, uintptr_t a, uintptr_t first, size_t npages);
/* Whether pages [first, first + npages pages) lie in one page_alloc region
 * and no page_protect ever made a page unreadable: mapped and readable
 * without a probe (mem_check). */
bool os_pages_mapped(struct os_posix *os, uintptr_t first, size_t npages);

/* os_time.c */
uint64_t os_now_ns(void *self);
uint64_t os_step_now_ns(void *self);
/* the step clock is read afresh at its next use (os.h step_now_ns) */
void os_step_clock_reset(struct os_posix *os);
void os_timer_arm(void *self, struct lyra_timer *t, uint64_t deadline_ns);
void os_timer_cancel(void *self, struct lyra_timer *t);
uint64_t os_run_timers(void *self);

/* os_rand.c */
void os_rand_seed(struct os_posix *os, uint64_t seed);
void os_random(void *self, void *buf, size_t len);

/* os_log.c */
void os_vlog(void *self, int level, const char *who, const char *fmt, va_list ap);

/* os_mem.c */
void *os_mem_alloc(void *self, size_t size, size_t align);
void os_mem_free(void *self, void *p);
int os_mem_check(void *self, const void *p, size_t len);
int os_lock_create(void *self, void **lock);
void os_lock_destroy(void *self, void *lock);
void os_lock(void *self, void *lock);
void os_unlock(void *self, void *lock);
int os_cond_create(void *self, void **cond);
void os_cond_destroy(void *self, void *cond);
int os_cond_wait(void *self, void *cond, void *lock, uint64_t deadline_ns);
void os_cond_broadcast(void *self, void *cond);

/* os_pages.c */
int os_pages_init(struct os_posix *os);
void os_pages_fini(struct os_posix *os);
size_t os_page_size(void *self);
void *os_page_alloc(void *self, size_t npages);
void os_mem_usage(void *self, uint64_t *heap_bytes, uint64_t *page_bytes);
void os_page_free(void *self, void *p, size_t npages);
int os_page_remap(void *self, void *dst, void *src, size_t npages);
int os_page_swap(void *self, void *a, void *b, size_t npages);
int os_page_protect(void *self, void *p, size_t npages, int prot);
int os_cow_register(void *self, void *p, size_t npages, lyra_cow_fn fn, void *ctx);
int os_cow_unregister(void *self, void *p, size_t npages);

/* os_loop.c */
int os_loop_init(struct os_posix *os);
void os_loop_fini(struct os_posix *os);
int os_wait(void *self, uint64_t deadline_ns);
void os_wake(void *self);
void os_wake_quiet(struct os_posix *os); /* wake, not counted (os_time.c) */
int os_watch_fd(void *self, int fd);
int os_unwatch_fd(void *self, int fd);

/* link.c (1.1): see link_int.h */
struct lyra_link;
int os_link_open(void *self, const char *spec, const struct lyra_link_params *p,
                 struct lyra_link **out);
void os_link_close(void *self, struct lyra_link *l);
int os_link_send(void *self, struct lyra_link *l, const void *frame, size_t len);
int os_link_recv(void *self, struct lyra_link *l, void *buf, size_t cap);

#endif
