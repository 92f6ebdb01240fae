/* Toys for the RAM report (lyra_stack_ram): toy_memos, an os that only
 * hands out memory and says how much is out (os 2.5 mem_usage), and
 * toy_eater, whose start takes `bytes` of heap and `pages` pages from it
 * (and fails after that when `fail` is set). */
#include <stdlib.h>
#include <string.h>

#include "lyra/os.h"
#include "toy_components.h"

#define TOY_PAGE 4096u
#define TOY_BLKS 16

struct toy_memos {
    struct {
        void *p;
        size_t n; /* bytes asked, or pages * TOY_PAGE */
        int page;
    } blk[TOY_BLKS];
    uint64_t heap, pages;
};

static void *keep(struct toy_memos *m, void *p, size_t n, int page)
{
    for (unsigned i = 0; p && i < TOY_BLKS; i++)
        if (!m->blk[i].p) {
            m->blk[i].p = p;
            m->blk[i].n = n;
            m->blk[i].page = page;
            *(page ? &m->pages : &m->heap) += n;
            return p;
        }
    free(p);
    return NULL;
}

static void give(struct toy_memos *m, void *p)
{
    for (unsigned i = 0; p && i < TOY_BLKS; i++)
        if (m->blk[i].p == p) {
            *(m->blk[i].page ? &m->pages : &m->heap) -= m->blk[i].n;
            m->blk[i].p = NULL;
            free(p);
            return;
        }
}

static void *tm_mem_alloc(void *self, size_t size, size_t align)
{
    (void)align;
    return keep(self, malloc(size ? size : 1), size, 0);
}
static void tm_mem_free(void *self, void *p)
{
    give(self, p);
}
static size_t tm_page_size(void *self)
{
    (void)self;
    return TOY_PAGE;
}
static void *tm_page_alloc(void *self, size_t n)
{
    return keep(self, aligned_alloc(TOY_PAGE, n * TOY_PAGE), n * TOY_PAGE, 1);
}
static void tm_page_free(void *self, void *p, size_t n)
{
    (void)n;
    give(self, p);
}
static void tm_mem_usage(void *self, uint64_t *heap, uint64_t *pages)
{
    struct toy_memos *m = self;
    *heap = m->heap;
    *pages = m->pages;
}

static const struct lyra_os_ops memos_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_OS_IFACE, LYRA_OS_MAJOR, LYRA_OS_MINOR, struct lyra_os_ops),
    .mem_alloc = tm_mem_alloc,
    .mem_free = tm_mem_free,
    .page_size = tm_page_size,
    .page_alloc = tm_page_alloc,
    .page_free = tm_page_free,
    .mem_usage = tm_mem_usage,
};
static const struct lyra_provide memos_prov[] = {
    {LYRA_OS_IFACE, LYRA_OS_MAJOR, LYRA_OS_MINOR, &memos_ops, NULL, 0, "memory only"}};

const struct lyra_component toy_memos = {
    LYRA_COMPONENT_HDR, .name = "toy_memos", .version = "1.0", .summary = "toy os: memory",
    .provides = memos_prov, .n_provides = 1, .instance_size = sizeof(struct toy_memos),
    .flags = LYRA_COMP_F_HOST};

struct toy_eater {
    struct lyra_os os;
    int64_t bytes, pages, fail;
    void *heap, *pg;
};

static int eater_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct toy_eater *e = self;
    (void)d;
    e->bytes = p[0].u.i;
    e->pages = p[1].u.i;
    e->fail = p[2].u.i;
    return 0;
}
static int eater_bind(void *self, unsigned idx, const void *ops, void *prov)
{
    struct toy_eater *e = self;
    (void)idx;
    e->os.ops = ops;
    e->os.self = prov;
    return 0;
}
static void eater_stop(void *self)
{
    struct toy_eater *e = self;
    if (e->heap)
        e->os.ops->mem_free(e->os.self, e->heap);
    if (e->pg)
        e->os.ops->page_free(e->os.self, e->pg, (size_t)e->pages);
    e->heap = e->pg = NULL;
}
static int eater_start(void *self)
{
    struct toy_eater *e = self;
    if (e->bytes)
        e->heap = e->os.ops->mem_alloc(e->os.self, (size_t)e->bytes, 8);
    if (e->pages)
        e->pg = e->os.ops->page_alloc(e->os.self, (size_t)e->pages);
    if (e->fail) {
        eater_stop(e); /* a failing start gives back what it took */
        return -1;
    }
    return 0;
}

static const struct lyra_param eater_params[] = {
    {"bytes", LYRA_P_INT, "0", 0, 1000000, "heap taken at start"},
    {"pages", LYRA_P_INT, "0", 0, 16, "pages taken at start"},
    {"fail", LYRA_P_INT, "0", 0, 1, "start fails (after taking them)"},
};
static const struct lyra_slot eater_slots[] = {
    {"os", LYRA_OS_IFACE, LYRA_OS_MAJOR, 0, 1, 1, NULL, eater_bind, "memory", 0, 0}};

const struct lyra_component toy_eater = {
    LYRA_COMPONENT_HDR, .name = "toy_eater", .version = "1.0", .summary = "toy: takes memory",
    .slots = eater_slots, .n_slots = 1, .params = eater_params,
    .n_params = LYRA_COUNT(eater_params), .instance_size = sizeof(struct toy_eater),
    .create = eater_create, .start = eater_start, .stop = eater_stop};
