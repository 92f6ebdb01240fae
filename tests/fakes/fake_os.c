/* fake_os: the `os` interface on a clock that only tests move. See
 * fake_os.h. Not thread-safe except wake() and the locks: tests drive it
 * from one thread. */
#include "fake_os.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lyra/timer_wheel.h"

#define FAKE_OS_MAX_FDS 16
#define FAKE_OS_MAX_PAIRS 8
#define FAKE_LINK_QUEUE 256u /* frames each way, as os_posix's wires */
#define FAKE_LINK_FRAME_MAX 2048u

struct fake_frame {
    struct fake_frame *next;
    size_t len;
    uint8_t data[];
};

struct fake_fq {
    struct fake_frame *head, *tail;
    unsigned n;
};

struct fake_os;

struct lyra_link {
    struct fake_os *os;
    char spec[64];
    struct lyra_link *peer; /* the other end, on the paired instance */
    struct lyra_link *next; /* os->links */
    struct fake_fq rx;      /* frames waiting for this end */
    struct fake_fq tx;      /* sent with no other end: for fake_os_link_take */
};

struct fake_pair {
    char name[32];
    struct fake_os *peer;
};

struct fake_os {
    uint64_t now;
    struct lyra_tw tw; /* armed timers: the wheel every provider shares */
    uint64_t rng[4];
    bool log;
    unsigned log_count[4];
    char last_log[512];
    uint64_t mem_in_use;
    uint64_t pages_in_use;
    uint64_t timers_run;
    size_t psize;
    atomic_bool wake_pending;
    int fds[FAKE_OS_MAX_FDS];
    unsigned nfds;
    struct fake_pair pairs[FAKE_OS_MAX_PAIRS];
    unsigned npairs;
    struct lyra_link *links; /* open ends */
    uint64_t link_tx, link_rx, link_drop_full;
};

enum { P_SEED, P_START, P_LOG };

static const struct lyra_param fake_os_params[] = {
    [P_SEED] = {"seed", LYRA_P_INT, "1", 0, INT64_MAX, "seed of the PRNG behind `random`"},
    [P_START] = {"start", LYRA_P_DURATION, "0", 0, INT64_MAX, "the clock's first reading"},
    [P_LOG] = {"log", LYRA_P_BOOL, "off", 0, -1, "also print log lines to stderr"},
};

/* ---- clock and timers ---- */

static uint64_t fos_now(void *self)
{
    return ((struct fake_os *)self)->now;
}

static void fos_timer_cancel(void *self, struct lyra_timer *t)
{
    lyra_tw_cancel(&((struct fake_os *)self)->tw, t);
}

static void fos_timer_arm(void *self, struct lyra_timer *t, uint64_t deadline_ns)
{
    lyra_tw_arm(&((struct fake_os *)self)->tw, t, deadline_ns);
}

/* Runs what is due at the current time; a timer a callback re-arms into
 * the past waits for the next call, so one call always ends. */
static uint64_t fos_run_timers(void *self)
{
    struct fake_os *os = self;
    struct lyra_tw_link batch;
    struct lyra_timer *t;
    lyra_tw_batch_init(&batch);
    lyra_tw_collect(&os->tw, os->now, &batch);
    while ((t = lyra_tw_pop(&os->tw, &batch))) {
        os->timers_run++;
        t->fn(t->ctx, t);
    }
    return lyra_tw_next(&os->tw);
}

LYRA_EXPORT uint64_t fake_os_now(void *self)
{
    return fos_now(self);
}

/* Steps the clock to each deadline in turn (the wheel's next time is exact
 * for the nearest timers and a cascade point for far ones), so a callback
 * sees the time it asked for. A callback that keeps re-arming itself at the
 * current time would keep this from returning, as it would keep a real loop
 * busy. */
LYRA_EXPORT void fake_os_advance(void *self, uint64_t ns)
{
    struct fake_os *os = self;
    uint64_t target = os->now + ns < os->now ? UINT64_MAX : os->now + ns;
    uint64_t next;
    while ((next = lyra_tw_next(&os->tw)) <= target) {
        if (next > os->now)
            os->now = next;
        fos_run_timers(os);
    }
    os->now = target;
}

LYRA_EXPORT unsigned fake_os_timers_armed(void *self)
{
    return ((struct fake_os *)self)->tw.armed;
}

/* ---- randomness: splitmix64 seeds xoshiro256** (as os_posix) ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static void fos_random(void *self, void *buf, size_t len)
{
    struct fake_os *os = self;
    uint64_t *s = os->rng;
    uint8_t *p = buf;
    while (len) {
        uint64_t w = rotl(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        for (int i = 0; i < 8 && len; i++, len--)
            *p++ = (uint8_t)(w >> (8 * i));
    }
}

/* ---- logging ---- */

static const char *const level_name[] = {"error", "warn", "info", "debug"};

static void fos_vlog(void *self, int level, const char *who, const char *fmt, va_list ap)
{
    struct fake_os *os = self;
    if (level < LYRA_LOG_ERROR)
        level = LYRA_LOG_ERROR;
    if (level > LYRA_LOG_DEBUG)
        level = LYRA_LOG_DEBUG;
    os->log_count[level]++;
    vsnprintf(os->last_log, sizeof(os->last_log), fmt, ap);
    if (os->log)
        fprintf(stderr, "fake_os: %s: %s: %s\n", who ? who : "?", level_name[level],
                os->last_log);
}

LYRA_EXPORT unsigned fake_os_log_count(void *self, int level)
{
    struct fake_os *os = self;
    return level >= 0 && level <= LYRA_LOG_DEBUG ? os->log_count[level] : 0;
}

LYRA_EXPORT const char *fake_os_last_log(void *self)
{
    return ((struct fake_os *)self)->last_log;
}

/* ---- memory: malloc with a header that remembers the size ---- */

struct mem_hdr {
    void *base;
    size_t size;
};

static void *fos_mem_alloc(void *self, size_t size, size_t align)
{
    struct fake_os *os = self;
    if (align < sizeof(struct mem_hdr))
        align = sizeof(struct mem_hdr);
    if ((align & (align - 1)) || size > SIZE_MAX - align)
        return NULL;
    void *base;
    if (posix_memalign(&base, align, align + size))
        return NULL;
    uint8_t *p = (uint8_t *)base + align;
    struct mem_hdr h = {base, size};
    memcpy(p - sizeof(h), &h, sizeof(h));
    os->mem_in_use += size;
    return p;
}

static void fos_mem_free(void *self, void *p)
{
    struct fake_os *os = self;
    if (!p)
        return;
    struct mem_hdr h;
    memcpy(&h, (uint8_t *)p - sizeof(h), sizeof(h));
    os->mem_in_use -= h.size;
    free(h.base);
}

LYRA_EXPORT uint64_t fake_os_mem_in_use(void *self)
{
    return ((struct fake_os *)self)->mem_in_use;
}

/* ---- locks: real mutexes, application threads may use them ---- */

static int fos_lock_create(void *self, void **lock)
{
    pthread_mutex_t *m = malloc(sizeof(*m));
    if (!m)
        return -ENOMEM;
    int r = pthread_mutex_init(m, NULL);
    if (r) {
        free(m);
        return -r;
    }
    *lock = m;
    return 0;
}

static void fos_lock_destroy(void *self, void *lock)
{
    if (lock) {
        pthread_mutex_destroy(lock);
        free(lock);
    }
}

static void fos_lock(void *self, void *lock)
{
    pthread_mutex_lock(lock);
}

static void fos_unlock(void *self, void *lock)
{
    pthread_mutex_unlock(lock);
}

/* ---- pages: plain aligned memory; remap copies ---- */

static size_t fos_page_size(void *self)
{
    return ((struct fake_os *)self)->psize;
}

static void *fos_page_alloc(void *self, size_t npages)
{
    struct fake_os *os = self;
    if (!npages || npages > SIZE_MAX / os->psize)
        return NULL;
    void *p;
    if (posix_memalign(&p, os->psize, npages * os->psize))
        return NULL;
    memset(p, 0, npages * os->psize);
    os->pages_in_use += npages;
    return p;
}

static void fos_page_free(void *self, void *p, size_t npages)
{
    struct fake_os *os = self;
    if (!p)
        return;
    os->pages_in_use -= npages;
    free(p);
}

static int fos_page_remap(void *self, void *dst, void *src, size_t npages)
{
    struct fake_os *os = self;
    if (!npages || ((uintptr_t)dst | (uintptr_t)src) % os->psize)
        return -EINVAL;
    memmove(dst, src, npages * os->psize);
    return 0;
}

static int fos_page_protect(void *self, void *p, size_t npages, int prot)
{
    return -ENOTSUP;
}

static int fos_cow_register(void *self, void *p, size_t npages, lyra_cow_fn fn, void *ctx)
{
    return -ENOTSUP;
}

static int fos_cow_unregister(void *self, void *p, size_t npages)
{
    return -ENOTSUP;
}

LYRA_EXPORT uint64_t fake_os_pages_in_use(void *self)
{
    return ((struct fake_os *)self)->pages_in_use;
}

/* ---- loop: wait never blocks and never moves the clock ---- */

static int fos_wait(void *self, uint64_t deadline_ns)
{
    struct fake_os *os = self;
    return atomic_exchange(&os->wake_pending, false) ? 1 : 0;
}

static void fos_wake(void *self)
{
    struct fake_os *os = self;
    atomic_store(&os->wake_pending, true);
}

/* Descriptors are only recorded (wait does not poll them), so host
 * components that watch one can run on the fake. */
static int fos_watch_fd(void *self, int fd)
{
    struct fake_os *os = self;
    if (fd < 0)
        return -EBADF;
    for (unsigned i = 0; i < os->nfds; i++)
        if (os->fds[i] == fd)
            return -EEXIST;
    if (os->nfds == FAKE_OS_MAX_FDS)
        return -ENOSPC;
    os->fds[os->nfds++] = fd;
    return 0;
}

static int fos_unwatch_fd(void *self, int fd)
{
    struct fake_os *os = self;
    for (unsigned i = 0; i < os->nfds; i++)
        if (os->fds[i] == fd) {
            os->fds[i] = os->fds[--os->nfds];
            return 0;
        }
    return -ENOENT;
}

LYRA_EXPORT unsigned fake_os_watched_fds(void *self)
{
    return ((struct fake_os *)self)->nfds;
}

/* ---- links: wire:NAME between instances paired by the test ---- */

static bool fq_push(struct fake_fq *q, const void *f, size_t len)
{
    if (q->n == FAKE_LINK_QUEUE)
        return false;
    struct fake_frame *fr = malloc(sizeof(*fr) + len);
    if (!fr)
        return false;
    fr->next = NULL;
    fr->len = len;
    memcpy(fr->data, f, len);
    if (q->tail)
        q->tail->next = fr;
    else
        q->head = fr;
    q->tail = fr;
    q->n++;
    return true;
}

/* Takes the head frame into buf: its length, 0 when empty, -EMSGSIZE
 * (dropped) when cap is short. */
static int fq_pop(struct fake_fq *q, void *buf, size_t cap)
{
    struct fake_frame *fr = q->head;
    if (!fr)
        return 0;
    q->head = fr->next;
    if (!q->head)
        q->tail = NULL;
    q->n--;
    int r = fr->len > cap ? -EMSGSIZE : (int)fr->len;
    if (r > 0)
        memcpy(buf, fr->data, fr->len);
    free(fr);
    return r;
}

static void fq_clear(struct fake_fq *q)
{
    while (q->head) {
        struct fake_frame *fr = q->head;
        q->head = fr->next;
        free(fr);
    }
    q->tail = NULL;
    q->n = 0;
}

static struct lyra_link *find_link(struct fake_os *os, const char *spec)
{
    for (struct lyra_link *l = os->links; l; l = l->next)
        if (!strcmp(l->spec, spec))
            return l;
    return NULL;
}

LYRA_EXPORT int fake_os_link_pair(void *os_a, void *os_b, const char *name)
{
    struct fake_os *a = os_a, *b = os_b;
    if (!a || !b || a == b || !name || strlen(name) >= sizeof(a->pairs[0].name))
        return -EINVAL;
    if (a->npairs == FAKE_OS_MAX_PAIRS || b->npairs == FAKE_OS_MAX_PAIRS)
        return -ENOSPC;
    for (unsigned i = 0; i < a->npairs; i++)
        if (!strcmp(a->pairs[i].name, name))
            return -EEXIST;
    for (unsigned i = 0; i < b->npairs; i++)
        if (!strcmp(b->pairs[i].name, name))
            return -EEXIST;
    strcpy(a->pairs[a->npairs].name, name);
    a->pairs[a->npairs++].peer = b;
    strcpy(b->pairs[b->npairs].name, name);
    b->pairs[b->npairs++].peer = a;
    return 0;
}

static int fos_link_open(void *self, const char *spec, const struct lyra_link_params *p,
                         struct lyra_link **out)
{
    struct fake_os *os = self;
    *out = NULL;
    if (!spec || (strncmp(spec, "wire:", 5) && strncmp(spec, "tap:", 4)))
        return -EINVAL;
    if (strlen(spec) >= sizeof(((struct lyra_link *)0)->spec) || !strchr(spec, ':')[1])
        return -EINVAL;
    if (find_link(os, spec))
        return -EBUSY;
    struct lyra_link *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->os = os;
    strcpy(l->spec, spec);
    if (!strncmp(spec, "wire:", 5)) {
        for (unsigned i = 0; i < os->npairs; i++) {
            if (strcmp(os->pairs[i].name, spec + 5))
                continue;
            struct lyra_link *o = find_link(os->pairs[i].peer, spec);
            if (o && !o->peer) {
                o->peer = l;
                l->peer = o;
            }
        }
    }
    l->next = os->links;
    os->links = l;
    *out = l;
    return 0;
}

static void fos_link_close(void *self, struct lyra_link *l)
{
    struct fake_os *os = self;
    if (!l)
        return;
    for (struct lyra_link **pp = &os->links; *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    if (l->peer)
        l->peer->peer = NULL;
    fq_clear(&l->rx);
    fq_clear(&l->tx);
    free(l);
}

static int fos_link_send(void *self, struct lyra_link *l, const void *frame, size_t len)
{
    struct fake_os *os = self;
    if (!l || !frame || !len)
        return -EINVAL;
    if (len > FAKE_LINK_FRAME_MAX)
        return -EMSGSIZE;
    if (!fq_push(l->peer ? &l->peer->rx : &l->tx, frame, len)) {
        os->link_drop_full++;
        return -EAGAIN;
    }
    os->link_tx++;
    return 0;
}

static int fos_link_recv(void *self, struct lyra_link *l, void *buf, size_t cap)
{
    struct fake_os *os = self;
    if (!l)
        return -EINVAL;
    int r = fq_pop(&l->rx, buf, cap);
    if (r > 0)
        os->link_rx++;
    return r;
}

LYRA_EXPORT int fake_os_link_inject(void *self, const char *spec, const void *frame, size_t len)
{
    struct lyra_link *l = find_link(self, spec);
    if (!l)
        return -ENOENT;
    if (!len || len > FAKE_LINK_FRAME_MAX)
        return -EMSGSIZE;
    return fq_push(&l->rx, frame, len) ? 0 : -EAGAIN;
}

LYRA_EXPORT int fake_os_link_take(void *self, const char *spec, void *buf, size_t cap)
{
    struct lyra_link *l = find_link(self, spec);
    if (!l)
        return -ENOENT;
    return fq_pop(&l->tx, buf, cap);
}

LYRA_EXPORT unsigned fake_os_links_open(void *self)
{
    unsigned n = 0;
    for (struct lyra_link *l = ((struct fake_os *)self)->links; l; l = l->next)
        n++;
    return n;
}

/* os 2.2: a fake cannot ask the MMU; NULL and a range that wraps are bad,
 * anything else is taken as mapped (tests of unmapped memory use os_posix). */
static int fos_mem_check(void *self, const void *p, size_t len)
{
    (void)self;
    if (!len)
        return 0;
    return !p || UINTPTR_MAX - (uintptr_t)p < len - 1 ? -EFAULT : 0;
}

/* ---- component ---- */

static const struct lyra_os_ops fake_os_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_OS_IFACE, LYRA_OS_MAJOR, LYRA_OS_MINOR, struct lyra_os_ops),
    .now_ns = fos_now,
    .timer_arm = fos_timer_arm,
    .timer_cancel = fos_timer_cancel,
    .random = fos_random,
    .vlog = fos_vlog,
    .mem_alloc = fos_mem_alloc,
    .mem_free = fos_mem_free,
    .lock_create = fos_lock_create,
    .lock_destroy = fos_lock_destroy,
    .lock = fos_lock,
    .unlock = fos_unlock,
    .page_size = fos_page_size,
    .page_alloc = fos_page_alloc,
    .page_free = fos_page_free,
    .page_remap = fos_page_remap,
    .page_protect = fos_page_protect,
    .cow_register = fos_cow_register,
    .cow_unregister = fos_cow_unregister,
    .run_timers = fos_run_timers,
    .wait = fos_wait,
    .wake = fos_wake,
    .watch_fd = fos_watch_fd,
    .unwatch_fd = fos_unwatch_fd,
    .link_open = fos_link_open,
    .link_close = fos_link_close,
    .link_send = fos_link_send,
    .link_recv = fos_link_recv,
    .mem_check = fos_mem_check,
};

static const struct lyra_provide fake_os_provides[] = {
    {LYRA_OS_IFACE, LYRA_OS_MAJOR, LYRA_OS_MINOR, &fake_os_ops, NULL, 0,
     "a manual clock, seeded randomness, counted logs and memory"},
};

LYRA_EXPORT void fake_os_reseed(void *self, uint64_t seed)
{
    struct fake_os *os = self;
    for (int i = 0; i < 4; i++)
        os->rng[i] = splitmix64(&seed);
}

static int fake_os_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct fake_os *os = self;
    memset(os, 0, sizeof(*os));
    fake_os_reseed(os, (uint64_t)p[P_SEED].u.i);
    os->now = (uint64_t)p[P_START].u.i;
    lyra_tw_init(&os->tw, os->now);
    os->log = p[P_LOG].u.b;
    os->psize = 4096;
    return 0;
}

static void fake_os_stats(void *self, struct lyra_stats_sink *s)
{
    struct fake_os *os = self;
    lyra_stat(s, "timers_run", os->timers_run);
    lyra_stat(s, "timers_armed", fake_os_timers_armed(os));
    lyra_stat(s, "mem_in_use", os->mem_in_use);
    lyra_stat(s, "pages_in_use", os->pages_in_use);
    lyra_stat(s, "log_error", os->log_count[LYRA_LOG_ERROR]);
    lyra_stat(s, "log_warn", os->log_count[LYRA_LOG_WARN]);
    lyra_stat(s, "log_info", os->log_count[LYRA_LOG_INFO]);
    lyra_stat(s, "log_debug", os->log_count[LYRA_LOG_DEBUG]);
    lyra_stat(s, "link_tx", os->link_tx);
    lyra_stat(s, "link_rx", os->link_rx);
    lyra_stat(s, "link_drop_full", os->link_drop_full);
    lyra_stat(s, "links_open", fake_os_links_open(os));
}

LYRA_EXPORT const struct lyra_component lyra_component_fake_os = {
    LYRA_COMPONENT_HDR,
    .flags = LYRA_COMP_F_HOST, /* not in an embedded image: RAM report */
    .name = "fake_os",
    .version = "1.0.0",
    .summary = "test os: a clock that only tests move, seeded randomness, counted logs",
    .doc = "Time starts at `start` and moves only through fake_os_advance(), which runs the "
           "timers falling due at their own deadlines. wait() never blocks. Pages are plain "
           "memory: remap copies, protection and copy-on-write are not supported. Links: "
           "wire:NAME joins instances the test paired with fake_os_link_pair(); impairment "
           "parameters and pcap are ignored.",
    .provides = fake_os_provides,
    .n_provides = LYRA_COUNT(fake_os_provides),
    .params = fake_os_params,
    .n_params = LYRA_COUNT(fake_os_params),
    .instance_size = sizeof(struct fake_os),
    .create = fake_os_create,
    .stats = fake_os_stats,
};
