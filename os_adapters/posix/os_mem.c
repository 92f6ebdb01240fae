/* Memory for pools and tables (start time only) and locks. */
#include <errno.h>
#include <stdlib.h>

#include "os_posix_int.h"

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
    atomic_fetch_add_explicit(&os->mem_blocks, 1, memory_order_relaxed);
    return p;
}

void os_mem_free(void *self, void *p)
{
    struct os_posix *os = self;
    if (!p)
        return;
    atomic_fetch_sub_explicit(&os->mem_blocks, 1, memory_order_relaxed);
    free(p);
}

int os_lock_create(void *self, void **lock)
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

void os_lock_destroy(void *self, void *lock)
{
    if (!lock)
        return;
    pthread_mutex_destroy(lock);
    free(lock);
}

void os_lock(void *self, void *lock)
{
    pthread_mutex_lock(lock);
}

void os_unlock(void *self, void *lock)
{
    pthread_mutex_unlock(lock);
}
