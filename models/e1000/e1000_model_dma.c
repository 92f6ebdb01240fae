/* e1000_model: DMA memory and bus-address translation. dma_alloc hands
 * out the model's arena (a bump allocator, empty again once every block is
 * freed); dma_map gives other memory a bus address in a window of its own.
 * Every address the card uses goes back through em_dma_ptr, so a driver's
 * stray bus address is a counted DMA fault, never a host memory access. */
#include "e1000_model_int.h"

#include <errno.h>
#include <string.h>

/* Host memory behind [bus, bus+len), or NULL: a DMA fault. */
uint8_t *em_dma_ptr(struct e1000_model *m, uint64_t bus, uint64_t len)
{
    if (len == 0)
        len = 1;
    if (bus >= ARENA_BUS && bus - ARENA_BUS < m->dma_mem && m->arena) {
        uint64_t off = bus - ARENA_BUS;
        for (unsigned i = 0; i < m->nallocs; i++) {
            const struct dma_region *a = &m->allocs[i];
            if (a->live && off >= a->off && off - a->off <= a->size &&
                len <= a->size - (off - a->off))
                return m->arena + off;
        }
        return NULL;
    }
    if (bus >= MAP_BUS && m->maps) {
        uint64_t idx = (bus - MAP_BUS) / MAP_WINDOW;
        if (idx >= m->map_slots)
            return NULL;
        const struct dma_mapping *e = &m->maps[idx];
        if (!e->live || bus < e->bus || bus - e->bus > e->len || len > e->len - (bus - e->bus))
            return NULL;
        return (uint8_t *)(uintptr_t)(e->p + (bus - e->bus));
    }
    return NULL;
}

void *em_dma_alloc(void *self, size_t size, size_t align, uint64_t *bus)
{
    struct e1000_model *m = self;
    if (!m->arena || !size || m->nallocs >= MAX_ALLOCS)
        return NULL;
    if (align < 16)
        align = 16;
    if (align & (align - 1))
        return NULL;
    uint64_t off = (m->arena_used + align - 1) & ~((uint64_t)align - 1);
    if (off > m->dma_mem || size > m->dma_mem - off)
        return NULL;
    m->allocs[m->nallocs++] = (struct dma_region){off, size, true};
    m->arena_used = off + size;
    memset(m->arena + off, 0, size);
    if (bus)
        *bus = ARENA_BUS + off;
    return m->arena + off;
}

void em_dma_free(void *self, void *p, size_t size)
{
    struct e1000_model *m = self;
    if (!p || !m->arena)
        return;
    uint64_t off = (uint64_t)((uint8_t *)p - m->arena);
    bool live = false;
    for (unsigned i = 0; i < m->nallocs; i++) {
        if (m->allocs[i].live && m->allocs[i].off == off)
            m->allocs[i].live = false;
        live |= m->allocs[i].live;
    }
    if (!live) { /* the arena is a bump allocator: empty again */
        m->nallocs = 0;
        m->arena_used = 0;
    }
}

static bool in_arena(const struct e1000_model *m, const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)m->arena, q = (uintptr_t)p;
    return m->arena && q >= a && q - a < m->dma_mem && len <= m->dma_mem - (q - a);
}

/* dma_unmap finds a mapping by its host address in O(1): a driver that
 * keeps a ring of receive buffers mapped unmaps the oldest of them. */
static uint32_t *bucket(struct e1000_model *m, const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15u;
    return &m->map_bucket[(uint32_t)(h >> 32) & (m->map_nbuckets - 1)];
}

int em_dma_map(void *self, const void *p, size_t len, uint64_t *bus)
{
    struct e1000_model *m = self;
    if (!p || !len || len > MAP_WINDOW - 4096)
        return -EINVAL;
    if (in_arena(m, p, len)) {
        *bus = ARENA_BUS + (uint64_t)((const uint8_t *)p - m->arena);
        return 0;
    }
    if (!m->maps)
        return -EFAULT;
    for (uint32_t k = 0; k < m->map_slots; k++) {
        uint32_t i = (m->map_hint + k) % m->map_slots;
        struct dma_mapping *e = &m->maps[i];
        if (e->live)
            continue;
        e->p = p;
        e->len = len;
        e->bus = MAP_BUS + (uint64_t)i * MAP_WINDOW + ((uintptr_t)p & 0xfff);
        e->live = true;
        uint32_t *b = bucket(m, p);
        e->next = *b;
        *b = i + 1;
        m->map_hint = (i + 1) % m->map_slots;
        *bus = e->bus;
        return 0;
    }
    m->st.dma_map_full++;
    return -ENOSPC;
}

void em_dma_unmap(void *self, const void *p, size_t len)
{
    struct e1000_model *m = self;
    if (!p || in_arena(m, p, len) || !m->maps)
        return;
    for (uint32_t *pp = bucket(m, p); *pp; pp = &m->maps[*pp - 1].next) {
        struct dma_mapping *e = &m->maps[*pp - 1];
        if (e->p == p && e->len == len) {
            *pp = e->next;
            e->live = false;
            return;
        }
    }
}
