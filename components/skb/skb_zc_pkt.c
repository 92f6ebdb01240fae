/* skb_zc's packet memory (skb 2.3 pkt_alloc/pkt_free) and copy on write.
 *
 * pkt_alloc maps its pages twice (os page_alloc both, then page_remap):
 * the application's address and the stack's alias of the same pages.
 * Segments reference the alias. While a page has references the
 * application's mapping is read-only; the whole region is registered with
 * the os's copy-on-write hook once, at pkt_alloc. A write to a referenced
 * page faults into zc_cow_hook, which copies the page (read through the
 * alias) into the bounce page reserved when the page was protected, maps
 * that copy under the alias (so what the stack references keeps the bytes
 * as they were at send time) and makes the application's page writable
 * again. When the page's last reference goes, the alias shows the
 * application's page again and the bounce page is free. An unwritten page
 * stays read-only then (ZC_PG_RO): the first write lifts the protection in
 * the hook without a copy, so a buffer sent over and over is protected
 * once, not once per send (mprotect is a TLB shootdown on a multi-core
 * host).
 *
 * The hook runs in a signal handler on whatever thread wrote, possibly
 * while the stack works on the same page on another: the two meet only
 * through each page's atomic state (ZC_PG_LOCKED while one side moves it)
 * and take no lock of the stack's. Neither side writes application memory
 * while it holds a page LOCKED, so the hook cannot fault inside it. */
#include <errno.h>
#include <string.h>

#include "skb_zc.h"

static uint8_t *bounce_page(struct skb_zc *z, uint32_t b)
{
    return z->bounce_mem + (size_t)(b - 1) * z->psize;
}

/* zc's tables (regions, pages, bounce stack, descriptor spans) in one os
 * allocation: one call to make, one to give back, and the code for one
 * (issue 12.6 counts this component's bytes). Each part's size is a
 * multiple of the next one's alignment (8, 4, 4, 4). */
int zc_pkt_init(struct skb_zc *z)
{
    const struct lyra_os_ops *o = z->os.ops;
    size_t nreg = (size_t)z->pkt_regions * sizeof(*z->reg);
    size_t npg = (size_t)z->pkt_pages * sizeof(*z->pg);
    size_t nw = (size_t)z->cow_pages + 2u * (size_t)z->nsegs; /* uint32_t words */
    size_t n = nreg + npg + nw * sizeof(uint32_t) + 1; /* + 1: never 0 */
    uint8_t *m = o->mem_alloc(z->os.self, n, _Alignof(max_align_t));
    z->bounce_mem = z->cow_pages ? o->page_alloc(z->os.self, z->cow_pages) : NULL;
    z->tables = m;
    if (!m || (z->cow_pages && !z->bounce_mem))
        return -ENOMEM; /* start's stop gives back what was taken */
    memset(m, 0, n);
    z->reg = (struct zc_region *)(void *)m;
    z->pg = (struct zc_page *)(void *)(m + nreg);
    z->bounce_free = (uint32_t *)(void *)(m + nreg + npg);
    z->span = (struct zc_span *)(void *)(z->bounce_free + z->cow_pages);
    z->spans_live = 0;
    for (uint32_t i = 0; i < z->cow_pages; i++)
        z->bounce_free[i] = z->cow_pages - i; /* lowest on top */
    z->nbounce_free = z->cow_pages;
    z->ahead_seen = atomic_load_explicit(&z->cow_unprotects, memory_order_relaxed);
    z->ahead_quiet = SKB_ZC_AHEAD_QUIET;
    return 0;
}

static void region_release(struct skb_zc *z, struct zc_region *r)
{
    const struct lyra_os_ops *o = z->os.ops;
    o->cow_unregister(z->os.self, r->app, r->npages);
    o->page_free(z->os.self, r->app, r->npages);
    o->page_free(z->os.self, r->alias, r->npages);
    for (uint32_t i = 0; i < r->npages; i++)
        z->pg[r->first + i].used = 0;
    z->pg_in_use -= r->npages;
    z->reg_in_use--;
    r->used = 0;
    r->freed = 0;
    while (z->reg_hi && !z->reg[z->reg_hi - 1].used)
        z->reg_hi--;
}

void zc_pkt_fini(struct skb_zc *z)
{
    const struct lyra_os_ops *o = z->os.ops;
    while (z->reg_hi) /* the highest region in use (0 after a failed init) */
        region_release(z, &z->reg[z->reg_hi - 1]);
    if (z->bounce_mem)
        o->page_free(z->os.self, z->bounce_mem, z->cow_pages);
    if (z->tables)
        o->mem_free(z->os.self, z->tables);
    z->tables = NULL;
    z->bounce_mem = NULL;
    z->nbounce_free = 0;
}

/* The fault hook (os cow_register): see the top of this file. */
static int zc_cow_hook(void *ctx, void *page)
{
    struct zc_region *r = ctx;
    struct skb_zc *z = r->zc;
    uintptr_t a = (uintptr_t)page, lo = (uintptr_t)r->app;
    size_t k = (a - lo) / z->psize;
    if (a < lo || k >= r->npages)
        return -1;
    struct zc_page *pg = &z->pg[r->first + k];
    unsigned s;
    for (;;) {
        s = atomic_load_explicit(&pg->state, memory_order_acquire);
        if (s == ZC_PG_LOCKED)
            continue; /* the stack is moving it; it never waits for us */
        if (s == ZC_PG_BOUNCED)
            return 0; /* writable again meanwhile: the write runs again */
        if (atomic_compare_exchange_weak_explicit(&pg->state, &s, ZC_PG_LOCKED,
                                                  memory_order_acq_rel, memory_order_acquire))
            break;
    }
    /* PROT: the sent bytes are copied to the bounce page, which the alias
     * shows from then on; then (any state) the protection is lifted. Not
     * PROT: nothing references the page, nothing is copied */
    const struct lyra_os_ops *o = z->os.ops;
    unsigned to = ZC_PG_IDLE;
    uint8_t *alias = r->alias + k * z->psize;
    int e = 0;
    if (s == ZC_PG_PROT) {
        uint8_t *b = bounce_page(z, pg->bounce);
        memcpy(b, alias, z->psize);
        e = o->page_remap(z->os.self, alias, b, 1);
        to = ZC_PG_BOUNCED;
    }
    if (!e) {
        e = o->page_protect(z->os.self, page, 1, LYRA_PROT_READ | LYRA_PROT_WRITE);
        /* refused after the alias moved: PROT again means the alias shows
         * the application's page (unref gives the bounce page back) */
        if (e && s == ZC_PG_PROT)
            o->page_remap(z->os.self, alias, page, 1);
    }
    atomic_store_explicit(&pg->state, e ? s : to, memory_order_release);
    if (e)
        return -1; /* the os refused: the write faults for real */
    atomic_fetch_add_explicit(s == ZC_PG_PROT ? &z->cow_faults : &z->cow_unprotects, 1,
                              memory_order_relaxed);
    return 0;
}

void *zc_pkt_alloc(void *self, size_t size)
{
    struct skb_zc *z = self;
    const struct lyra_os_ops *o = z->os.ops;
    /* no tables: not started (no page size yet) or stopped */
    if (!z->tables || !size || size > SIZE_MAX - z->pkt_off - z->psize) {
        z->n[ZC_pkt_alloc_fail]++;
        return NULL;
    }
    size_t np = (z->pkt_off + size + z->psize - 1) / z->psize;
    size_t ri = 0; /* the first unused region */
    while (ri < z->pkt_regions && z->reg[ri].used)
        ri++;
    /* first fit over the page table */
    uint32_t first = 0, run = 0;
    for (uint32_t i = 0; i < z->pkt_pages && run < np; i++) {
        if (z->pg[i].used) {
            run = 0;
            first = i + 1;
        } else {
            run++;
        }
    }
    if (ri == z->pkt_regions || run < np) {
        z->n[ZC_pkt_alloc_fail]++;
        return NULL;
    }
    uint8_t *app = o->page_alloc(z->os.self, np), *alias = o->page_alloc(z->os.self, np);
    struct zc_region *r = &z->reg[ri];
    if (!app || !alias || o->page_remap(z->os.self, alias, app, np) ||
        o->cow_register(z->os.self, app, np, zc_cow_hook, r)) {
        if (app)
            o->page_free(z->os.self, app, np);
        if (alias)
            o->page_free(z->os.self, alias, np);
        z->n[ZC_pkt_alloc_fail]++;
        return NULL;
    }
    /* both mappings populated now, not by first-touch faults in the data
     * path: the remap filled the alias's page tables (os_posix maps with
     * MAP_POPULATE), a read of each page fills the application's */
    *r = (struct zc_region){.zc = z, .app = app, .alias = alias, .npages = (uint32_t)np,
                            .first = first, .used = 1};
    for (size_t k = 0; k < np; k++) {
        (void)*(volatile const uint8_t *)(app + k * z->psize);
        z->pg[first + k] = (struct zc_page){.region = (uint32_t)ri, .used = 1};
        atomic_init(&z->pg[first + k].state, ZC_PG_IDLE);
    }
    z->pg_in_use += (uint32_t)np;
    z->reg_in_use++;
    if (z->reg_hi <= ri)
        z->reg_hi = (uint32_t)ri + 1;
    return app + z->pkt_off;
}

int zc_pkt_free(void *self, void *p)
{
    struct skb_zc *z = self;
    long ri = zc_pkt_find(z, p, 1); /* regions do not overlap: the one p is in */
    struct zc_region *r = ri < 0 ? NULL : &z->reg[ri];
    if (!r || r->freed || r->app + z->pkt_off != p) {
        z->n[ZC_pkt_free_bad]++;
        return -EINVAL;
    }
    if (r->refs)
        r->freed = 1; /* sent and not yet released: kept until then */
    else
        region_release(z, r);
    return 0;
}

/* Every add_data and copy_out asks, most of them about memory that is not
 * packet memory: the scan stops at the highest region in use (none: at
 * once), not at pkt_regions (405 instructions a segment with 16). */
long zc_pkt_find(const struct skb_zc *z, const uint8_t *p, uint32_t len)
{
    uintptr_t a = (uintptr_t)p;
    for (uint32_t i = 0; i < z->reg_hi; i++) {
        const struct zc_region *r = &z->reg[i];
        uintptr_t lo = (uintptr_t)r->app, hi = lo + (uintptr_t)r->npages * z->psize;
        if (r->used && a >= lo && a < hi && len <= hi - a)
            return (long)i;
    }
    return -1;
}

/* Stack side: takes a page out of a stable state (spinning while the hook
 * has it LOCKED) and returns the state it had. */
unsigned zc_page_lock(struct zc_page *pg)
{
    for (;;) {
        unsigned s = atomic_load_explicit(&pg->state, memory_order_acquire);
        if (s != ZC_PG_LOCKED &&
            atomic_compare_exchange_weak_explicit(&pg->state, &s, ZC_PG_LOCKED,
                                                  memory_order_acq_rel, memory_order_acquire))
            return s;
    }
}

/* Brings the alias of unreferenced pages [k0, k1] of r (page entries pg)
 * back in line with the application's pages where a receive swapped them
 * (alias_stale): one page_remap per such page (a run at once would save
 * calls only where a program sends what it received in more than a page,
 * and costs code). 0, or -1 when the os refused one. */
static int alias_sync(struct skb_zc *z, struct zc_region *r, struct zc_page *pg, size_t k0,
                      size_t k1)
{
    const struct lyra_os_ops *o = z->os.ops;
    for (size_t k = k0; k <= k1; k++) {
        if (!pg[k].alias_stale || pg[k].refs)
            continue;
        if (o->page_remap(z->os.self, r->alias + k * z->psize, r->app + k * z->psize, 1))
            return -1;
        pg[k].alias_stale = 0;
    }
    return 0;
}

/* Protection ahead of a send (protect_ahead): when the send's last page
 * gets a protect call, the unreferenced writable pages right behind it (at
 * most protect_ahead, in the region) join that call and are left
 * read-only, unreferenced (ZC_PG_RO), as a sent page is after its release.
 * A program streaming through packet memory then pays one call per
 * protect_ahead pages, not one per page; a write to such a page before it
 * is sent costs one fault that lifts it (the hook), as a write to a page
 * sent earlier does. The default (256) makes runs of more than 33 pages,
 * Linux's TLB flush ceiling: it flushes a range of 33 pages or fewer page
 * by page, and 33 single-page flushes cost several times one whole flush
 * (33-page calls took 376 us here, 2,049-page ones 78 us: docs/buffers.md).
 * A program that writes pages after they were protected (ahead, or sent
 * and released) would pay a fault per page protected ahead, again and
 * again: any such write (cow_unprotects moved) stops protection ahead
 * until SKB_ZC_AHEAD_QUIET of these calls have gone by without one. Takes
 * them LOCKED; returns the last one. */
static size_t ahead_run(struct skb_zc *z, struct zc_region *r, struct zc_page *pg, size_t k1)
{
    unsigned u = atomic_load_explicit(&z->cow_unprotects, memory_order_relaxed);
    if (u != z->ahead_seen) {
        z->ahead_seen = u;
        z->ahead_quiet = 0;
    } else if (z->ahead_quiet < SKB_ZC_AHEAD_QUIET) {
        z->ahead_quiet++;
    }
    size_t n = z->ahead_quiet < SKB_ZC_AHEAD_QUIET ? 0 : z->protect_ahead;
    size_t e = k1, lim = r->npages - 1;
    if (lim - k1 > n)
        lim = k1 + n;
    /* only the stack moves a page out of IDLE: the check holds */
    while (e < lim && !pg[e + 1].refs &&
           atomic_load_explicit(&pg[e + 1].state, memory_order_acquire) == ZC_PG_IDLE)
        (void)zc_page_lock(&pg[++e]);
    return e;
}

int zc_pages_ref(struct skb_zc *z, long ri, const uint8_t *p, uint32_t len, struct zc_span *sp)
{
    struct zc_region *r = &z->reg[ri];
    if (r->freed)
        return SKB_XFER_tx_freed;
    struct zc_page *pg = &z->pg[r->first]; /* the region's pages */
    size_t k0 = (size_t)(p - r->app) / z->psize;
    size_t k1 = (size_t)(p + len - 1 - r->app) / z->psize;
    uint32_t at = r->first + (uint32_t)k0, had = sp->pg + sp->n;
    size_t ks = k0 + (had > at ? had - at : 0); /* the first page sp does not reference yet */
    uint32_t need = 0;
    for (size_t k = k0; k <= k1; k++) {
        unsigned s = atomic_load_explicit(&pg[k].state, memory_order_acquire);
        if (s == ZC_PG_BOUNCED || s == ZC_PG_LOCKED)
            return SKB_XFER_tx_cow_pending; /* the alias shows older bytes */
        need += k >= ks && pg[k].refs == 0;
    }
    if (need > z->nbounce_free)
        return SKB_XFER_tx_no_bounce;
    /* a page received by a swap: the alias must show it before it is
     * referenced; if the os refuses, copy (the alias shows older bytes) */
    if (need && alias_sync(z, r, pg, ks, k1))
        return SKB_XFER_tx_cow_pending;
    /* Newly referenced pages are taken LOCKED (the hook waits) and made
     * read-only one run at a time: one mprotect per run of consecutive
     * newly referenced pages that holds a writable one, not one per page.
     * A page already referenced is never inside a run (it may be BOUNCED
     * by now, writable, and must stay so). */
    for (size_t k = ks; k <= k1;) {
        if (pg[k].refs) {
            k++;
            continue;
        }
        size_t a = k, lo = SIZE_MAX, hi = 0; /* the run; the span of its writable pages */
        for (; k <= k1 && pg[k].refs == 0; k++) {
            pg[k].bounce = z->bounce_free[--z->nbounce_free];
            if (zc_page_lock(&pg[k]) != ZC_PG_RO) { /* read-only from an earlier send: no call */
                if (lo == SIZE_MAX)
                    lo = k;
                hi = k;
            }
        }
        size_t end = lo != SIZE_MAX && hi == k1 ? ahead_run(z, r, pg, k1) : hi;
        /* one mprotect for the run's writable pages and those ahead (RO
         * pages between them cost nothing extra) */
        if (lo != SIZE_MAX)
            z->os.ops->page_protect(z->os.self, r->app + lo * z->psize, end - lo + 1,
                                    LYRA_PROT_READ);
        for (size_t j = a; j < k; j++)
            atomic_store_explicit(&pg[j].state, ZC_PG_PROT, memory_order_release);
        for (size_t j = k1 + 1; j <= end; j++) /* protected ahead: unreferenced, read-only */
            atomic_store_explicit(&pg[j].state, ZC_PG_RO, memory_order_release);
    }
    for (size_t k = ks; k <= k1; k++) {
        pg[k].refs++;
        r->refs++;
    }
    if (!sp->n) {
        sp->pg = at;
        z->spans_live++; /* zc_release walks spans only while some are */
    }
    if (r->first + k1 + 1 > had)
        sp->n = r->first + (uint32_t)k1 + 1 - sp->pg;
    return 0;
}

void zc_pages_unref(struct skb_zc *z, const struct zc_span *sp)
{
    const struct lyra_os_ops *o = z->os.ops;
    /* a span's pages are in one region (add_data extends a segment only
     * with packet memory of the region it shows) */
    struct zc_region *r = &z->reg[z->pg[sp->pg].region];
    r->refs -= sp->n;
    for (uint32_t i = sp->pg; i < sp->pg + sp->n; i++) {
        struct zc_page *pg = &z->pg[i];
        if (--pg->refs)
            continue;
        size_t at = (size_t)(i - r->first) * z->psize;
        unsigned s = zc_page_lock(pg);
        unsigned to = ZC_PG_RO; /* PROT: left read-only until written (lazy) */
        if (s == ZC_PG_BOUNCED) { /* the alias shows the application's page again */
            o->page_remap(z->os.self, r->alias + at, r->app + at, 1);
            to = ZC_PG_IDLE; /* the hook made it writable */
        }
        z->bounce_free[z->nbounce_free++] = pg->bounce;
        pg->bounce = 0;
        atomic_store_explicit(&pg->state, to, memory_order_release);
    }
    if (r->freed && r->refs == 0)
        region_release(z, r);
}
