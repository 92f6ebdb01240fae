#include "fd_table.h"

#include <errno.h>
#include <string.h>

int fd_alloc(struct fd_table *t, uint8_t l4, int handle)
{
    for (unsigned i = 0; i < t->n; i++)
        if (!t->e[i].used) {
            uint32_t gen = t->e[i].gen + 1;
            memset(&t->e[i], 0, sizeof(t->e[i]));
            t->e[i].gen = gen;
            t->e[i].used = true;
            t->e[i].l4 = l4;
            t->e[i].handle = handle;
            t->open++;
            return (int)i;
        }
    return -EMFILE;
}

struct fd_entry *fd_get(struct fd_table *t, int fd)
{
    if (fd < 0 || (unsigned)fd >= t->n || !t->e[fd].used)
        return NULL;
    return &t->e[fd];
}

void fd_release(struct fd_table *t, int fd)
{
    struct fd_entry *e = fd_get(t, fd);
    if (e) {
        e->used = false;
        t->open--;
    }
}
