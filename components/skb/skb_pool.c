/* Fixed skb pool: see skb_pool.h. */
#include "skb_pool.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* Bad frees are logged while few, then only at powers of two, so that a
 * holder stuck in a loop of bad frees cannot flood the log. */
#define SKB_POOL_LOG_FIRST 8u

/* skb_pool_alloc resets the header field by field (no memset): a field
 * added to struct lyra_skb must be added there too, which this makes a
 * build error to forget (LP64 and ILP32 sizes). */
_Static_assert(sizeof(struct lyra_skb) == (sizeof(void *) == 8 ? 184u : 152u),
               "struct lyra_skb changed: reset the new field in skb_pool_alloc");

/* posix_memalign-style providers want at least pointer alignment. */
#define SKB_POOL_MIN_ALIGN _Alignof(max_align_t)

uint32_t skb_pool_stride(const struct skb_pool_cfg *cfg)
{
    uint64_t align = cfg->align ? cfg->align : SKB_POOL_ALIGN;
    if (align & (align - 1))
        return 0;
    if (cfg->buf_size == 0)
        return 0;
    uint64_t stride = ((uint64_t)cfg->buf_size + align - 1) & ~(align - 1);
    return stride > UINT32_MAX ? 0 : (uint32_t)stride;
}

static void pool_free_mem(struct skb_pool *p)
{
    const struct lyra_os_ops *o = p->os->ops;
    if (p->hdr)
        o->mem_free(p->os->self, p->hdr);
    if (p->data && p->own_data)
        o->mem_free(p->os->self, p->data);
    if (p->stack)
        o->mem_free(p->os->self, p->stack);
    if (p->out)
        o->mem_free(p->os->self, p->out);
    p->hdr = NULL;
    p->data = NULL;
    p->stack = NULL;
    p->out = NULL;
    p->own_data = 0;
}

int skb_pool_init(struct skb_pool *p, const struct lyra_os *os, const char *who,
                  const struct skb_pool_cfg *cfg, const struct lyra_skb_ops *owner_ops,
                  void *owner)
{
    uint32_t stride = skb_pool_stride(cfg);
    uintptr_t align = cfg->align ? cfg->align : SKB_POOL_ALIGN;
    if (p->hdr)
        return -EBUSY;
    if (!os || !os->ops || !owner_ops || cfg->count == 0 || stride == 0 ||
        cfg->reserve_rx > cfg->count || cfg->reserve_ctl > cfg->count - cfg->reserve_rx)
        return -EINVAL;
    if (cfg->data && ((uintptr_t)cfg->data & (align - 1)))
        return -EINVAL;
    /* count * stride must not wrap size_t (32-bit hosts). */
    size_t data_bytes, hdr_bytes;
    if (__builtin_mul_overflow((size_t)cfg->count, (size_t)stride, &data_bytes) ||
        __builtin_mul_overflow((size_t)cfg->count, sizeof(struct lyra_skb), &hdr_bytes))
        return -ENOMEM;

    p->os = os;
    p->who = who ? who : "skb";
    p->owner_ops = owner_ops;
    p->owner = owner;
    p->release = cfg->release;
    p->count = cfg->count;
    p->buf_size = cfg->buf_size;
    p->stride = stride;
    p->reserve_rx = cfg->reserve_rx;
    p->reserve_ctl = cfg->reserve_ctl;
    p->nfree = 0;
    p->used = 0;

    const struct lyra_os_ops *o = os->ops;
    p->hdr = o->mem_alloc(os->self, hdr_bytes, SKB_POOL_MIN_ALIGN);
    p->stack = o->mem_alloc(os->self, (size_t)cfg->count * sizeof(uint32_t), SKB_POOL_MIN_ALIGN);
    p->out = o->mem_alloc(os->self, cfg->count, SKB_POOL_MIN_ALIGN);
    if (cfg->data) {
        p->data = cfg->data;
        p->own_data = 0;
    } else {
        p->data = o->mem_alloc(os->self, data_bytes, align);
        p->own_data = 1;
    }
    if (!p->hdr || !p->stack || !p->out || !p->data) {
        pool_free_mem(p);
        return -ENOMEM;
    }

    memset(p->hdr, 0, hdr_bytes);
    memset(p->out, 0, cfg->count);
    /* Lowest index on top: buffers are handed out in address order at first,
     * which makes traces and tests easier to read. */
    for (uint32_t i = 0; i < cfg->count; i++) {
        struct lyra_skb *s = &p->hdr[i];
        s->head = p->data + (size_t)i * stride;
        s->size = cfg->buf_size;
        s->owner_ops = owner_ops;
        s->owner = owner;
        s->pool_index = i;
        p->stack[cfg->count - 1 - i] = i;
    }
    p->nfree = cfg->count;
    return 0;
}

uint32_t skb_pool_fini(struct skb_pool *p)
{
    if (!p->hdr)
        return 0;
    uint32_t leaked = skb_pool_in_use(p);
    if (leaked)
        lyra_log(p->os, LYRA_LOG_WARN, p->who,
                 "%u of %u buffers still in use when the pool is released (leaked by a holder)",
                 (unsigned)leaked, (unsigned)p->count);
    pool_free_mem(p);
    /* used stays as it was, so in_use keeps reporting the leak after stop. */
    p->nfree = 0;
    return leaked;
}

uint32_t skb_pool_avail_for(const struct skb_pool *p, enum skb_pool_kind kind)
{
    if (!p->hdr)
        return 0;
    /* Transmit leaves reserve_rx buffers for receive, so that a sender
     * cannot starve the NIC of buffers for the ACKs it is waiting for; data
     * leaves reserve_ctl more, so that ACKs and RSTs can still be sent when
     * data sends have used up the rest. */
    uint32_t keep = kind == SKB_POOL_RX ? 0
                    : kind == SKB_POOL_CTL ? p->reserve_rx
                                           : p->reserve_rx + p->reserve_ctl;
    return p->nfree > keep ? p->nfree - keep : 0;
}

struct lyra_skb *skb_pool_alloc(struct skb_pool *p, uint32_t headroom, uint32_t size,
                                enum skb_pool_kind kind)
{
    int rx = kind == SKB_POOL_RX;
    if (!p->hdr) {
        p->st.alloc_fail_empty++; /* not started: no buffers at all */
        return NULL;
    }
    if ((uint64_t)headroom + size > p->buf_size) {
        p->st.alloc_fail_size++;
        return NULL;
    }
    if (skb_pool_avail_for(p, kind) == 0) {
        p->st.alloc_fail_empty++;
        return NULL;
    }

    uint32_t i = p->stack[--p->nfree];
    struct lyra_skb *s = &p->hdr[i];
    uint8_t *head = p->data + (size_t)i * p->stride;
    /* Every field written once, in order, rather than a memset and then
     * the fields that are not zero: this runs for every frame, and the
     * compiler merges neighbouring stores. */
    s->next = NULL;
    s->head = head;
    s->data = head + headroom;
    s->len = 0;
    s->size = p->buf_size;
    s->seg_len = 0;
    s->nseg = 0;
    s->seg = NULL;
    s->seg_last = NULL;
    s->refcnt = 1;
    s->flags = rx ? LYRA_SKB_F_RX : 0;
    s->protocol = 0;
    s->csum_start = 0;
    s->csum_off = 0;
    s->l3_off = 0;
    s->l4_off = 0;
    s->lin_csum_at = 0;
    s->lin_csum_len = 0;
    s->lin_csum = 0;
    s->gso_size = 0;
    s->tstamp = 0;
    s->owner_ops = p->owner_ops;
    s->owner = p->owner;
    s->pool_index = i;
    for (unsigned k = 0; k < sizeof(s->cb) / sizeof(s->cb[0]); k++)
        s->cb[k] = 0;
    s->done = NULL;
    s->done_ctx = NULL;
    p->out[i] = 1;
    p->used++;

    if (rx)
        p->st.alloc_rx++;
    else
        p->st.alloc++;
    if (p->used > p->st.high_water)
        p->st.high_water = p->used;
    return s;
}

static void bad_free(struct skb_pool *p, const struct lyra_skb *skb, const char *why)
{
    uint64_t n = ++p->st.bad_free;
    if (n <= SKB_POOL_LOG_FIRST || (n & (n - 1)) == 0)
        lyra_log(p->os, LYRA_LOG_WARN, p->who, "bad free of skb %p: %s (%llu bad frees so far)",
                 (const void *)skb, why, (unsigned long long)n);
}

int skb_pool_free(struct skb_pool *p, struct lyra_skb *skb)
{
    if (!skb)
        return 0;
    if (!skb_pool_owns(p, skb)) {
        if (p->hdr)
            bad_free(p, skb, "not from this pool");
        else
            p->st.bad_free++; /* no os to log to before start / after stop */
        return -EINVAL;
    }
    return skb_pool_free_own(p, skb);
}

int skb_pool_free_own(struct skb_pool *p, struct lyra_skb *skb)
{
    uint32_t i = skb->pool_index; /* the caller checked skb_pool_owns */
    if (!p->out[i]) {
        bad_free(p, skb, "already free");
        return -EINVAL;
    }
    if (skb->refcnt == 0) {
        /* Out, yet no reference: a holder wrote over the header. Leave it
         * out rather than guess; it shows up as in_use and in the log. */
        bad_free(p, skb, "reference count is 0");
        return -EINVAL;
    }
    if (--skb->refcnt > 0)
        return 0;
    if (skb->done) { /* send completion, before the buffer is reused */
        void (*fn)(void *, struct lyra_skb *) = skb->done;
        skb->done = NULL;
        fn(skb->done_ctx, skb);
    }
    if (p->release)
        p->release(p->owner, skb);
    skb->next = NULL;
    p->out[i] = 0;
    p->stack[p->nfree++] = i;
    p->used--;
    p->st.free++;
    return 1;
}

struct lyra_skb *skb_pool_alloc_tx(struct skb_pool *normal, struct skb_pool *big,
                                   uint32_t preferred, enum skb_pool_kind kind, uint32_t headroom,
                                   uint32_t size)
{
    uint64_t need = (uint64_t)headroom + size;
    if (need > normal->buf_size && big && skb_pool_ready(big) && need <= big->buf_size) {
        uint32_t h = skb_pool_fit_headroom(big->buf_size, headroom, preferred, size);
        return skb_pool_alloc(big, h, size, kind);
    }
    uint32_t h = skb_pool_fit_headroom(normal->buf_size, headroom, preferred, size);
    return skb_pool_alloc(normal, h, size, kind);
}

int skb_pool_cls_kind(int cls, enum skb_pool_kind *kind)
{
    if (cls == LYRA_SKB_DATA)
        *kind = SKB_POOL_DATA;
    else if (cls == LYRA_SKB_CTL)
        *kind = SKB_POOL_CTL;
    else
        return -EINVAL;
    return 0;
}
