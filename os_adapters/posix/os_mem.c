/* Memory for pools and tables (start time only), and the check of
 * memory a provider will reference (os 2.2); locks are in os_sync.c. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "os_posix_int.h"

/* The blocks mem_alloc handed out and the bytes each was asked for, so
 * that mem_usage reports what the stack asked, the same under glibc and
 * ASan and whatever the allocator rounds (a few dozen blocks, taken at
 * start: a table searched from its newest end). Under os->mu; the sum is
 * an atomic, so mem_usage reads it without the lock, from any context. */
static int blk_add(struct os_posix *os, void *p, size_t n)
{
    if (os->nblk == os->capblk) {
        size_t cap = os->capblk ? os->capblk * 2 : 32;
        struct os_blk *t = realloc(os->blk, cap * sizeof(*t));
        if (!t)
            return -1;
        os->blk = t;
        os->capblk = cap;
    }
    os->blk[os->nblk++] = (struct os_blk){p, n};
    atomic_fetch_add_explicit(&os->mem_bytes, n, memory_order_relaxed);
    return 0;
}

static void blk_drop(struct os_posix *os, void *p)
{
    for (size_t i = os->nblk; i-- > 0;)
        if (os->blk[i].p == p) {
            atomic_fetch_sub_explicit(&os->mem_bytes, os->blk[i].n, memory_order_relaxed);
            os->blk[i] = os->blk[--os->nblk];
            return;
        }
}

void *os_mem_alloc(void *self, size_t size, size_t align)
{
    struct os_posix *os = self;
    if (align < sizeof(void *))
        align = sizeof(void *);
    if (align & (align - 1))
        return NULL;
    void *p = NULL;
    if (posix_memalign(&p, align, size ? size : 1))
        return NULL;
    pthread_mutex_lock(&os->mu);
    int r = blk_add(os, p, size);
    pthread_mutex_unlock(&os->mu);
    if (r) {
        free(p);
        return NULL;
    }
    return p;
}

void os_mem_free(void *self, void *p)
{
    struct os_posix *os = self;
    if (!p)
        return;
    pthread_mutex_lock(&os->mu);
    blk_drop(os, p);
    pthread_mutex_unlock(&os->mu);
    free(p);
}

/* The RAM report's reading (os 2.5): what mem_alloc callers asked for and
 * hold, and the page_alloc regions held (each counted whole: an alias
 * region skb_zc remaps over another counts again, though it holds no
 * memory of its own). */
void os_mem_usage(void *self, uint64_t *heap_bytes, uint64_t *page_bytes)
{
    struct os_posix *os = self;
    *heap_bytes = atomic_load_explicit(&os->mem_bytes, memory_order_relaxed);
    *page_bytes = atomic_load_explicit(&os->page_bytes, memory_order_relaxed);
}

/* mem_check reads one byte of each page itself, a fault caught by the
 * process's SIGSEGV/SIGBUS handlers (os_probe_pages): no system call, where
 * the process_vm_readv below cost about 3.5 us a check on this VM, most of
 * a MSG_ZEROCOPY send's extra cost (bench/results/zc.md). Where those
 * handlers cannot be installed:
 *
 * Pages [first, first + n pages) probed at once: process_vm_readv of one
 * byte of each from this process itself (its pid taken at create: a
 * getpid per check was a second system call per referenced segment, and
 * an instance is not used across fork) fails where a page is not
 * readable (a read of ours there would fault). Where that call is not
 * allowed (a seccomp filter), mincore says at least whether each page is
 * mapped. */
#define CHECK_BATCH 64

static int check_pages(pid_t pid, uintptr_t a, uintptr_t first, size_t n, size_t ps)
{
    struct iovec remote[CHECK_BATCH];
    char sink[CHECK_BATCH];
    struct iovec local = {sink, n};
    for (size_t i = 0; i < n; i++)
        remote[i] = (struct iovec){(void *)(i ? first + i * ps : a), 1};
    ssize_t r = process_vm_readv(pid, &local, 1, remote, n, 0);
    if (r == (ssize_t)n)
        return 0;
    if (r >= 0 || errno == EFAULT)
        return -EFAULT;
    unsigned char vec[CHECK_BATCH];
    return mincore((void *)first, n * ps, vec) ? -EFAULT : 0;
}

int os_mem_check(void *self, const void *p, size_t len)
{
    struct os_posix *os = self;
    uintptr_t a = (uintptr_t)p, ps = os->psize;
    if (!len)
        return 0;
    if (!p || UINTPTR_MAX - a < len - 1)
        return -EFAULT;
    uintptr_t first = a & ~(ps - 1);
    size_t npages = (size_t)(((a + len - 1) & ~(ps - 1)) - first) / ps + 1;
    /* pages of a region of ours (packet memory, which the application
     * sends from) are known to be mapped: a probe there only paid a TLB
     * and a cache miss on memory the stack never reads itself, the most
     * of a MSG_ZEROCOPY send's extra cost (bench/results/zc.md) */
    if (os_pages_mapped(os, first, npages))
        return 0;
    int r = os_probe_pages(os, a, first, npages);
    if (r != -ENOSYS)
        return r;
    atomic_fetch_add_explicit(&os->mem_check_syscalls, 1, memory_order_relaxed);
    for (size_t i = 0; i < npages; i += CHECK_BATCH) {
        size_t n = npages - i < CHECK_BATCH ? npages - i : CHECK_BATCH;
        uintptr_t at = first + i * ps;
        if (check_pages(os->pid, i ? at : a, at, n, ps))
            return -EFAULT;
    }
    return 0;
}
