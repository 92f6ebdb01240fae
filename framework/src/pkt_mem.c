/* lyra_pkt_alloc / lyra_pkt_free (issue 12): packet memory from the stack's
 * skb provider when it has some (skb 2.3 pkt_alloc: zero copy), else plain
 * page-aligned heap memory, so applications need not know the assembly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lyra/skb.h"
#include "lyra/socket.h"
#include "stack_internal.h"

/* The first skb 2.x provider with packet memory, or NULL. */
static const struct lyra_skb_ops *pkt_provider(struct lyra_stack *s, void **self)
{
    for (unsigned i = 0; i < s->n; i++) {
        const struct lyra_component *c = s->inst[i].c;
        for (unsigned k = 0; c && k < c->n_provides; k++) {
            const struct lyra_provide *p = &c->provides[k];
            if (strcmp(p->iface, LYRA_SKB_IFACE) || p->major != LYRA_SKB_MAJOR)
                continue;
            const struct lyra_skb_ops *o = p->ops;
            if (LYRA_SKB_HAS(o, 3, pkt_alloc) && LYRA_SKB_HAS(o, 3, pkt_free)) {
                *self = s->inst[i].self;
                return o;
            }
        }
    }
    return NULL;
}

void *lyra_pkt_alloc(struct lyra_stack *s, size_t size)
{
    if (!s || !size) {
        errno = EINVAL;
        return NULL;
    }
    void *self = NULL;
    const struct lyra_skb_ops *o = pkt_provider(s, &self);
    void *p = NULL;
    if (o) {
        lyra_stack_lock(s);
        p = o->pkt_alloc(self, size);
        lyra_stack_unlock(s);
    } else if (posix_memalign(&p, 4096, size)) {
        p = NULL;
    }
    if (!p)
        errno = ENOMEM;
    return p;
}

int lyra_pkt_free(struct lyra_stack *s, void *p)
{
    if (!p)
        return 0;
    if (!s) {
        errno = EINVAL;
        return -1;
    }
    void *self = NULL;
    const struct lyra_skb_ops *o = pkt_provider(s, &self);
    if (!o) {
        free(p);
        return 0;
    }
    lyra_stack_lock(s);
    int r = o->pkt_free(self, p);
    lyra_stack_unlock(s);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return 0;
}
