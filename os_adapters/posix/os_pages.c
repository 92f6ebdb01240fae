/* Pages for zero copy: allocation from one memfd, remapping, protection and
 * the copy-on-write fault hook.
 *
 * Every page_alloc region is backed by pages of the instance's memfd, and
 * each of its pages records which memfd page shows there. page_remap maps
 * src's memfd pages over dst (MAP_SHARED|MAP_FIXED|MAP_POPULATE), so both
 * addresses show the same memory, with their page-table entries filled in
 * then rather than by first-touch faults on the data path; page_swap
 * exchanges what two ranges show (two mmap calls, not three remaps).
 *
 * A memfd page nobody shows any more goes on a free list as it is: no
 * FALLOC_FL_PUNCH_HOLE per page (a system call each, tens of thousands per
 * transfer on the zero-copy paths), and the memory stays with the memfd up
 * to the high-water mark of pages shown at once, until fini. Freed pages
 * hold what they last held (a received frame, application data), so
 * page_alloc zeroes each page it takes from the free list in user space
 * (a 4 KiB memset, cheaper than the punch and the later fault it saved)
 * before the caller sees it: page_alloc memory always reads as zeros, and
 * no page reaches a caller with someone else's bytes. page_remap and
 * page_swap only move pages that callers already show.
 *
 * Process-wide state: the SIGSEGV handler and its registry of copy-on-write
 * ranges below are the one piece of global mutable state in os_posix, as
 * the design allows for an OS adapter (a process has one SIGSEGV handler).
 * A mutex guards it; the handler takes it too, which is safe because a
 * fault is synchronous and no code holding that mutex touches registered
 * pages. The handler is installed with the first registration and the
 * previous action is restored when the last one goes.
 *
 * mem_check's probe shares that handler (and adds one for SIGBUS, a read
 * past the end of a mapped file): a thread probing sets its own jump
 * buffer, and a fault while it is set jumps back with -EFAULT instead of
 * reaching the copy-on-write registry. Each instance that probed counts
 * in `probers` until its fini, which keeps both handlers installed. A
 * handler the application installs after them must pass on the faults
 * that are not its own (as any chained SIGSEGV handler must), or a probe's
 * fault reaches it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "os_posix_int.h"

struct cow_ent {
    uintptr_t lo, hi;
    lyra_cow_fn fn;
    void *ctx;
    struct os_posix *owner;
};

static struct {
    pthread_mutex_t mu;
    struct cow_ent *v;
    size_t n, cap;
    bool installed;
    uintptr_t pmask;
    struct sigaction old;
    size_t probers;    /* instances that probed and are not finished */
    bool bus_installed; /* the SIGBUS handler (probes only) */
    struct sigaction old_bus;
} cow_reg = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Set while this thread probes (os_probe_pages). Static TLS (initial-exec)
 * even in a shared object: the handler reads it, and a first access to
 * dynamic TLS may allocate, which a signal handler must not. */
struct probe_env {
    sigjmp_buf jb;
    uintptr_t lo, len; /* the pages probed: only a fault there is the probe's */
};
static __thread struct probe_env *volatile probe_env __attribute__((tls_model("initial-exec")));
/* The thread's mask at a probe's fault, set back after the jump (in TLS,
 * not in the probe's frame: C11 7.13.2.1 leaves a non-volatile automatic
 * written after sigsetjmp indeterminate). */
static __thread sigset_t probe_fault_mask __attribute__((tls_model("initial-exec")));
/* This thread's signal mask as its first probe found it: 0 not looked at
 * yet, 1 both signals deliverable, -1 one of them blocked. A fault on a
 * blocked SIGSEGV or SIGBUS kills the process (Linux; POSIX: undefined),
 * so such a thread checks by system call instead. Looked at once per
 * thread: the query is a system call too (about 1 us on this VM, a third
 * of what the probe saves); a thread that blocks them later is the
 * documented exception (docs/buffers.md). */
static __thread signed char probe_mask_ok __attribute__((tls_model("initial-exec")));

/* In a handler: a probe's fault goes back to the probe, every signal
 * still blocked (the handlers' mask), so nothing runs on top of this frame
 * before the jump (ASan's bookkeeping there is not async-signal-safe); the
 * probe sets the mask of the fault back. A probe's fault is one the kernel
 * raised (not kill) at the probed pages (SI_KERNEL: a non-canonical
 * address, reported without one): another fault while a probe runs (a
 * signal handler on top of it writing packet memory) is not the probe's. */
static void probe_catch(const siginfo_t *si, void *uc)
{
    struct probe_env *e = probe_env;
    if (!e || si->si_code <= 0 ||
        ((uintptr_t)si->si_addr - e->lo >= e->len && si->si_code != SI_KERNEL))
        return;
    probe_env = NULL;
    memcpy(&probe_fault_mask, &((ucontext_t *)uc)->uc_sigmask, sizeof(probe_fault_mask));
    siglongjmp(e->jb, 1);
}

/* ---- memfd pages ---- */

int os_pages_init(struct os_posix *os)
{
    long ps = sysconf(_SC_PAGESIZE);
    os->psize = ps > 0 ? (size_t)ps : 4096;
    os->memfd = -1;
    os->ffree = OS_FREE_NONE;
    atomic_flag_clear(&os->reg_busy);
    int r = -pthread_mutex_init(&os->pg_mu, NULL);
    if (!r)
        os->pg_mu_ok = true;
    return r;
}

static void cow_drop_owner(struct os_posix *os);

void os_pages_fini(struct os_posix *os)
{
    cow_drop_owner(os);
    for (size_t i = 0; i < os->nreg; i++) {
        munmap((void *)os->reg[i].addr, os->reg[i].npages * os->psize);
        free(os->reg[i].fpage);
    }
    free(os->reg);
    os->reg = NULL;
    os->nreg = os->capreg = 0;
    free(os->fref);
    free(os->fnext);
    os->fref = os->fnext = NULL;
    if (os->memfd >= 0)
        close(os->memfd);
    os->memfd = -1;
    if (os->pg_mu_ok)
        pthread_mutex_destroy(&os->pg_mu);
    os->pg_mu_ok = false;
}

size_t os_page_size(void *self)
{
    return ((struct os_posix *)self)->psize;
}

/* Makes room for `need` more memfd pages. */
static int file_reserve(struct os_posix *os, size_t need)
{
    size_t avail = os->nfree + (os->fcap - os->fhigh);
    if (avail >= need)
        return 0;
    if (os->memfd < 0) {
        os->memfd = memfd_create("lyra-pages", MFD_CLOEXEC);
        if (os->memfd < 0)
            return -errno;
    }
    size_t cap = (size_t)os->fcap * 2;
    if (cap < os->fcap + (need - avail))
        cap = os->fcap + (need - avail);
    if (cap < 64)
        cap = 64;
    if (cap >= OS_FREE_NONE)
        return -ENOMEM;
    uint32_t *ref = realloc(os->fref, cap * sizeof(*ref));
    if (!ref)
        return -ENOMEM;
    os->fref = ref;
    uint32_t *next = realloc(os->fnext, cap * sizeof(*next));
    if (!next)
        return -ENOMEM;
    os->fnext = next;
    if (ftruncate(os->memfd, (off_t)(cap * os->psize)) < 0)
        return -errno;
    memset(os->fref + os->fcap, 0, (cap - os->fcap) * sizeof(*ref));
    os->fcap = (uint32_t)cap;
    return 0;
}

/* A memfd page for page_alloc; *used: it comes off the free list and holds
 * old bytes (the caller zeroes it once mapped). */
static uint32_t fpage_take(struct os_posix *os, bool *used)
{
    uint32_t f;
    if (os->fhigh < os->fcap) {
        f = os->fhigh++; /* fresh pages first: they come out contiguous (and are holes) */
        *used = false;
    } else {
        f = os->ffree;
        os->ffree = os->fnext[f];
        os->nfree--;
        *used = true;
    }
    os->fref[f] = 1;
    return f;
}

/* Kept for reuse as it is: see the top of this file. */
static void fpage_put(struct os_posix *os, uint32_t f)
{
    if (--os->fref[f])
        return;
    os->fnext[f] = os->ffree;
    os->ffree = f;
    os->nfree++;
}

/* Maps memfd pages f[0..n) at va, one mmap per run of consecutive pages;
 * populate: fill the page-table entries now (remaps: the pages exist and
 * are about to be used), not at first touch. */
static int map_run(struct os_posix *os, uintptr_t va, const uint32_t *f, size_t n, bool populate)
{
    int fl = MAP_SHARED | MAP_FIXED | (populate ? MAP_POPULATE : 0);
    void *p = mmap((void *)va, n * os->psize, PROT_READ | PROT_WRITE, fl, os->memfd,
                   (off_t)f[0] * (off_t)os->psize);
    return p == MAP_FAILED ? -errno : 0;
}

static size_t run_len(const uint32_t *f, size_t n)
{
    size_t j = 1;
    while (j < n && f[j] == f[j - 1] + 1)
        j++;
    return j;
}

/* The region table's writers (page_alloc, page_free: under pg_mu) hold
 * reg_busy while they move it, for os_pages_mapped, which reads it
 * without pg_mu and gives up rather than wait. */
static void reg_hold(struct os_posix *os)
{
    while (atomic_flag_test_and_set_explicit(&os->reg_busy, memory_order_acquire))
        ;
}

static void reg_release(struct os_posix *os)
{
    atomic_flag_clear_explicit(&os->reg_busy, memory_order_release);
}

/* Index of the region holding [p, p + n pages), or -1. */
static long find_region(struct os_posix *os, uintptr_t p, size_t n)
{
    size_t lo = 0, hi = os->nreg;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (os->reg[mid].addr <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return -1;
    struct os_region *r = &os->reg[lo - 1];
    size_t first = (p - r->addr) / os->psize;
    if (first >= r->npages || n > r->npages - first)
        return -1;
    return (long)(lo - 1);
}

void *os_page_alloc(void *self, size_t npages)
{
    struct os_posix *os = self;
    if (!npages || npages > (SIZE_MAX / os->psize))
        return NULL;
    size_t len = npages * os->psize;
    void *va = MAP_FAILED;
    uint32_t *f = malloc(npages * sizeof(*f));
    if (!f)
        return NULL;

    pthread_mutex_lock(&os->pg_mu);
    if (os->nreg == os->capreg) {
        size_t cap = os->capreg ? os->capreg * 2 : 16;
        reg_hold(os);
        struct os_region *reg = realloc(os->reg, cap * sizeof(*reg));
        if (reg) {
            os->reg = reg;
            os->capreg = cap;
        }
        reg_release(os);
        if (!reg)
            goto fail;
    }
    if (file_reserve(os, npages))
        goto fail;
    /* reserve the addresses first, then lay the memfd pages over them */
    va = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (va == MAP_FAILED)
        goto fail;
    size_t nused = 0;
    for (size_t i = 0; i < npages; i++) {
        bool used;
        f[i] = fpage_take(os, &used);
        nused += used;
    }
    /* fresh pages are holes of the memfd and stay unpopulated (a region
     * that is remapped away at once, as skb_zc's alias, costs no memory) */
    for (size_t i = 0; i < npages;) {
        size_t k = run_len(f + i, npages - i);
        if (map_run(os, (uintptr_t)va + i * os->psize, f + i, k, false)) {
            for (size_t j = 0; j < npages; j++)
                fpage_put(os, f[j]);
            goto fail;
        }
        i += k;
    }
    /* recycled pages (fpage_take hands out the fresh ones first, so they
     * are the last nused): their old bytes go before the caller sees them */
    for (size_t i = npages - nused; i < npages; i++)
        memset((uint8_t *)va + i * os->psize, 0, os->psize);
    size_t at = 0;
    while (at < os->nreg && os->reg[at].addr < (uintptr_t)va)
        at++;
    reg_hold(os);
    memmove(&os->reg[at + 1], &os->reg[at], (os->nreg - at) * sizeof(*os->reg));
    os->reg[at] = (struct os_region){(uintptr_t)va, npages, f};
    os->nreg++;
    atomic_store_explicit(&os->nreg_live, os->nreg, memory_order_relaxed);
    reg_release(os);
    atomic_fetch_add_explicit(&os->page_bytes, len, memory_order_relaxed);
    pthread_mutex_unlock(&os->pg_mu);
    return va;

fail:
    pthread_mutex_unlock(&os->pg_mu);
    if (va != MAP_FAILED)
        munmap(va, len);
    free(f);
    return NULL;
}

bool os_pages_mapped(struct os_posix *os, uintptr_t first, size_t npages)
{
    /* no region, or a page of one was ever made unreadable: not known */
    if (!atomic_load_explicit(&os->nreg_live, memory_order_relaxed) ||
        atomic_load_explicit(&os->prot_none_seen, memory_order_relaxed))
        return false;
    /* mem_check may run in a signal handler (on top of a probe, or of
     * page_alloc on the same thread): no mutex, one try at the table's
     * flag, and a probe when it is taken */
    if (atomic_flag_test_and_set_explicit(&os->reg_busy, memory_order_acquire))
        return false;
    bool in = find_region(os, first, npages) >= 0;
    atomic_flag_clear_explicit(&os->reg_busy, memory_order_release);
    if (in)
        atomic_fetch_add_explicit(&os->mem_check_known, 1, memory_order_relaxed);
    return in;
}

/* Frees a whole region as page_alloc returned it; anything else is ignored. */
void os_page_free(void *self, void *p, size_t npages)
{
    struct os_posix *os = self;
    if (!p)
        return;
    pthread_mutex_lock(&os->pg_mu);
    long i = find_region(os, (uintptr_t)p, npages);
    if (i >= 0 && os->reg[i].addr == (uintptr_t)p && os->reg[i].npages == npages) {
        struct os_region r = os->reg[i];
        munmap(p, npages * os->psize);
        for (size_t k = 0; k < npages; k++)
            fpage_put(os, r.fpage[k]);
        free(r.fpage);
        reg_hold(os);
        memmove(&os->reg[i], &os->reg[i + 1], (os->nreg - (size_t)i - 1) * sizeof(*os->reg));
        os->nreg--;
        atomic_store_explicit(&os->nreg_live, os->nreg, memory_order_relaxed);
        reg_release(os);
        atomic_fetch_sub_explicit(&os->page_bytes, npages * os->psize, memory_order_relaxed);
    }
    pthread_mutex_unlock(&os->pg_mu);
}

/* dst shows what src shows, page by page. The new mapping is read-write
 * whatever dst's protection was. */
int os_page_remap(void *self, void *dst, void *src, size_t npages)
{
    struct os_posix *os = self;
    uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;
    if (!npages || (d | s) % os->psize)
        return -EINVAL;
    if (d == s)
        return 0;
    size_t len = npages * os->psize;
    if (d < s + len && s < d + len)
        return -EINVAL; /* overlapping ranges */

    pthread_mutex_lock(&os->pg_mu);
    long di = find_region(os, d, npages), si = find_region(os, s, npages);
    if (di < 0 || si < 0) {
        pthread_mutex_unlock(&os->pg_mu);
        return -EINVAL;
    }
    uint32_t *df = os->reg[di].fpage + (d - os->reg[di].addr) / os->psize;
    const uint32_t *sf = os->reg[si].fpage + (s - os->reg[si].addr) / os->psize;
    int r = 0;
    for (size_t i = 0; i < npages;) {
        size_t k = run_len(sf + i, npages - i);
        r = map_run(os, d + i * os->psize, sf + i, k, true);
        if (r)
            break;
        for (size_t j = i; j < i + k; j++) {
            uint32_t old = df[j];
            os->fref[sf[j]]++;
            df[j] = sf[j];
            fpage_put(os, old);
        }
        i += k;
    }
    pthread_mutex_unlock(&os->pg_mu);
    if (!r)
        atomic_fetch_add_explicit(&os->remaps, npages, memory_order_relaxed);
    return r;
}

/* a shows what b showed and b what a showed, page by page: two mmap calls
 * per run of pages (by memfd offset, so neither range needs a third place
 * to park its pages), each populated, both read-write afterwards. No page
 * changes hands between ranges a caller does not name, and reference
 * counts do not change. On failure the failing run is undone (a shows
 * its old pages again) and runs before it stay swapped: a one-page swap,
 * as skb_zc's receive asks, is all or nothing. */
int os_page_swap(void *self, void *a, void *b, size_t npages)
{
    struct os_posix *os = self;
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    if (!npages || (x | y) % os->psize)
        return -EINVAL;
    size_t len = npages * os->psize;
    if (x < y + len && y < x + len)
        return -EINVAL; /* the same or overlapping ranges */

    pthread_mutex_lock(&os->pg_mu);
    long xi = find_region(os, x, npages), yi = find_region(os, y, npages);
    if (xi < 0 || yi < 0) {
        pthread_mutex_unlock(&os->pg_mu);
        return -EINVAL;
    }
    uint32_t *xf = os->reg[xi].fpage + (x - os->reg[xi].addr) / os->psize;
    uint32_t *yf = os->reg[yi].fpage + (y - os->reg[yi].addr) / os->psize;
    int r = 0;
    for (size_t i = 0; i < npages && !r;) {
        /* one run where both sides are consecutive memfd pages */
        size_t k = run_len(xf + i, npages - i), ky = run_len(yf + i, npages - i);
        if (ky < k)
            k = ky;
        r = map_run(os, x + i * os->psize, yf + i, k, true);
        if (r)
            break;
        r = map_run(os, y + i * os->psize, xf + i, k, true);
        if (r) {
            int u = map_run(os, x + i * os->psize, xf + i, k, false);
            r = u ? u : r;
            break;
        }
        for (size_t j = i; j < i + k; j++) {
            uint32_t t = xf[j];
            xf[j] = yf[j];
            yf[j] = t;
        }
        i += k;
    }
    pthread_mutex_unlock(&os->pg_mu);
    if (!r)
        atomic_fetch_add_explicit(&os->remaps, 2 * npages, memory_order_relaxed);
    return r;
}

/* No lock and only mprotect: a copy-on-write hook may call this from the
 * SIGSEGV handler. */
int os_page_protect(void *self, void *p, size_t npages, int prot)
{
    struct os_posix *os = self;
    if (!npages || (uintptr_t)p % os->psize)
        return -EINVAL;
    int mp = PROT_NONE;
    if (!(prot & (LYRA_PROT_READ | LYRA_PROT_WRITE)))
        atomic_store_explicit(&os->prot_none_seen, 1, memory_order_relaxed); /* os_pages_mapped */
    if (prot & LYRA_PROT_READ)
        mp |= PROT_READ;
    if (prot & LYRA_PROT_WRITE)
        mp |= PROT_READ | PROT_WRITE; /* no write-only pages on common MMUs */
    return mprotect(p, npages * os->psize, mp) ? -errno : 0;
}

/* ---- copy on write: the process-wide registry ---- */

static void sig_chain(int sig, siginfo_t *si, void *uc, const struct sigaction *old)
{
    if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        if (old->sa_flags & SA_SIGINFO)
            old->sa_sigaction(sig, si, uc);
        else
            old->sa_handler(sig);
        return;
    }
    /* nobody else wants it: die of it, as without us */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
    raise(sig);
}

static void cow_handler(int sig, siginfo_t *si, void *uc)
{
    probe_catch(si, uc);
    int saved = errno;
    uintptr_t a = (uintptr_t)si->si_addr;
    struct cow_ent e = {0};
    struct sigaction old;

    pthread_mutex_lock(&cow_reg.mu);
    old = cow_reg.old;
    uintptr_t pmask = cow_reg.pmask;
    if (si->si_code == SEGV_ACCERR)
        for (size_t i = 0; i < cow_reg.n; i++)
            if (a >= cow_reg.v[i].lo && a < cow_reg.v[i].hi) {
                e = cow_reg.v[i];
                break;
            }
    pthread_mutex_unlock(&cow_reg.mu);

    if (e.fn && e.fn(e.ctx, (void *)(a & ~pmask)) == 0) {
        atomic_fetch_add_explicit(&e.owner->cow_faults, 1, memory_order_relaxed);
        errno = saved;
        return; /* the write runs again, now on a writable page */
    }
    sig_chain(sig, si, uc, &old);
    errno = saved;
}

static void bus_handler(int sig, siginfo_t *si, void *uc)
{
    probe_catch(si, uc);
    pthread_mutex_lock(&cow_reg.mu);
    struct sigaction old = cow_reg.old_bus;
    pthread_mutex_unlock(&cow_reg.mu);
    sig_chain(sig, si, uc, &old);
}

/* Installs fn for sig, the previous action to *old: 0 or -errno. */
static int handler_install(int sig, void (*fn)(int, siginfo_t *, void *), struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK; /* on the alternate stack, if any */
    sigfillset(&sa.sa_mask); /* no other handler runs while SIGSEGV is blocked (it could probe) */
    return sigaction(sig, &sa, old) ? -errno : 0;
}

/* Called with cow_reg.mu held. */
static int cow_install(struct os_posix *os)
{
    if (cow_reg.installed)
        return 0;
    int r = handler_install(SIGSEGV, cow_handler, &cow_reg.old);
    if (r)
        return r;
    cow_reg.pmask = os->psize - 1;
    cow_reg.installed = true;
    return 0;
}

/* Called with cow_reg.mu held. */
static void cow_maybe_uninstall(void)
{
    if (cow_reg.bus_installed && !cow_reg.probers) {
        sigaction(SIGBUS, &cow_reg.old_bus, NULL);
        cow_reg.bus_installed = false;
    }
    if (cow_reg.n || cow_reg.probers || !cow_reg.installed)
        return;
    sigaction(SIGSEGV, &cow_reg.old, NULL);
    cow_reg.installed = false;
    free(cow_reg.v);
    cow_reg.v = NULL;
    cow_reg.cap = 0;
}

int os_cow_register(void *self, void *p, size_t npages, lyra_cow_fn fn, void *ctx)
{
    struct os_posix *os = self;
    uintptr_t lo = (uintptr_t)p;
    if (!npages || !fn || lo % os->psize || npages > (UINTPTR_MAX - lo) / os->psize)
        return -EINVAL;
    uintptr_t hi = lo + npages * os->psize;
    int r = 0;
    pthread_mutex_lock(&cow_reg.mu);
    for (size_t i = 0; i < cow_reg.n && !r; i++)
        if (lo < cow_reg.v[i].hi && cow_reg.v[i].lo < hi)
            r = -EBUSY;
    if (!r && cow_reg.n == cow_reg.cap) {
        size_t cap = cow_reg.cap ? cow_reg.cap * 2 : 32;
        struct cow_ent *v = realloc(cow_reg.v, cap * sizeof(*v));
        if (v) {
            cow_reg.v = v;
            cow_reg.cap = cap;
        } else {
            r = -ENOMEM;
        }
    }
    if (!r)
        r = cow_install(os);
    if (!r)
        cow_reg.v[cow_reg.n++] = (struct cow_ent){lo, hi, fn, ctx, os};
    cow_maybe_uninstall();
    pthread_mutex_unlock(&cow_reg.mu);
    return r;
}

/* Removes this instance's registrations inside the range. */
int os_cow_unregister(void *self, void *p, size_t npages)
{
    struct os_posix *os = self;
    uintptr_t lo = (uintptr_t)p;
    if (!npages || lo % os->psize || npages > (UINTPTR_MAX - lo) / os->psize)
        return -EINVAL;
    uintptr_t hi = lo + npages * os->psize;
    int r = -ENOENT;
    pthread_mutex_lock(&cow_reg.mu);
    for (size_t i = 0; i < cow_reg.n; i++) {
        struct cow_ent *e = &cow_reg.v[i];
        if (e->owner == os && lo < e->hi && e->lo < hi && (e->lo < lo || e->hi > hi)) {
            r = -EINVAL; /* would cut a registration in two */
            goto out;
        }
    }
    for (size_t i = 0; i < cow_reg.n;) {
        struct cow_ent *e = &cow_reg.v[i];
        if (e->owner == os && e->lo >= lo && e->hi <= hi) {
            *e = cow_reg.v[--cow_reg.n];
            r = 0;
        } else {
            i++;
        }
    }
    cow_maybe_uninstall();
out:
    pthread_mutex_unlock(&cow_reg.mu);
    return r;
}

static void cow_drop_owner(struct os_posix *os)
{
    pthread_mutex_lock(&cow_reg.mu);
    if (atomic_load_explicit(&os->probing, memory_order_relaxed) > 0)
        cow_reg.probers--;
    atomic_store_explicit(&os->probing, 0, memory_order_relaxed);
    for (size_t i = 0; i < cow_reg.n;) {
        if (cow_reg.v[i].owner == os)
            cow_reg.v[i] = cow_reg.v[--cow_reg.n];
        else
            i++;
    }
    cow_maybe_uninstall();
    pthread_mutex_unlock(&cow_reg.mu);
}

/* ---- mem_check's probe ---- */

/* Makes this instance a prober: both handlers installed (once). Its
 * probing state after: 1, or -1 when they cannot be (kept: not retried). */
static int probe_install(struct os_posix *os)
{
    int r = 0;
    pthread_mutex_lock(&cow_reg.mu);
    if (!atomic_load_explicit(&os->probing, memory_order_relaxed)) {
        r = cow_install(os);
        if (!r && !cow_reg.bus_installed) {
            r = handler_install(SIGBUS, bus_handler, &cow_reg.old_bus);
            cow_reg.bus_installed = !r;
        }
        cow_reg.probers += !r;
        atomic_store_explicit(&os->probing, r ? -1 : 1, memory_order_release);
        cow_maybe_uninstall();
    }
    r = atomic_load_explicit(&os->probing, memory_order_relaxed);
    pthread_mutex_unlock(&cow_reg.mu);
    return r;
}

/* The reads themselves: not instrumented (a sanitizer would report a
 * read of memory the application freed, which is exactly what a check
 * may be asked about), not inlined into instrumented code. */
__attribute__((noinline, no_sanitize_address)) static void probe_reads(uintptr_t a,
                                                                        uintptr_t first,
                                                                        size_t npages, size_t ps)
{
    for (size_t i = 0; i < npages; i++)
        (void)*(volatile const char *)(i ? first + i * ps : a);
}

static int probe_run(uintptr_t a, uintptr_t first, size_t npages, size_t ps)
{
    /* what the code after sigsetjmp uses lives in memory (C11 7.13.2.1) */
    volatile uintptr_t va = a, vfirst = first;
    volatile size_t vn = npages, vps = ps;
    /* a probe in a signal handler that interrupted one of this thread's
     * probes: the outer one's buffer is set back on the way out */
    struct probe_env *volatile outer = probe_env;
    struct probe_env env = {.lo = first, .len = npages * ps};
    if (sigsetjmp(env.jb, 0)) {
        probe_env = outer; /* probe_catch cleared it */
        pthread_sigmask(SIG_SETMASK, &probe_fault_mask, NULL);
        return -EFAULT;
    }
    probe_env = &env;
    atomic_signal_fence(memory_order_seq_cst);
    probe_reads(va, vfirst, vn, vps);
    atomic_signal_fence(memory_order_seq_cst);
    probe_env = outer;
    return 0;
}

static bool probe_mask_allows(void)
{
    if (!probe_mask_ok) {
        sigset_t m;
        bool ok = !pthread_sigmask(SIG_BLOCK, NULL, &m) && !sigismember(&m, SIGSEGV) &&
                  !sigismember(&m, SIGBUS);
        probe_mask_ok = ok ? 1 : -1;
    }
    return probe_mask_ok > 0;
}

/* -ENOSYS: cannot probe here (handlers not installed, or this thread
 * blocks their signals): the caller checks by system call. */
int os_probe_pages(struct os_posix *os, uintptr_t a, uintptr_t first, size_t npages)
{
    int st = atomic_load_explicit(&os->probing, memory_order_acquire);
    if (!st)
        st = probe_install(os);
    if (st < 0 || !probe_mask_allows())
        return -ENOSYS;
    return probe_run(a, first, npages, os->psize);
}
