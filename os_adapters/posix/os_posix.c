/* os_posix: descriptor, parameters, lifecycle and stats. The ops live in
 * os_time.c, os_rand.c, os_log.c, os_mem.c, os_pages.c, os_loop.c and the
 * link files (link.c, link_impair.c, link_wire.c, link_tap.c,
 * pcap_writer.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os_posix.h"
#include "os_posix_int.h"

enum { P_SEED, P_LOG_LEVEL, P_MAX_FDS };

static const struct lyra_param os_params[] = {
    [P_SEED] = {"seed", LYRA_P_INT, NULL, 0, INT64_MAX,
                "seed of the PRNG behind `random`; unset: getrandom(), set: reproducible runs"},
    [P_LOG_LEVEL] = {"log_level", LYRA_P_INT, "1", 0, 3,
                     "log lines printed to stderr up to: 0 error, 1 warn, 2 info, 3 debug"},
    [P_MAX_FDS] = {"max_fds", LYRA_P_INT, "16", 1, 1024,
                   "file descriptors watch_fd can hold (their readability ends a wait)"},
};

static const struct lyra_os_ops os_posix_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_OS_IFACE, LYRA_OS_MAJOR, LYRA_OS_MINOR, struct lyra_os_ops),
    .now_ns = os_now_ns,
    .timer_arm = os_timer_arm,
    .timer_cancel = os_timer_cancel,
    .random = os_random,
    .vlog = os_vlog,
    .mem_alloc = os_mem_alloc,
    .mem_free = os_mem_free,
    .lock_create = os_lock_create,
    .lock_destroy = os_lock_destroy,
    .lock = os_lock,
    .unlock = os_unlock,
    .cond_create = os_cond_create,
    .cond_destroy = os_cond_destroy,
    .cond_wait = os_cond_wait,
    .cond_broadcast = os_cond_broadcast,
    .mem_check = os_mem_check,
    .page_size = os_page_size,
    .page_alloc = os_page_alloc,
    .page_free = os_page_free,
    .page_remap = os_page_remap,
    .page_swap = os_page_swap,
    .page_protect = os_page_protect,
    .cow_register = os_cow_register,
    .cow_unregister = os_cow_unregister,
    .run_timers = os_run_timers,
    .wait = os_wait,
    .wake = os_wake,
    .watch_fd = os_watch_fd,
    .unwatch_fd = os_unwatch_fd,
    .link_open = os_link_open,
    .link_close = os_link_close,
    .link_send = os_link_send,
    .link_recv = os_link_recv,
    .step_now_ns = os_step_now_ns,
    .mem_usage = os_mem_usage,
};

static const struct lyra_provide os_provides[] = {
    {LYRA_OS_IFACE, LYRA_OS_MAJOR, LYRA_OS_MINOR, &os_posix_ops, NULL, 0,
     "clock, timers, randomness, logging, memory, locks, pages, the wait loop and links"},
};

static void os_destroy(void *self);

static int os_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct os_posix *os = self;
    memset(os, 0, sizeof(*os));
    os->evfd = -1;
    os->memfd = -1;
    os->seeded = p[P_SEED].set;
    os->seed = p[P_SEED].set ? (uint64_t)p[P_SEED].u.i : 0;
    os->log_level = (int)p[P_LOG_LEVEL].u.i;
    os->max_fds = (unsigned)p[P_MAX_FDS].u.i;
    os->pid = getpid();
    if (os->seeded)
        os_rand_seed(os, os->seed);
    lyra_tw_init(&os->tw, os_now_ns(os));
    atomic_flag_clear(&os->tw_busy);
    atomic_init(&os->tw_hint, LYRA_TIME_NEVER);

    int r = -pthread_mutex_init(&os->mu, NULL);
    if (r)
        return r;
    os->mu_ok = true;
    r = os_loop_init(os);
    if (!r)
        r = os_pages_init(os);
    if (r)
        os_destroy(os); /* undoes whatever got set up */
    return r;
}

static void os_destroy(void *self)
{
    struct os_posix *os = self;
    os_pages_fini(os);
    os_loop_fini(os);
    free(os->blk); /* blocks still out are their owners' leak, not ours */
    os->blk = NULL;
    os->nblk = os->capblk = 0;
    if (os->mu_ok)
        pthread_mutex_destroy(&os->mu);
    os->mu_ok = false;
}

static void os_stats(void *self, struct lyra_stats_sink *s)
{
    struct os_posix *os = self;
    lyra_stat(s, "timers_run", atomic_load(&os->timers_run));
    lyra_stat(s, "timers_armed", os->tw.armed);
    lyra_stat(s, "wakeups", atomic_load(&os->wakeups));
    lyra_stat(s, "waits", atomic_load(&os->waits));
    lyra_stat(s, "log_error", atomic_load(&os->log_lines[LYRA_LOG_ERROR]));
    lyra_stat(s, "log_warn", atomic_load(&os->log_lines[LYRA_LOG_WARN]));
    lyra_stat(s, "log_info", atomic_load(&os->log_lines[LYRA_LOG_INFO]));
    lyra_stat(s, "log_debug", atomic_load(&os->log_lines[LYRA_LOG_DEBUG]));
    lyra_stat(s, "remaps", atomic_load(&os->remaps));
    lyra_stat(s, "cow_faults", atomic_load(&os->cow_faults));
    lyra_stat(s, "mem_check_syscalls", atomic_load(&os->mem_check_syscalls));
    lyra_stat(s, "mem_check_known", atomic_load(&os->mem_check_known));
    pthread_mutex_lock(&os->mu);
    size_t blocks = os->nblk;
    pthread_mutex_unlock(&os->mu);
    uint64_t heap, pages;
    os_mem_usage(os, &heap, &pages);
    lyra_stat(s, "mem_blocks", blocks);
    lyra_stat(s, "mem_bytes", heap);
    lyra_stat(s, "page_bytes", pages);
    lyra_stat(s, "link_tx", atomic_load(&os->link_tx));
    lyra_stat(s, "link_rx", atomic_load(&os->link_rx));
    lyra_stat(s, "link_drop_full", atomic_load(&os->link_drop_full));
    lyra_stat(s, "link_drop_nopeer", atomic_load(&os->link_drop_nopeer));
    lyra_stat(s, "link_drop_size", atomic_load(&os->link_drop_size));
    lyra_stat(s, "link_loss", atomic_load(&os->link_loss));
    lyra_stat(s, "link_dup", atomic_load(&os->link_dup));
    lyra_stat(s, "link_reorder", atomic_load(&os->link_reorder));
    lyra_stat(s, "link_corrupt", atomic_load(&os->link_corrupt));
    lyra_stat(s, "link_rx_loss", atomic_load(&os->link_rx_loss));
    lyra_stat(s, "link_rx_dup", atomic_load(&os->link_rx_dup));
    lyra_stat(s, "link_rx_reorder", atomic_load(&os->link_rx_reorder));
    lyra_stat(s, "link_rx_corrupt", atomic_load(&os->link_rx_corrupt));
    lyra_stat(s, "link_rx_drop_full", atomic_load(&os->link_rx_drop_full));
}

LYRA_EXPORT const struct lyra_component lyra_component_os_posix = {
    LYRA_COMPONENT_HDR,
    .flags = LYRA_COMP_F_HOST, /* not in an embedded image: RAM report */
    .name = "os_posix",
    .version = "1.1.0",
    .summary = "the os interface on a Linux host (clock, timers, pages, poll loop)",
    .doc = "Time is CLOCK_MONOTONIC. wait() polls the watched descriptors and an eventfd "
           "that wake() signals. Pages come from one memfd so that page_remap can map a "
           "page's backing at another address; copy-on-write faults are caught by one "
           "process-wide SIGSEGV handler. Log lines go to stderr; log counts are stats. "
           "Links (os 1.1): wire:NAME joins two ends in one process through a process-wide "
           "registry of names, or in two processes through the abstract AF_UNIX "
           "SOCK_SEQPACKET socket lyra-wire-NAME; tap:IFNAME opens a Linux TAP. Impairment "
           "of what an end sends draws on this instance's PRNG (os.seed); impairment of what "
           "it receives (the rx_ link parameters, os 2.1) on a stream of its own per end, "
           "seeded from os.seed and the order ends were opened in.",
    .provides = os_provides,
    .n_provides = LYRA_COUNT(os_provides),
    .params = os_params,
    .n_params = LYRA_COUNT(os_params),
    .instance_size = sizeof(struct os_posix),
    .create = os_create,
    .destroy = os_destroy,
    .stats = os_stats,
};
