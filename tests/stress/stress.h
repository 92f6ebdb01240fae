/* Helpers shared by the socket threading stress programs (header only).
 *
 * Stacks: the small manifest of tests/unit/socket/test_socket.c (os_posix,
 * fake_l4, socket), or a shipped assembly on an in-process wire named
 * NAME-<pid>. Components come from $LYRA_COMPONENT_PATH (set by run.sh).
 *
 * Instrumentation: os_posix's os wait is the only caller of ppoll(2) in
 * the tree (os_adapters/posix/os_loop.c), with the stack's wake eventfd in
 * pfd[0]. This header defines ppoll so that the executable's definition
 * interposes the component's call (link with -rdynamic): it counts how many
 * threads are inside one stack's os wait at once (os_loop.c: "one thread
 * waits at a time") and can inject a delay before the real ppoll
 * (STRESS_PPOLL_DELAY_US) to widen the window between a caller's unlock and
 * its sleep. */
#ifndef LYRA_STRESS_H
#define LYRA_STRESS_H

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lyra/socket.h"
#include "lyra/stack.h"

#define FAKE_PROTO 253

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double process_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void sleep_ms(double ms)
{
    struct timespec d = {(time_t)(ms / 1000), (long)((ms - (double)(time_t)(ms / 1000) * 1000) * 1e6)};
    while (nanosleep(&d, &d) && errno == EINTR)
        ;
}

#define DIE(...)                                                                                \
    do {                                                                                        \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                    \
        fprintf(stderr, __VA_ARGS__);                                                           \
        fputc('\n', stderr);                                                                    \
        fflush(stderr);                                                                         \
        abort();                                                                                \
    } while (0)

#define CHECK(c, ...)                                                                           \
    do {                                                                                        \
        if (!(c))                                                                               \
            DIE(__VA_ARGS__);                                                                   \
    } while (0)

/* ---- ppoll interposition: who is inside an os wait ---------------------- */

#define PP_MAX 64
static struct {
    atomic_int fd[PP_MAX];    /* evfd of the os wait (pfd[0].fd), 0: free slot */
    atomic_int count[PP_MAX]; /* threads inside ppoll with that evfd */
    atomic_int max_seen;      /* most threads seen inside one os wait */
    atomic_long calls;
    atomic_int abort_on_two;
} pp;

static int (*real_ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
static int pp_delay_us;

__attribute__((constructor)) static void pp_init(void)
{
    real_ppoll = (int (*)(struct pollfd *, nfds_t, const struct timespec *,
                          const sigset_t *))dlsym(RTLD_NEXT, "ppoll");
    const char *e = getenv("STRESS_PPOLL_DELAY_US");
    pp_delay_us = e ? atoi(e) : 0;
}

static inline int pp_slot(int fd)
{
    for (int i = 0; i < PP_MAX; i++) {
        int cur = atomic_load(&pp.fd[i]);
        if (cur == fd + 1)
            return i;
        if (cur == 0) {
            int z = 0;
            if (atomic_compare_exchange_strong(&pp.fd[i], &z, fd + 1) || z == fd + 1)
                return i;
        }
    }
    return -1;
}

__attribute__((visibility("default"))) int ppoll(struct pollfd *fds, nfds_t n,
                                                 const struct timespec *t, const sigset_t *m)
{
    int delay_us = pp_delay_us;
    atomic_fetch_add(&pp.calls, 1);
    int slot = n ? pp_slot(fds[0].fd) : -1;
    if (slot >= 0) {
        int c = atomic_fetch_add(&pp.count[slot], 1) + 1;
        int m2 = atomic_load(&pp.max_seen);
        while (c > m2 && !atomic_compare_exchange_weak(&pp.max_seen, &m2, c))
            ;
        if (c > 1 && atomic_load(&pp.abort_on_two))
            DIE("%d threads inside one stack's os wait (evfd %d)", c, fds[0].fd);
    }
    if (delay_us > 0) {
        static _Thread_local unsigned r;
        r = r * 1103515245u + 12345u + (unsigned)(uintptr_t)&r;
        struct timespec d = {0, (long)((r >> 8) % (unsigned)(delay_us + 1)) * 1000};
        nanosleep(&d, NULL);
    }
    int r = real_ppoll(fds, n, t, m);
    if (slot >= 0)
        atomic_fetch_sub(&pp.count[slot], 1);
    return r;
}

/* ---- stacks ------------------------------------------------------------- */

static const char *fake_manifest_fmt = "[os]\ncomponent = os_posix\n"
                                       "[l4]\ncomponent = fake_l4\n"
                                       "[sock]\ncomponent = socket\nl4 = l4\nos = os\nmax_fds = %d\n";

static inline struct lyra_stack *fake_stack(int max_fds)
{
    static atomic_int seq;
    char path[128], text[512];
    snprintf(path, sizeof(path), "/tmp/lyra-stress-%d-%d.lyra", (int)getpid(),
             atomic_fetch_add(&seq, 1));
    snprintf(text, sizeof(text), fake_manifest_fmt, max_fds);
    FILE *f = fopen(path, "w");
    CHECK(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
    struct lyra_stack *s = NULL;
    int r = lyra_stack_load(path, NULL, &s);
    unlink(path);
    CHECK(r == 0, "load fake stack: %d (LYRA_COMPONENT_PATH=%s)", r,
          getenv("LYRA_COMPONENT_PATH") ? getenv("LYRA_COMPONENT_PATH") : "unset");
    CHECK(lyra_stack_start(s) == 0, "start");
    return s;
}

/* assemblies/MANIFEST on wire:WIRE-<pid>, with extra overrides (NULL-ended). */
struct wire_stack {
    struct lyra_stack *s;
    char link[96];
};

static inline void wire_stack(struct wire_stack *w, const char *manifest, const char *wire,
                              const char *const *extra)
{
    const char *src = getenv("LYRA_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/assemblies/%s", src ? src : "/work/main", manifest);
    snprintf(w->link, sizeof(w->link), "dev.link=wire:%s-%d", wire, (int)getpid());
    const char *ov[32] = {w->link};
    int n = 1;
    for (; extra && *extra && n < 31; extra++)
        ov[n++] = *extra;
    ov[n] = NULL;
    int r = lyra_stack_load(path, ov, &w->s);
    CHECK(r == 0, "load %s: %d", path, r);
    CHECK(lyra_stack_start(w->s) == 0, "start %s", manifest);
}

static inline struct sockaddr_in sin4(const char *ip, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = ip ? inet_addr(ip) : htonl(0x7f000001);
    return a;
}

#define SA(a) ((const struct sockaddr *)&(a))

static inline int fake_bound(struct lyra_stack *s, uint16_t port)
{
    int fd = lyra_socket(s, AF_INET, SOCK_DGRAM, FAKE_PROTO);
    CHECK(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = sin4(NULL, port);
    CHECK(lyra_bind(s, fd, SA(a), sizeof(a)) == 0, "bind %u: %s", port, strerror(errno));
    return fd;
}

static inline int udp_bound(struct lyra_stack *s, const char *ip, uint16_t port)
{
    int fd = lyra_socket(s, AF_INET, SOCK_DGRAM, 0);
    CHECK(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = sin4(ip ? ip : "0.0.0.0", port);
    CHECK(lyra_bind(s, fd, SA(a), sizeof(a)) == 0, "bind %u: %s", port, strerror(errno));
    return fd;
}

static inline void set_timeo(struct lyra_stack *s, int fd, int opt, double sec)
{
    struct timeval tv = {(time_t)sec, (suseconds_t)((sec - (double)(time_t)sec) * 1e6)};
    CHECK(lyra_setsockopt(s, fd, SOL_SOCKET, opt, &tv, sizeof(tv)) == 0, "setsockopt: %s",
          strerror(errno));
}

/* ---- a loop thread ------------------------------------------------------ */

struct loop {
    struct lyra_stack *s;
    pthread_t t;
    uint64_t ns; /* 0: lyra_stack_run */
    int rc;
};

static void *loop_main(void *arg)
{
    struct loop *l = arg;
    l->rc = l->ns ? lyra_stack_run_for(l->s, l->ns) : lyra_stack_run(l->s);
    return NULL;
}

static inline void loop_start(struct loop *l, struct lyra_stack *s, uint64_t ns)
{
    l->s = s;
    l->ns = ns;
    CHECK(pthread_create(&l->t, NULL, loop_main, l) == 0, "pthread_create");
}

/* ---- a watchdog: aborts when a phase overruns --------------------------- */

static struct {
    atomic_long deadline_ms; /* 0: off */
    char what[256];
    pthread_mutex_t mu;
} wd = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void *wd_main(void *arg)
{
    (void)arg;
    for (;;) {
        sleep_ms(50);
        long d = atomic_load(&wd.deadline_ms);
        if (d && (long)(now_s() * 1000) > d) {
            pthread_mutex_lock(&wd.mu);
            fprintf(stderr, "WATCHDOG: phase '%s' overran (hang / lost wake-up)\n", wd.what);
            pthread_mutex_unlock(&wd.mu);
            fflush(stderr);
            _exit(3);
        }
    }
    return NULL;
}

static inline void wd_init(void)
{
    pthread_t t;
    pthread_create(&t, NULL, wd_main, NULL);
    pthread_detach(t);
}

static inline void wd_arm(double sec, const char *fmt, ...)
{
    pthread_mutex_lock(&wd.mu);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(wd.what, sizeof(wd.what), fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&wd.mu);
    atomic_store(&wd.deadline_ms, (long)((now_s() + sec) * 1000));
}

static inline void wd_off(void)
{
    atomic_store(&wd.deadline_ms, 0);
}

static inline unsigned xrand(unsigned *st)
{
    *st = *st * 1103515245u + 12345u;
    return (*st >> 8) & 0xffffff;
}

#endif
