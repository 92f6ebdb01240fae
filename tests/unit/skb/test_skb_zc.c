/* Unit tests of skb_zc, the zero-copy buffer manager, over os_posix's real
 * pages (memfd mappings, mprotect, the SIGSEGV copy-on-write registry):
 * what is referenced and what is copied, the counters, page references and
 * their protection, copy on write, the remapped receive, every fallback
 * reason and bad pointers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lt.h"
#include "lyra/inet_csum.h"
#include "lyra/os.h"
#include "lyra/skb.h"
#include "os_posix.h"

extern const struct lyra_component lyra_component_skb_zc;

struct env {
    struct lt_inst *os, *skb;
    const struct lyra_os_ops *oo;
    const struct lyra_skb_ops *ops;
    void *self;
    size_t ps;
    uint32_t off; /* pkt_alloc's in-page offset */
};

/* os_posix with page_remap failing at its fail_at-th call from now (0:
 * never), to reach skb_zc's way back from a remap the os refused. Tests
 * run one at a time in a process of their own: plain statics are fine. */
static const struct lyra_os_ops *real_os;
static struct lyra_os_ops flaky_os;
static int remap_calls, remap_fail_at;
static int protect_ro_calls; /* page_protect(.., LYRA_PROT_READ): calls making pages read-only */
static size_t protect_ro_pages; /* the pages those calls covered */
static size_t protect_ro_last; /* the pages the last such call covered */
static int swap_calls, swap_fail; /* page_swap calls; swap_fail: refuse them */

static int protect_rw_fail; /* refuse read-write protection changes */
static int counting_protect(void *self, void *p, size_t n, int prot)
{
    if (protect_rw_fail && prot == (LYRA_PROT_READ | LYRA_PROT_WRITE))
        return -ENOMEM;
    protect_ro_calls += prot == LYRA_PROT_READ;
    protect_ro_pages += prot == LYRA_PROT_READ ? n : 0;
    protect_ro_last = prot == LYRA_PROT_READ ? n : protect_ro_last;
    return real_os->page_protect(self, p, n, prot);
}

static int mem_check_calls;
static int counting_mem_check(void *self, const void *p, size_t len)
{
    mem_check_calls++;
    return real_os->mem_check(self, p, len);
}

/* swap_fail 1: refused before anything moved; 2: refused after a's pages
 * were put back read-write, as os_posix's way back from a failed second
 * mmap leaves them (os.h allows it) */
static int flaky_swap(void *self, void *a, void *b, size_t n)
{
    swap_calls++;
    if (swap_fail == 2)
        real_os->page_protect(self, a, n, LYRA_PROT_READ | LYRA_PROT_WRITE);
    if (swap_fail)
        return -ENOMEM;
    return real_os->page_swap(self, a, b, n);
}

static int page_alloc_calls, page_alloc_fail_at; /* fail the fail_at-th call (0: never) */
static long pages_out; /* given by page_alloc, not yet back */
static void *flaky_page_alloc(void *self, size_t n)
{
    if (++page_alloc_calls == page_alloc_fail_at)
        return NULL;
    void *p = real_os->page_alloc(self, n);
    pages_out += p ? (long)n : 0;
    return p;
}

static void counting_page_free(void *self, void *p, size_t n)
{
    pages_out -= p ? (long)n : 0;
    real_os->page_free(self, p, n);
}

static int flaky_remap(void *self, void *dst, void *src, size_t n)
{
    if (remap_fail_at && ++remap_calls == remap_fail_at)
        return -ENOMEM;
    return real_os->page_remap(self, dst, src, n);
}

/* The last copy-on-write hook registered, for a test to call by hand. */
static lyra_cow_fn cow_fn;
static void *cow_ctx;
static int capturing_cow_register(void *self, void *p, size_t npages, lyra_cow_fn fn, void *ctx)
{
    cow_fn = fn;
    cow_ctx = ctx;
    return real_os->cow_register(self, p, npages, fn, ctx);
}

/* Binds skb to flaky_os over os (every counter and failure reset). */
static void bind_flaky(struct lt_inst *skb, struct lt_inst *os)
{
    real_os = lt_ops(os, LYRA_OS_IFACE);
    flaky_os = *real_os;
    flaky_os.page_remap = flaky_remap;
    flaky_os.page_protect = counting_protect;
    flaky_os.page_swap = flaky_swap;
    flaky_os.mem_check = counting_mem_check;
    flaky_os.page_alloc = flaky_page_alloc;
    flaky_os.page_free = counting_page_free;
    flaky_os.cow_register = capturing_cow_register;
    protect_rw_fail = 0;
    cow_fn = NULL;
    page_alloc_calls = page_alloc_fail_at = 0;
    pages_out = 0;
    mem_check_calls = 0;
    swap_calls = swap_fail = 0;
    cr_assert_eq(lt_bind_raw(skb, "os", &flaky_os, os->self), 0);
}

static struct env env_new_os(const char *const *params, int flaky)
{
    struct env e;
    e.os = lt_create(&lyra_component_os_posix, NULL);
    cr_assert_eq(lt_start(e.os), 0);
    e.oo = lt_ops(e.os, LYRA_OS_IFACE);
    e.skb = lt_create(&lyra_component_skb_zc, params);
    if (flaky) {
        bind_flaky(e.skb, e.os);
    } else {
        cr_assert_eq(lt_bind(e.skb, "os", e.os), 0);
    }
    cr_assert_eq(lt_start(e.skb), 0);
    e.ops = lt_ops(e.skb, LYRA_SKB_IFACE);
    e.self = e.skb->self;
    e.ps = e.oo->page_size(e.os->self);
    e.off = 2 + 14 + 20 + 32; /* rx_headroom 2 by default */
    return e;
}

static struct env env_new(const char *const *params)
{
    return env_new_os(params, 0);
}

static void env_done(struct env *e)
{
    cr_assert_eq(lt_stat(e->skb, "in_use"), 0, "transmit buffers leaked");
    cr_assert_eq(lt_stat(e->skb, "segs_in_use"), 0, "descriptors leaked");
    lt_stop(e->skb);
    lt_destroy(e->skb);
    lt_stop(e->os);
    lt_destroy(e->os);
}

static uint64_t st(struct env *e, const char *n)
{
    uint64_t v = lt_stat(e->skb, n);
    cr_assert_neq(v, UINT64_MAX, "no counter %s", n);
    return v;
}

static struct lyra_skb *tx(struct env *e)
{
    struct lyra_skb *s = e->ops->alloc(e->self, 64, 0);
    cr_assert_not_null(s);
    return s;
}

static int add(struct env *e, struct lyra_skb *s, const void *p, uint32_t len, uint32_t fl,
               uint32_t *copied)
{
    return e->ops->add_data(e->self, s, p, len, fl | LYRA_SEG_F_USER, copied);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

/* The frame's bytes equal want[0..n). */
static void frame_is(const struct lyra_skb *s, const uint8_t *want, uint32_t n)
{
    cr_assert_eq(lyra_skb_total(s), n);
    uint8_t *got = malloc(n);
    cr_assert_eq(lyra_skb_flatten(s, got, n), n);
    cr_assert_arr_eq(got, want, n);
    free(got);
}

static void *pkt(struct env *e, size_t n)
{
    void *p = e->ops->pkt_alloc(e->self, n);
    cr_assert_not_null(p);
    return p;
}

/* ---- what is referenced, what is copied ---- */

Test(skb_zc, plain_memory_is_copied_and_counted)
{
    struct env e = env_new(NULL);
    uint8_t buf[1000];
    fill(buf, sizeof(buf), 1);
    struct lyra_skb *s = tx(&e);
    uint32_t copied = 0;
    cr_assert_eq(add(&e, s, buf, sizeof(buf), 0, &copied), 1000);
    cr_assert_eq(copied, 1000, "copied %u", copied);
    memset(buf, 0, sizeof(buf)); /* copied: the frame does not follow */
    uint8_t want[1000];
    fill(want, sizeof(want), 1);
    frame_is(s, want, 1000);
    cr_assert_eq(st(&e, "tx_copied_bytes"), 1000);
    cr_assert_eq(st(&e, "tx_referenced_bytes"), 0);
    cr_assert_eq(st(&e, "fallback_tx_plain_memory"), 1);
    lyra_skb_free(s);
    env_done(&e);
}

/* Packet memory is found (referenced) in whichever region slot it got,
 * whatever order regions were given back in: the search bound follows the
 * highest region in use down and up again. */
Test(skb_zc, every_region_is_found_whatever_order_they_are_freed_in)
{
    struct env e = env_new(NULL);
    uint8_t *r[4];
    for (int i = 0; i < 4; i++)
        r[i] = pkt(&e, 1000);
    cr_assert_eq(e.ops->pkt_free(e.self, r[3]), 0);
    cr_assert_eq(e.ops->pkt_free(e.self, r[1]), 0);
    uint8_t *again = pkt(&e, 1000); /* takes a free slot below the top */
    uint8_t *sent[] = {r[0], r[2], again};
    for (int i = 0; i < 3; i++) {
        fill(sent[i], 500, (uint8_t)(10 + i));
        struct lyra_skb *s = tx(&e);
        uint32_t copied = 99;
        cr_assert_eq(add(&e, s, sent[i], 500, 0, &copied), 500);
        cr_assert_eq(copied, 0, "region %d referenced", i);
        frame_is(s, sent[i], 500);
        lyra_skb_free(s);
    }
    /* the top slot freed, then two taken: the bound goes up past it again */
    cr_assert_eq(e.ops->pkt_free(e.self, r[2]), 0);
    uint8_t *x = pkt(&e, 1000), *y = pkt(&e, 1000); /* slots 2 and 3 */
    fill(y, 500, 20);
    struct lyra_skb *t = tx(&e);
    uint32_t ycopied = 99;
    cr_assert_eq(add(&e, t, y, 500, 0, &ycopied), 500);
    cr_assert_eq(ycopied, 0, "the region in the highest slot referenced");
    frame_is(t, y, 500);
    lyra_skb_free(t);
    cr_assert_eq(e.ops->pkt_free(e.self, x), 0);
    cr_assert_eq(e.ops->pkt_free(e.self, y), 0);
    cr_assert_eq(e.ops->pkt_free(e.self, again), 0);
    cr_assert_eq(e.ops->pkt_free(e.self, r[0]), 0);
    cr_assert_eq(st(&e, "pkt_regions_in_use"), 0);
    /* none left: what was packet memory is plain memory now, copied */
    uint8_t buf[500];
    fill(buf, sizeof(buf), 9);
    struct lyra_skb *s = tx(&e);
    uint32_t copied = 0;
    cr_assert_eq(add(&e, s, buf, sizeof(buf), 0, &copied), 500);
    cr_assert_eq(copied, 500);
    lyra_skb_free(s);
    cr_assert_eq(st(&e, "tx_referenced_bytes"), 2000);
    env_done(&e);
}

/* Pages the os will not give at start: start fails with -ENOMEM, gives
 * back what it took (no page, no memory left over: the sanitizer build
 * checks the rest), and a later start with pages works. */
Test(skb_zc, a_start_without_pages_fails_cleanly_and_can_be_retried)
{
    for (int at = 1; at <= 2; at++) { /* the receive pages, the bounce pages */
        struct lt_inst *os = lt_create(&lyra_component_os_posix, NULL);
        cr_assert_eq(lt_start(os), 0);
        struct lt_inst *skb = lt_create(&lyra_component_skb_zc, NULL);
        bind_flaky(skb, os);
        page_alloc_fail_at = at;
        cr_assert_eq(lt_start(skb), -ENOMEM, "page_alloc call %d refused", at);
        cr_assert_eq(page_alloc_calls, at, "the os was asked %d times", page_alloc_calls);
        cr_assert_eq(pages_out, 0, "%ld pages left over", pages_out);
        page_alloc_fail_at = 0;
        cr_assert_eq(lt_start(skb), 0, "a second start");
        const struct lyra_skb_ops *ops = lt_ops(skb, LYRA_SKB_IFACE);
        void *p = ops->pkt_alloc(skb->self, 1000);
        cr_assert_not_null(p);
        cr_assert_eq(ops->pkt_free(skb->self, p), 0);
        lt_stop(skb);
        cr_assert_eq(pages_out, 0, "%ld pages left over at stop", pages_out);
        lt_destroy(skb);
        lt_stop(os);
        lt_destroy(os);
    }
}

/* Packet memory before start and after stop: refused and counted (it
 * divided by a page size of 0 before start, and read the freed tables
 * after stop). lyra_pkt_alloc reaches it on a stack created, not started. */
Test(skb_zc, no_packet_memory_before_start_or_after_stop)
{
    struct lt_inst *os = lt_create(&lyra_component_os_posix, NULL);
    cr_assert_eq(lt_start(os), 0);
    struct lt_inst *skb = lt_create(&lyra_component_skb_zc, NULL);
    cr_assert_eq(lt_bind(skb, "os", os), 0);
    const struct lyra_skb_ops *ops = lt_ops(skb, LYRA_SKB_IFACE);
    int foreign;
    cr_assert_null(ops->pkt_alloc(skb->self, 1000), "before start");
    cr_assert_eq(ops->pkt_free(skb->self, &foreign), -EINVAL);
    cr_assert_eq(lt_start(skb), 0);
    void *p = ops->pkt_alloc(skb->self, 1000);
    cr_assert_not_null(p);
    lt_stop(skb);
    cr_assert_null(ops->pkt_alloc(skb->self, 1000), "after stop");
    cr_assert_eq(ops->pkt_free(skb->self, p), -EINVAL, "stop gave it back already");
    cr_assert_eq(lt_stat(skb, "pkt_alloc_fail"), 2);
    cr_assert_eq(lt_stat(skb, "pkt_free_bad"), 2);
    lt_destroy(skb);
    lt_stop(os);
    lt_destroy(os);
}

Test(skb_zc, pkt_memory_is_referenced_through_the_alias)
{
    struct env e = env_new(NULL);
    uint8_t *p = pkt(&e, 3 * e.ps);
    cr_assert_eq((uintptr_t)p % e.ps, e.off, "the payload offset of a received TCP segment");
    fill(p, 3000, 3);
    struct lyra_skb *s = tx(&e);
    uint32_t copied = 99;
    cr_assert_eq(add(&e, s, p, 3000, 0, &copied), 3000);
    cr_assert_eq(copied, 0);
    cr_assert_eq(s->nseg, 1, "one segment, however many pages");
    cr_assert_neq(s->seg->ptr, p, "the stack's alias, not the application's address");
    cr_assert(s->seg->flags & LYRA_SEG_F_USER);
    frame_is(s, p, 3000);
    cr_assert_eq(st(&e, "tx_referenced_bytes"), 3000);
    cr_assert_eq(st(&e, "tx_copied_bytes"), 0);
    cr_assert_eq(st(&e, "cow_pages_free"), 64 - 1, "3000 bytes from offset 68: one page");
    lyra_skb_free(s);
    cr_assert_eq(st(&e, "cow_pages_free"), 64);
    cr_assert_eq(e.ops->pkt_free(e.self, p), 0);
    cr_assert_eq(st(&e, "pkt_pages_in_use"), 0);
    env_done(&e);
}

Test(skb_zc, vouched_memory_is_referenced_as_it_is)
{
    struct env e = env_new(NULL);
    uint8_t buf[600];
    fill(buf, sizeof(buf), 5);
    struct lyra_skb *s = tx(&e);
    uint32_t copied = 99;
    cr_assert_eq(add(&e, s, buf, sizeof(buf), LYRA_SEG_F_REF, &copied), 600);
    cr_assert_eq(copied, 0);
    cr_assert_eq(s->seg->ptr, buf);
    buf[10] ^= 0xff; /* no protection: the caller vouched */
    frame_is(s, buf, 600);
    lyra_skb_free(s);
    env_done(&e);
}

Test(skb_zc, contiguous_pieces_extend_one_segment)
{
    struct env e = env_new(NULL);
    uint8_t *p = pkt(&e, 2 * e.ps);
    fill(p, 2 * e.ps, 9);
    struct lyra_skb *s = tx(&e);
    cr_assert_eq(add(&e, s, p, 1000, 0, NULL), 1000);
    cr_assert_eq(add(&e, s, p + 1000, (uint32_t)e.ps, 0, NULL), (int)e.ps);
    cr_assert_eq(s->nseg, 1);
    frame_is(s, p, 1000 + (uint32_t)e.ps);
    cr_assert_eq(st(&e, "cow_pages_free"), 62, "two pages, each referenced once");
    lyra_skb_free(s);
    cr_assert_eq(st(&e, "cow_pages_free"), 64);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

Test(skb_zc, two_references_then_follow_data)
{
    struct env e = env_new(NULL);
    uint8_t *p = pkt(&e, 4 * e.ps);
    fill(p, 4 * e.ps, 11);
    uint8_t want[700];
    memcpy(want, p, 200);
    memcpy(want + 200, p + 1000, 200);
    memcpy(want + 400, p + 2000, 200);
    memcpy(want + 600, p + 3000, 100);
    struct lyra_skb *s = tx(&e);
    uint32_t c[4];
    cr_assert_eq(add(&e, s, p, 200, 0, &c[0]), 200);
    cr_assert_eq(add(&e, s, p + 1000, 200, 0, &c[1]), 200);
    cr_assert_eq(add(&e, s, p + 2000, 200, 0, &c[2]), 200);
    cr_assert_eq(add(&e, s, p + 3000, 100, 0, &c[3]), 100);
    cr_assert_eq(c[0] + c[1], 0);
    cr_assert_eq(c[2], 200, "a third piece is copied");
    cr_assert_eq(c[3], 100);
    cr_assert_eq(s->nseg, 3, "dataseg[0], dataseg[1], one follow_data buffer");
    cr_assert_not_null(s->seg_last->ref, "follow_data is a pool buffer");
    frame_is(s, want, 700);
    cr_assert_eq(st(&e, "tx_referenced_bytes"), 400);
    cr_assert_eq(st(&e, "tx_copied_bytes"), 300);
    cr_assert_eq(st(&e, "fallback_tx_segs_full"), 1);
    cr_assert_eq(st(&e, "fallback_tx_small"), 1, "100 < ref_min");
    lyra_skb_free(s);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

Test(skb_zc, referenced_bytes_are_summed_without_a_copy)
{
    struct env e = env_new(NULL);
    uint8_t *p = pkt(&e, 2 * e.ps);
    fill(p, 2 * e.ps, 13);
    struct lyra_skb *s = tx(&e);
    cr_assert_eq(add(&e, s, p, 301, LYRA_SEG_F_CSUM, NULL), 301);
    cr_assert_eq(add(&e, s, p + 301, 1000, LYRA_SEG_F_CSUM, NULL), 1000);
    cr_assert(s->seg->flags & LYRA_SEG_F_CSUM);
    cr_assert_eq(s->seg->csum, lyra_csum_fold(lyra_csum_add(p, 1301, 0)),
                 "an odd first piece, extended");
    lyra_skb_free(s);
    s = tx(&e);
    cr_assert_eq(add(&e, s, p, 300, 0, NULL), 300);
    cr_assert_eq(s->seg->flags & LYRA_SEG_F_CSUM, 0, "not asked: no sum");
    lyra_skb_free(s);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

/* ---- copy on write ---- */

/* A send of p's 2000 bytes now carries v in each (what the application
 * wrote last), not older bytes. */
static void sends_bytes_of(struct env *e, const uint8_t *p, uint8_t v)
{
    struct lyra_skb *s = tx(e);
    cr_assert_eq(add(e, s, p, 2000, 0, NULL), 2000);
    uint8_t now[2000];
    memset(now, v, sizeof(now));
    frame_is(s, now, 2000);
    lyra_skb_free(s);
}

Test(skb_zc, cow_keeps_the_bytes_of_send_time)
{
    struct env e = env_new(NULL);
    uint8_t *p = pkt(&e, 2000);
    fill(p, 2000, 17);
    uint8_t want[2000];
    memcpy(want, p, 2000);
    struct lyra_skb *s = tx(&e);
    cr_assert_eq(add(&e, s, p, 2000, 0, NULL), 2000);
    memset(p, 0xAA, 2000); /* right after the send */
    cr_assert_eq(p[1999], 0xAA, "the application writes its own page");
    cr_assert_eq(st(&e, "cow_faults"), 1);
    frame_is(s, want, 2000);
    lyra_skb_free(s);
    /* the alias shows the application's page again; not protected any more */
    sends_bytes_of(&e, p, 0xAA);
    p[0] = 1;
    cr_assert_eq(st(&e, "cow_faults"), 1, "no reference: no fault");
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

/* The hook copied a referenced page and moved the alias to the copy, then
 * the os refused to make the application's page writable: the write
 * faults for real, and the page must be as before, referenced with the
 * alias showing the application's page. Were the alias left on the bounce
 * page, the page's release would give that page back while the alias
 * still showed it, and a later send from the page would send the bytes of
 * the first send instead of the application's new ones. */
Test(skb_zc, a_hook_refused_write_access_leaves_the_alias_on_the_page)
{
    struct env e = env_new_os(NULL, 1);
    uint8_t *p = pkt(&e, 2000);
    memset(p, 1, 2000);
    cr_assert_not_null(cow_fn, "pkt_alloc registered its hook");
    struct lyra_skb *s = tx(&e);
    cr_assert_eq(add(&e, s, p, 2000, 0, NULL), 2000);
    protect_rw_fail = 1; /* the hook, as a write to p would call it */
    cr_assert_eq(cow_fn(cow_ctx, p - e.off), -1, "refused: the write faults for real");
    protect_rw_fail = 0;
    cr_assert_eq(st(&e, "cow_faults"), 0);
    lyra_skb_free(s);
    memset(p, 2, 2000); /* read-only until written: the hook lifts it */
    sends_bytes_of(&e, p, 2);
    cr_assert_eq(st(&e, "cow_pages_free"), 64);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

Test(skb_zc, vouched_memory_is_not_protected)
{
    /* negative control of the COW test: the same packet memory, vouched
     * for, is referenced unprotected and the overwrite reaches the frame */
    struct env e = env_new(NULL);
    uint8_t *p = pkt(&e, 2000);
    fill(p, 2000, 17);
    struct lyra_skb *s = tx(&e);
    cr_assert_eq(add(&e, s, p, 2000, LYRA_SEG_F_REF, NULL), 2000);
    memset(p, 0xAA, 2000);
    cr_assert_eq(st(&e, "cow_faults"), 0);
    frame_is(s, p, 2000);
    cr_assert_eq(((const uint8_t *)s->seg->ptr)[5], 0xAA);
    lyra_skb_free(s);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

static int done_calls;
static void on_done(void *ctx, struct lyra_skb *s)
{
    (void)s;
    (void)ctx;
    done_calls++;
}

Test(skb_zc, clone_keeps_the_pages_until_the_last_free)
{
    struct env e = env_new(NULL);
    uint8_t *p = pkt(&e, 1000);
    fill(p, 1000, 19);
    uint8_t want[1000];
    memcpy(want, p, 1000);
    struct lyra_skb *s = tx(&e);
    cr_assert_eq(add(&e, s, p, 1000, 0, NULL), 1000);
    done_calls = 0;
    lyra_skb_set_done(s, on_done, NULL);
    struct lyra_skb *c = e.ops->clone(e.self, s, 64);
    cr_assert_not_null(c);
    lyra_skb_free(s);
    cr_assert_eq(done_calls, 0);
    cr_assert_eq(st(&e, "cow_pages_free"), 63, "the clone still references the page");
    p[3] = 0; /* still protected: copied on write */
    cr_assert_eq(st(&e, "cow_faults"), 1);
    frame_is(c, want, 1000);
    lyra_skb_free(c);
    cr_assert_eq(done_calls, 1);
    cr_assert_eq(st(&e, "cow_pages_free"), 64);
    p[4] = 0;
    cr_assert_eq(st(&e, "cow_faults"), 1);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

/* skb 2.8 clone_add_range over a referenced write (tcp's send queue
 * holds a write as one skb): the part shown is one descriptor into the
 * stack's alias, and the pages stay referenced, protected and copied on
 * write, until the last of skb and part is freed. */
Test(skb_zc, a_range_of_a_referenced_write_holds_its_pages)
{
    struct env e = env_new(NULL);
    uint32_t n = 3u * (uint32_t)e.ps;
    uint8_t *p = pkt(&e, n);
    fill(p, n, 23);
    static uint8_t want[1000];
    memcpy(want, p + e.ps + 10, sizeof(want));
    struct lyra_skb *s = tx(&e);
    cr_assert_eq(add(&e, s, p, n, 0, NULL), (int)n);
    cr_assert_eq(st(&e, "cow_pages_free"), 60, "four pages (from pkt_alloc's in-page offset)");
    done_calls = 0;
    lyra_skb_set_done(s, on_done, NULL);
    struct lyra_skb *c = lyra_skb_clone_range(e.ops, e.self, s, 64, (uint32_t)e.ps + 10, 1000);
    cr_assert_not_null(c);
    cr_assert_eq(c->nseg, 1, "one descriptor, for the one referenced piece");
    cr_assert_eq(st(&e, "clone_ranges"), 1);
    cr_assert_eq(st(&e, "clones"), 0, "no clone call");
    cr_assert_geq(lyra_skb_headroom(c), 64, "room for the headers asked for");
    frame_is(c, want, sizeof(want));
    lyra_skb_free(s);
    cr_assert_eq(done_calls, 0, "the part holds the skb");
    cr_assert_eq(st(&e, "cow_pages_free"), 60);
    p[e.ps + 20] = 0; /* still protected: copied on write */
    cr_assert_eq(st(&e, "cow_faults"), 1);
    frame_is(c, want, sizeof(want));
    lyra_skb_free(c);
    cr_assert_eq(done_calls, 1);
    cr_assert_eq(st(&e, "cow_pages_free"), 64);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

Test(skb_zc, pkt_free_while_referenced_keeps_the_pages)
{
    struct env e = env_new(NULL);
    uint8_t *p = pkt(&e, 1000);
    fill(p, 1000, 23);
    uint8_t want[1000];
    memcpy(want, p, 1000);
    struct lyra_skb *s = tx(&e);
    cr_assert_eq(add(&e, s, p, 1000, 0, NULL), 1000);
    cr_assert_eq(e.ops->pkt_free(e.self, p), 0);
    cr_assert_eq(e.ops->pkt_free(e.self, p), -EINVAL, "freed once");
    cr_assert_eq(st(&e, "pkt_pages_in_use"), 1);
    /* a send from memory given back is copied */
    struct lyra_skb *t = tx(&e);
    cr_assert_eq(add(&e, t, p, 500, 0, NULL), 500);
    cr_assert_eq(st(&e, "fallback_tx_freed"), 1);
    lyra_skb_free(t);
    frame_is(s, want, 1000);
    lyra_skb_free(s);
    cr_assert_eq(st(&e, "pkt_pages_in_use"), 0, "released with the last reference");
    cr_assert_eq(e.ops->pkt_free(e.self, (uint8_t *)want), -EINVAL);
    env_done(&e);
}

Test(skb_zc, cow_fault_storm_stays_correct)
{
    struct env e = env_new(NULL);
    enum { PAGES = 8, ROUNDS = 40 };
    size_t n = PAGES * e.ps - e.off;
    uint8_t *p = pkt(&e, n);
    uint8_t *snap = malloc(n);
    for (int r = 0; r < ROUNDS; r++) {
        fill(p, n, (uint8_t)r);
        memcpy(snap, p, n);
        struct lyra_skb *s[PAGES];
        size_t each = n / PAGES;
        for (int i = 0; i < PAGES; i++) {
            s[i] = tx(&e);
            cr_assert_eq(add(&e, s[i], p + i * each, (uint32_t)each, 0, NULL), (int)each);
        }
        memset(p, 0x5A ^ r, n); /* rewrite every page sent */
        for (int i = 0; i < PAGES; i++) {
            frame_is(s[i], snap + i * each, (uint32_t)each);
            lyra_skb_free(s[i]);
        }
    }
    cr_assert_eq(st(&e, "tx_copied_bytes"), 0);
    cr_assert_eq(st(&e, "cow_faults"), (uint64_t)ROUNDS * PAGES);
    cr_assert_eq(st(&e, "cow_pages_free"), 64);
    free(snap);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

struct writer {
    volatile uint8_t *p;
    size_t n;
    volatile int stop;
};

static void *write_loop(void *arg)
{
    struct writer *w = arg;
    while (!w->stop)
        for (size_t i = 0; i < w->n; i += 512)
            w->p[i]++;
    return NULL;
}

Test(skb_zc, cow_against_a_writing_thread)
{
    /* the application writes all the time while the stack references,
     * checks and releases pages: every frame keeps its send-time bytes */
    struct env e = env_new(NULL);
    size_t n = 4 * e.ps - e.off;
    uint8_t *p = pkt(&e, n);
    uint8_t *snap = malloc(n);
    struct writer w = {.p = p, .n = n};
    pthread_t th;
    pthread_create(&th, NULL, write_loop, &w);
    for (int r = 0; r < 300; r++) {
        struct lyra_skb *s = tx(&e);
        int k = add(&e, s, p, (uint32_t)n, 0, NULL);
        cr_assert_eq(k, (int)n);
        if (s->nseg == 1) {
            /* referenced: a copy now, while protected, is the frame's */
            memcpy(snap, s->seg->ptr, n);
            for (volatile int spin = 0; spin < 2000; spin++)
                ;
            frame_is(s, snap, (uint32_t)n);
        }
        lyra_skb_free(s);
    }
    w.stop = 1;
    pthread_join(th, NULL);
    cr_assert_eq(st(&e, "cow_pages_free"), 64);
    free(snap);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

/* ---- fallbacks of the send side ---- */

Test(skb_zc, no_bounce_page_means_a_copy)
{
    const char *params[] = {"cow_pages=1", NULL};
    struct env e = env_new(params);
    uint8_t *p = pkt(&e, 2 * e.ps);
    fill(p, 2 * e.ps, 29);
    struct lyra_skb *s = tx(&e);
    uint32_t copied = 0;
    cr_assert_eq(add(&e, s, p, (uint32_t)e.ps, 0, &copied), (int)e.ps, "two pages, one bounce");
    cr_assert_eq(copied, e.ps);
    cr_assert_eq(st(&e, "fallback_tx_no_bounce"), 1);
    frame_is(s, p, (uint32_t)e.ps);
    lyra_skb_free(s);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

Test(skb_zc, a_page_written_since_a_send_is_copied)
{
    struct env e = env_new(NULL);
    uint8_t *p = pkt(&e, 2000);
    fill(p, 2000, 31);
    struct lyra_skb *s = tx(&e);
    cr_assert_eq(add(&e, s, p, 1000, 0, NULL), 1000);
    p[1500] = 7; /* copy on write: the alias shows the old page now */
    struct lyra_skb *t = tx(&e);
    uint32_t copied = 0;
    cr_assert_eq(add(&e, t, p + 1000, 1000, 0, &copied), 1000);
    cr_assert_eq(copied, 1000, "copied %u", copied);
    cr_assert_eq(st(&e, "fallback_tx_cow_pending"), 1);
    frame_is(t, p + 1000, 1000);
    lyra_skb_free(s);
    lyra_skb_free(t);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

Test(skb_zc, bad_pointers_give_efault)
{
    struct env e = env_new(NULL);
    struct lyra_skb *s = tx(&e);
    cr_assert_eq(add(&e, s, NULL, 10, 0, NULL), -EFAULT);
    cr_assert_eq(add(&e, s, NULL, 10, LYRA_SEG_F_REF, NULL), -EFAULT);
    cr_assert_eq(add(&e, s, (void *)(UINTPTR_MAX - 4), 10, LYRA_SEG_F_REF, NULL), -EFAULT,
                 "a range that wraps");
    cr_assert_eq(add(&e, s, NULL, 0, 0, NULL), 0);
    /* unmapped memory sent by reference: refused now, not read later */
    uint8_t *m = mmap(NULL, 3 * e.ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(m, MAP_FAILED);
    munmap(m + e.ps, e.ps);
    cr_assert_eq(add(&e, s, m + 10, (uint32_t)e.ps, LYRA_SEG_F_REF, NULL), -EFAULT,
                 "the second page is not mapped");
    cr_assert_eq(add(&e, s, m + e.ps + 10, 100, LYRA_SEG_F_REF, NULL), -EFAULT);
    mprotect(m + 2 * e.ps, e.ps, PROT_NONE);
    cr_assert_eq(add(&e, s, m + 2 * e.ps, 100, LYRA_SEG_F_REF, NULL), -EFAULT, "not readable");
    uint32_t copied = 9;
    cr_assert_eq(add(&e, s, m + 100, 300, LYRA_SEG_F_REF, &copied), 300, "mapped: referenced");
    cr_assert_eq(copied, 0);
    cr_assert_eq(lyra_skb_total(s), 300, "nothing taken of the bad ones");
    cr_assert_eq(st(&e, "add_data_efault"), 6);
    lyra_skb_free(s);
    munmap(m, e.ps);
    munmap(m + 2 * e.ps, e.ps);
    env_done(&e);
}

/* skb 2.4: LYRA_SEG_F_CHECKED (the caller checked the call's range through
 * the os) spares the per-piece check; NULL and wrapping ranges are still
 * refused. Without it every LYRA_SEG_F_REF piece is checked. */
Test(skb_zc, checked_ranges_are_not_checked_again)
{
    struct env e = env_new_os(NULL, 1);
    struct lyra_skb *s = tx(&e);
    static uint8_t buf[3000];
    uint32_t copied = 9;
    cr_assert_eq(add(&e, s, buf, 1000, LYRA_SEG_F_REF, &copied), 1000);
    cr_expect_eq(mem_check_calls, 1, "unchecked: the provider checks");
    cr_assert_eq(add(&e, s, buf + 1000, 1000, LYRA_SEG_F_REF | LYRA_SEG_F_CHECKED, &copied),
                 1000);
    cr_expect_eq(copied, 0, "referenced");
    cr_expect_eq(mem_check_calls, 1, "checked by the caller: no second check");
    cr_expect_eq(add(&e, s, NULL, 10, LYRA_SEG_F_REF | LYRA_SEG_F_CHECKED, NULL), -EFAULT);
    cr_expect_eq(add(&e, s, (void *)(UINTPTR_MAX - 4), 10, LYRA_SEG_F_REF | LYRA_SEG_F_CHECKED,
                     NULL),
                 -EFAULT);
    lyra_skb_free(s);
    env_done(&e);
}

Test(skb_zc, unmapped_memory_is_not_referenced_by_the_plain_path)
{
    /* negative control: without LYRA_SEG_F_REF nothing is checked nor
     * referenced; mapped plain memory is copied as always */
    struct env e = env_new(NULL);
    struct lyra_skb *s = tx(&e);
    uint8_t buf[300];
    memset(buf, 4, sizeof(buf));
    uint32_t copied = 0;
    cr_assert_eq(add(&e, s, buf, 300, 0, &copied), 300);
    cr_assert_eq(copied, 300);
    cr_assert_eq(st(&e, "add_data_efault"), 0);
    lyra_skb_free(s);
    env_done(&e);
}

/* ---- receive ---- */

/* A received TCP segment of n payload bytes (filled from seed) whose
 * payload starts where pkt memory's does in its page. */
static struct lyra_skb *rx_seg(struct env *e, uint32_t n, uint8_t seed)
{
    struct lyra_skb *s = e->ops->alloc_rx(e->self, 1522);
    cr_assert_not_null(s);
    uint8_t *f = lyra_skb_put(s, 66 + n);
    memset(f, 0xEE, 66);
    fill(f + 66, n, seed);
    lyra_skb_pull(s, 66);
    return s;
}

Test(skb_zc, whole_payload_into_pkt_memory_is_remapped)
{
    struct env e = env_new(NULL);
    uint8_t *p = pkt(&e, 2 * e.ps);
    uint8_t *dst = p + e.ps - e.off + e.off; /* page 1, at the payload offset */
    dst = p + e.ps;
    memset(p, 0x11, 2 * e.ps - e.off);
    struct lyra_skb *s = rx_seg(&e, 1448, 37);
    uint8_t want[1448];
    fill(want, 1448, 37);
    cr_assert_eq(e.ops->move_out(e.self, s, 0, dst, 1448), 1448, "a remap returns what it moved");
    cr_assert_arr_eq(dst, want, 1448);
    cr_assert_eq(st(&e, "rx_remapped_bytes"), 1448);
    cr_assert_eq(st(&e, "rx_copied_bytes"), 0);
    for (uint32_t i = 0; i < e.off; i++)
        cr_assert_eq(dst[-1 - (int)i], 0x11, "the application's bytes in front stay");
    /* the receive buffer no longer shares the application's page */
    uint8_t was = s->data[0];
    dst[0] ^= 0xFF;
    cr_assert_eq(s->data[0], was);
    s->data[1] ^= 0xFF;
    cr_assert_eq(dst[1], want[1]);
    lyra_skb_free(s);
    /* and a send from it references the received bytes (the alias follows) */
    struct lyra_skb *t = tx(&e);
    cr_assert_eq(add(&e, t, dst + 1, 1447, 0, NULL), 1447);
    frame_is(t, want + 1, 1447);
    lyra_skb_free(t);
    e.ops->pkt_free(e.self, p);
    cr_assert_eq(st(&e, "rx_in_use"), 0);
    env_done(&e);
}

/* copy_out copies even where move_out would remap (skb 2.7): a stream read
 * of more than one segment, of which one piece happens to sit at its
 * in-page offset, must not pay a page swap for that piece; the copy into
 * packet memory is counted as rx_read_size. Negative control: move_out on
 * the same skb and destination remaps. */
Test(skb_zc, copy_out_into_pkt_memory_copies)
{
    struct env e = env_new(NULL);
    uint8_t *p = pkt(&e, 2 * e.ps);
    uint8_t *dst = p + e.ps; /* page 1, at the payload offset */
    struct lyra_skb *s = rx_seg(&e, 1448, 43);
    uint8_t want[1448];
    fill(want, 1448, 43);
    uint8_t *head = s->head;
    cr_assert_eq(e.ops->copy_out(e.self, s, 0, dst, 1448), 0, "copied, not remapped");
    cr_assert_arr_eq(dst, want, 1448);
    cr_assert_eq(s->head, head);
    cr_assert_arr_eq(s->data, want, 1448, "the skb keeps its bytes");
    cr_assert_eq(st(&e, "rx_remapped_bytes"), 0);
    cr_assert_eq(st(&e, "rx_copied_bytes"), 1448);
    cr_assert_eq(st(&e, "fallback_rx_read_size"), 1);
    uint8_t plain[1448];
    cr_assert_eq(e.ops->copy_out(e.self, s, 0, plain, 1448), 0);
    cr_assert_eq(st(&e, "fallback_rx_not_pkt_memory"), 1, "plain memory is not a read size");
    memset(dst, 0, 1448);
    cr_assert_eq(e.ops->move_out(e.self, s, 0, dst, 1448), 1448, "move_out remaps it");
    cr_assert_arr_eq(dst, want, 1448);
    cr_assert_eq(st(&e, "rx_remapped_bytes"), 1448);
    lyra_skb_free(s);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

static void rx_fallback(struct env *e, struct lyra_skb *s, uint32_t off, uint8_t *dst,
                        uint32_t len, const char *reason)
{
    uint64_t before = st(e, reason);
    uint8_t want[1448];
    lyra_skb_flatten(s, want, sizeof(want));
    cr_assert_eq(e->ops->move_out(e->self, s, off, dst, len), 0);
    cr_assert_arr_eq(dst, want + off, len);
    cr_assert_eq(st(e, reason), before + 1, "%s", reason);
}

Test(skb_zc, every_receive_fallback_copies)
{
    struct env e = env_new(NULL);
    uint8_t *p = pkt(&e, 3 * e.ps);
    uint8_t plain[1448];
    struct lyra_skb *s = rx_seg(&e, 1448, 41);
    rx_fallback(&e, s, 0, plain, 1448, "fallback_rx_not_pkt_memory");
    rx_fallback(&e, s, 0, p + 1, 1448, "fallback_rx_offset");
    rx_fallback(&e, s, 0, p, 1000, "fallback_rx_partial");
    lyra_skb_ref(s);
    rx_fallback(&e, s, 0, p, 1448, "fallback_rx_shared");
    lyra_skb_free(s);
    struct lyra_skb *t = tx(&e);
    uint8_t *tp = lyra_skb_put(t, 100);
    memset(tp, 3, 100);
    rx_fallback(&e, t, 0, p, 100, "fallback_rx_not_page");
    lyra_skb_free(t);
    /* the page is referenced by a send */
    t = tx(&e);
    cr_assert_eq(add(&e, t, p + e.ps, 500, 0, NULL), 500);
    rx_fallback(&e, s, 0, p + e.ps, 1448, "fallback_rx_page_busy");
    lyra_skb_free(t);
    cr_assert_eq(st(&e, "rx_remapped_bytes"), 0);
    cr_assert_eq(st(&e, "rx_copied_bytes"), 4 * 1448 + 1000 + 100);
    lyra_skb_free(s);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

Test(skb_zc, counters_have_the_shared_names)
{
    struct env e = env_new(NULL);
    const char *names[] = {"tx_copied_bytes", "tx_referenced_bytes", "rx_copied_bytes",
                           "rx_remapped_bytes", "cow_faults", "fallback_tx_plain_memory",
                           "fallback_tx_small", "fallback_tx_segs_full", "fallback_tx_no_bounce",
                           "fallback_tx_freed", "fallback_tx_cow_pending",
                           "fallback_rx_not_pkt_memory", "fallback_rx_offset",
                           "fallback_rx_partial", "fallback_rx_read_size", "fallback_rx_shared",
                           "fallback_rx_not_page", "fallback_rx_page_busy",
                           "fallback_rx_remap_failed"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        cr_assert_eq(lt_stat(e.skb, names[i]), 0, "%s", names[i]);
    env_done(&e);
}

struct stat_names {
    const char *name[64];
    unsigned n;
};

static void collect_name(struct lyra_stats_sink *sink, const char *name, uint64_t v)
{
    struct stat_names *c = sink->ctx;
    (void)v;
    if (c->n < 64)
        c->name[c->n] = name;
    c->n++;
}

/* Every counter skb_zc reports, by name, once: its own 31 (the packed name
 * string must hold exactly as many names as there are values) and the 19
 * every provider shares (skb_xfer.h). */
Test(skb_zc, reports_each_counter_once)
{
    struct env e = env_new(NULL);
    struct stat_names c = {.n = 0};
    struct lyra_stats_sink sink = {collect_name, &c};
    lyra_component_skb_zc.stats(e.self, &sink);
    cr_assert_eq(c.n, 31 + 19, "%u counters", c.n);
    for (unsigned i = 0; i < c.n; i++) {
        cr_assert(c.name[i] && c.name[i][0], "counter %u has a name", i);
        for (unsigned j = 0; j < i; j++)
            cr_assert_str_neq(c.name[i], c.name[j], "counter %s reported twice", c.name[i]);
    }
    cr_expect_str_eq(c.name[30], "cow_unprotects", "the last of skb_zc's own");
    env_done(&e);
}

/* skb_zc's own counters are reported from one table of names and one of
 * values: each name must carry its own value. Parameters and states chosen
 * so that neighbouring counters differ. */
Test(skb_zc, own_counters_report_their_own_values)
{
    const char *params[] = {"count=40", "segs=70", "cow_pages=9", "big_count=2", NULL};
    struct env e = env_new(params);
    uint8_t *p = pkt(&e, 3 * e.ps - e.off); /* three pages, one region */
    struct lyra_skb *s = tx(&e);
    cr_assert_eq(add(&e, s, p, 1000, 0, NULL), 1000); /* one page referenced */
    struct lyra_skb *s2 = tx(&e);
    cr_assert_eq(e.ops->add_data(e.self, s2, NULL, 10, 0, NULL), -EFAULT);
    struct {
        const char *name;
        uint64_t v;
    } want[] = {{"count", 40},        {"segs", 70},          {"in_use", 2},
                {"alloc", 2},          {"segs_in_use", 1},    {"big_in_use", 0},
                {"pkt_pages_in_use", 3}, {"pkt_regions_in_use", 1}, {"cow_pages_free", 8},
                {"add_data_efault", 1}, {"add_data_short", 0}, {"free", 0}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        uint64_t v = st(&e, want[i].name);
        cr_expect_eq(v, want[i].v, "%s: %llu, want %llu", want[i].name, (unsigned long long)v,
                     (unsigned long long)want[i].v);
    }
    lyra_skb_free(s);
    lyra_skb_free(s2);
    cr_expect_eq(st(&e, "free"), 2);
    cr_expect_eq(st(&e, "cow_pages_free"), 9);
    e.ops->pkt_free(e.self, p);
    cr_expect_eq(st(&e, "pkt_pages_in_use"), 0);
    env_done(&e);
}

/* An os without page_swap (before 2.3) cannot remap a receive: the
 * payload is copied and counted, no page is touched (no page_remap), the
 * receive buffer is not the application's page and the alias still shows
 * the application's page. */
Test(skb_zc, an_os_without_page_swap_gets_copies)
{
    struct env e = env_new_os(NULL, 1);
    flaky_os.page_swap = NULL;
    uint8_t *p = pkt(&e, e.ps);
    memset(p, 0x22, e.ps - e.off);
    struct lyra_skb *s = rx_seg(&e, 1448, 43);
    uint8_t want[1448];
    fill(want, 1448, 43);
    remap_calls = 0;
    remap_fail_at = 1000; /* counts, never fails */
    cr_assert_eq(e.ops->move_out(e.self, s, 0, p, 1448), 0);
    remap_fail_at = 0;
    cr_expect_eq(remap_calls, 0, "no page_remap");
    cr_assert_arr_eq(p, want, 1448);
    cr_assert_eq(st(&e, "fallback_rx_remap_failed"), 1);
    cr_assert_eq(st(&e, "rx_remapped_bytes"), 0);
    cr_assert_eq(st(&e, "rx_copied_bytes"), 1448);
    cr_assert_eq(st(&e, "rx_fixup_bytes"), 0);
    uint8_t was = s->data[0];
    p[0] ^= 0xFF; /* the receive buffer is not the application's page */
    cr_assert_eq(s->data[0], was);
    struct lyra_skb *t = tx(&e);
    cr_assert_eq(add(&e, t, p, 1000, 0, NULL), 1000);
    frame_is(t, p, 1000);
    lyra_skb_free(t);
    lyra_skb_free(s);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

/* With page_swap (os 2.3) a remapping receive is one swap, no page_remap;
 * the alias is left stale and brought back in line by the next send from
 * the page, which references the received bytes, not the old ones. A
 * refused swap leaves every page as it was and copies. */
Test(skb_zc, a_receive_swaps_once_and_a_send_after_it_sees_the_received_bytes)
{
    struct env e = env_new_os(NULL, 1);
    uint8_t *p = pkt(&e, e.ps);
    memset(p, 0x22, e.ps - e.off);
    struct lyra_skb *s = rx_seg(&e, 1448, 47);
    uint8_t want[1448];
    fill(want, 1448, 47);
    remap_calls = 0;
    remap_fail_at = 1000; /* counts, never fails */
    cr_assert_eq(e.ops->move_out(e.self, s, 0, p, 1448), 1448);
    cr_expect_eq(swap_calls, 1);
    cr_expect_eq(remap_calls, 0, "no page_remap on the receive");
    cr_assert_arr_eq(p, want, 1448);
    uint8_t was = s->data[0];
    p[0] ^= 0xFF; /* the receive buffer is not the application's page */
    cr_assert_eq(s->data[0], was);
    p[0] ^= 0xFF;
    lyra_skb_free(s);
    /* a send from it: the stale alias is brought in line first (one remap) */
    struct lyra_skb *t = tx(&e);
    uint32_t copied = 1;
    cr_assert_eq(add(&e, t, p, 1448, 0, &copied), 1448);
    cr_expect_eq(copied, 0, "referenced");
    cr_expect_eq(remap_calls, 1, "the alias synced once");
    frame_is(t, want, 1448);
    lyra_skb_free(t);
    /* again: in line now, no remap */
    t = tx(&e);
    cr_assert_eq(add(&e, t, p, 1448, 0, NULL), 1448);
    cr_expect_eq(remap_calls, 1);
    frame_is(t, want, 1448);
    lyra_skb_free(t);
    remap_fail_at = 0;
    /* a refused swap: copied, every page as it was */
    s = rx_seg(&e, 1448, 53);
    fill(want, 1448, 53);
    swap_fail = 1;
    cr_assert_eq(e.ops->move_out(e.self, s, 0, p, 1448), 0);
    swap_fail = 0;
    cr_assert_arr_eq(p, want, 1448);
    cr_assert_eq(st(&e, "fallback_rx_remap_failed"), 1);
    was = s->data[0];
    p[0] ^= 0xFF;
    cr_assert_eq(s->data[0], was);
    p[0] ^= 0xFF;
    lyra_skb_free(s);
    t = tx(&e);
    cr_assert_eq(add(&e, t, p, 1448, 0, NULL), 1448);
    frame_is(t, want, 1448);
    lyra_skb_free(t);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

/* A swap refused after the os put the application's page back read-write
 * (os_posix's way back from a failed second mmap): the page was read-only
 * from an earlier send, and the next send must protect it again, so a
 * write after that send cannot reach the bytes in flight. */
Test(skb_zc, a_swap_refused_half_way_leaves_the_next_send_protected)
{
    struct env e = env_new_os(NULL, 1);
    uint8_t *p = pkt(&e, e.ps);
    fill(p, 1448, 5);
    struct lyra_skb *t = tx(&e);
    cr_assert_eq(add(&e, t, p, 1448, 0, NULL), 1448);
    lyra_skb_free(t); /* unreferenced, still read-only */
    struct lyra_skb *s = rx_seg(&e, 1448, 59);
    uint8_t want[1448];
    fill(want, 1448, 59);
    swap_fail = 2;
    cr_assert_eq(e.ops->move_out(e.self, s, 0, p, 1448), 0, "copied");
    swap_fail = 0;
    lyra_skb_free(s);
    cr_assert_arr_eq(p, want, 1448);
    cr_assert_eq(st(&e, "fallback_rx_remap_failed"), 1);
    protect_ro_calls = 0;
    t = tx(&e);
    uint32_t copied = 1;
    cr_assert_eq(add(&e, t, p, 1448, 0, &copied), 1448);
    cr_assert_eq(copied, 0, "referenced");
    cr_expect_eq(protect_ro_calls, 1, "protected again");
    p[0] ^= 0xFF; /* after the send: must not reach the frame */
    p[1447] ^= 0xFF;
    frame_is(t, want, 1448);
    lyra_skb_free(t);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

/* A send that references several pages protects them with one call per
 * run, not one per page; pages read-only from an earlier send inside the
 * run cost nothing more, and a page another skb references splits the run
 * (it may have been written and bounced since, and must stay writable). */
Test(skb_zc, a_send_protects_its_pages_in_one_call)
{
    const char *params[] = {"cow_pages=16", NULL};
    struct env e = env_new_os(params, 1);
    size_t n = 6 * e.ps - e.off;
    uint8_t *p = pkt(&e, n);
    fill(p, (uint32_t)n, 9);
    protect_ro_calls = 0;
    protect_ro_pages = 0;
    struct lyra_skb *s = tx(&e);
    cr_assert_eq(add(&e, s, p, (uint32_t)n, 0, NULL), (int)n);
    cr_expect_eq(protect_ro_calls, 1, "6 pages, %d calls", protect_ro_calls);
    cr_expect_eq(protect_ro_pages, 6);
    frame_is(s, p, (uint32_t)n);
    lyra_skb_free(s); /* the pages stay read-only (lazy) */
    /* write page 2 (lifts it), reference page 4 from another skb */
    p[2 * e.ps] ^= 1;
    struct lyra_skb *u = tx(&e);
    cr_assert_eq(add(&e, u, p + 4 * e.ps, 200, 0, NULL), 200);
    protect_ro_calls = 0;
    protect_ro_pages = 0;
    s = tx(&e);
    cr_assert_eq(add(&e, s, p, (uint32_t)n, 0, NULL), (int)n);
    /* runs 0-3 (page 2 writable: one call over it) and 5 (read-only: none) */
    cr_expect_eq(protect_ro_calls, 1, "%d calls", protect_ro_calls);
    cr_expect_eq(protect_ro_pages, 1, "only the written page's span: %zu", protect_ro_pages);
    frame_is(s, p, (uint32_t)n);
    uint8_t *sent = malloc(n);
    memcpy(sent, p, n);
    p[2 * e.ps + 1] ^= 1; /* referenced and read-only again: copied on write */
    cr_expect_eq(st(&e, "cow_faults"), 1);
    frame_is(s, sent, (uint32_t)n);
    free(sent);
    lyra_skb_free(s);
    lyra_skb_free(u);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

/* Sends page k of packet memory p (from p itself for page 0, which starts
 * at the in-page offset) by reference, checks the frame, frees the skb. */
static void send_page(struct env *e, const uint8_t *p, size_t k)
{
    const uint8_t *at = k ? p + k * e->ps - e->off : p;
    uint32_t len = (uint32_t)(k ? e->ps : e->ps - e->off);
    struct lyra_skb *s = tx(e);
    cr_assert_eq(add(e, s, at, len, 0, NULL), (int)len, "page %zu referenced", k);
    frame_is(s, at, len);
    lyra_skb_free(s);
}

/* protect_ahead: the send whose last page needs a protect call takes the
 * unsent writable pages behind it (up to protect_ahead, inside the region)
 * into the same call, read-only and unreferenced; the sends that reach
 * them need no call. A write to one before it is sent lifts it (no copy)
 * and the send carries the written bytes; that write also stops
 * protection ahead (for SKB_ZC_AHEAD_QUIET protect calls), so the later
 * sends protect their own page only. With 0, one call per send. */
Test(skb_zc, a_send_protects_the_pages_behind_it_ahead)
{
    for (int ahead = 0; ahead <= 3; ahead += 3) {
        char pa[32];
        snprintf(pa, sizeof pa, "protect_ahead=%d", ahead);
        const char *params[] = {"cow_pages=16", pa, NULL};
        struct env e = env_new_os(params, 1);
        size_t n = 6 * e.ps - e.off; /* pages 0-5, the last of the region */
        uint8_t *p = pkt(&e, n);
        fill(p, (uint32_t)n, 11);
        protect_ro_calls = 0;
        protect_ro_pages = 0;
        size_t pages = 0;
        for (int k = 0; k < 6; k++) {
            if (k == 2) /* written before its send: the one fault lifts it */
                p[2 * e.ps] ^= 0x40;
            send_page(&e, p, (size_t)k);
            pages = protect_ro_pages;
        }
        /* ahead 3: pages 0-3 in the first call, then 2 again after its
         * write, 4 and 5 each alone (the write stopped protection ahead);
         * ahead 0: a call per page */
        cr_expect_eq(protect_ro_calls, ahead ? 4 : 6, "ahead %d: %d calls", ahead,
                     protect_ro_calls);
        cr_expect_eq(pages, ahead ? 7u : 6u, "ahead %d: %zu pages", ahead, pages);
        cr_expect_eq(st(&e, "cow_unprotects"), ahead ? 1u : 0u, "ahead %d", ahead);
        cr_expect_eq(st(&e, "cow_faults"), 0, "nothing referenced was written");
        e.ops->pkt_free(e.self, p);
        env_done(&e);
    }
}

/* With the default protect_ahead, a send streaming through packet memory
 * it does not write pays protect calls of more than 33 pages each (but the
 * one that ends at the region's end): Linux flushes the TLB page by page
 * for 33 pages or fewer, which cost 376 us a call here against 78 us for
 * a whole flush (docs/buffers.md). 32 ahead made calls of exactly 33. */
Test(skb_zc, default_protect_calls_pass_the_tlb_flush_ceiling)
{
    const char *params[] = {"pkt_pages=1024", NULL};
    struct env e = env_new_os(params, 1);
    size_t pages = 600;
    uint8_t *p = pkt(&e, pages * e.ps - e.off);
    fill(p, (uint32_t)(pages * e.ps - e.off), 5);
    protect_ro_calls = 0;
    protect_ro_pages = 0;
    for (size_t k = 0; k < pages; k++) {
        int calls = protect_ro_calls;
        size_t before = protect_ro_pages;
        send_page(&e, p, k);
        /* every call but one that ends at the region's end (short) */
        if (protect_ro_calls != calls && before + protect_ro_last < pages)
            cr_expect_gt(protect_ro_last, 33u, "page %zu: a protect call of %zu pages", k,
                         protect_ro_last);
    }
    cr_assert_eq(protect_ro_pages, pages, "every page protected once");
    cr_expect_gt(protect_ro_calls, 1, "the region is larger than one call's run");
    cr_expect_eq(st(&e, "cow_unprotects") + st(&e, "cow_faults"), 0, "nothing written");
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

/* A program that writes pages after they were protected ahead would take
 * a fault per page protected ahead at every send: one page sent each
 * round, rewritten, and 300 pages behind it written after the send. The
 * first round pays for the pages protected ahead (protect_ahead, 256);
 * the writes stop protection ahead, and each later round costs the one
 * fault of the rewritten send page (with protection ahead every round:
 * 257 faults a round). */
Test(skb_zc, writes_behind_a_send_stop_protection_ahead)
{
    const char *params[] = {"pkt_pages=1024", NULL};
    struct env e = env_new_os(params, 1);
    size_t pages = 400;
    uint8_t *p = pkt(&e, pages * e.ps - e.off);
    uint32_t len = (uint32_t)(e.ps - e.off); /* page 0 */
    int rounds = 100;
    for (int k = 0; k < rounds; k++) {
        memset(p, k, len);
        send_page(&e, p, 0);
        for (size_t g = 1; g <= 300; g++)
            p[g * e.ps - e.off] = (uint8_t)k;
    }
    uint64_t lifted = st(&e, "cow_unprotects");
    cr_expect_leq(lifted, 256u + 2u * (uint64_t)rounds, "%llu faults in %d rounds",
                  (unsigned long long)lifted, rounds);
    cr_expect_eq(st(&e, "cow_faults"), 0, "nothing referenced was written");
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}

/* Protection is lifted lazily: a page sent again and again without being
 * written is made read-only once (no mprotect per send); the first write
 * after its last reference lifts it without copying anything (no bounce:
 * cow_unprotects, not cow_faults); the next send protects it again; a
 * receive remaps into a page still read-only from a send and leaves it
 * writable. */
Test(skb_zc, sent_pages_stay_read_only_until_written)
{
    struct env e = env_new_os(NULL, 1);
    uint8_t *p = pkt(&e, 1000);
    fill(p, 1000, 3);
    protect_ro_calls = 0;
    for (int round = 0; round < 3; round++) {
        struct lyra_skb *s = tx(&e);
        uint32_t copied = 1;
        cr_assert_eq(add(&e, s, p, 1000, 0, &copied), 1000);
        cr_assert_eq(copied, 0, "referenced");
        lyra_skb_free(s);
    }
    cr_expect_eq(protect_ro_calls, 1, "one page sent three times, protected %d times",
                 protect_ro_calls);
    cr_expect_eq(st(&e, "cow_faults") + st(&e, "cow_unprotects"), 0, "nothing written yet");
    p[5] = 0x5A; /* faults once: nothing references it, nothing is copied */
    cr_expect_eq(p[5], 0x5A);
    cr_expect_eq(st(&e, "cow_unprotects"), 1);
    cr_expect_eq(st(&e, "cow_faults"), 0, "no bounce copy without a reference");
    p[6] = 0x5B; /* writable now: no second fault */
    cr_expect_eq(st(&e, "cow_unprotects"), 1);
    struct lyra_skb *s = tx(&e);
    cr_assert_eq(add(&e, s, p, 1000, 0, NULL), 1000);
    cr_expect_eq(protect_ro_calls, 2, "written since: protected again");
    lyra_skb_free(s);
    /* the page is read-only again and unreferenced: a remapping receive
     * into packet memory on it works and leaves it writable */
    uint8_t *q = pkt(&e, e.ps);
    s = tx(&e);
    cr_assert_eq(add(&e, s, q, 1448, 0, NULL), 1448);
    lyra_skb_free(s);
    struct lyra_skb *r = rx_seg(&e, 1448, 41);
    uint8_t want[1448];
    fill(want, 1448, 41);
    cr_assert_eq(e.ops->move_out(e.self, r, 0, q, 1448), 1448, "remapped");
    lyra_skb_free(r);
    cr_assert_arr_eq(q, want, 1448);
    uint64_t before = st(&e, "cow_unprotects");
    q[0] ^= 1; /* writable without a fault */
    cr_expect_eq(st(&e, "cow_unprotects"), before);
    e.ops->pkt_free(e.self, q);
    e.ops->pkt_free(e.self, p);
    env_done(&e);
}
