/* Memory for pools and tables (start time only); locks are in os_sync.c. */
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
