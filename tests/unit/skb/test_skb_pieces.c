/* lyra/skb_pieces.h: the pieces a gathering driver hands to DMA, split at
 * every page boundary for page_contig NICs. On hand-built skbs (the helper
 * reads only the skb fields), with small pages to cross many boundaries;
 * and the bounce of a frame with more pieces than a NIC gathers, over
 * skb_copy. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fake_os.h"
#include "lt.h"
#include "lyra/skb_pieces.h"

extern const struct lyra_component lyra_component_skb_copy;

static _Alignas(4096) uint8_t mem[8192];

static struct lyra_skb mk(uint8_t *data, uint32_t len)
{
    struct lyra_skb s;
    memset(&s, 0, sizeof(s));
    s.head = data;
    s.data = data;
    s.len = len;
    return s;
}

/* The pieces, put back together, are the frame; none crosses a page. */
static void check_cover(const struct lyra_skb *s, const struct lyra_skb_piece *pc, int n,
                        size_t page)
{
    uint8_t want[8192], got[8192];
    uint32_t w = lyra_skb_flatten(s, want, sizeof(want)), g = 0;
    for (int i = 0; i < n; i++) {
        cr_assert_gt(pc[i].len, 0, "piece %d is empty", i);
        if (page) {
            uintptr_t a = (uintptr_t)pc[i].p, b = a + pc[i].len - 1;
            cr_assert_eq(a / page, b / page, "piece %d crosses a page", i);
        }
        memcpy(got + g, pc[i].p, pc[i].len);
        g += pc[i].len;
    }
    cr_assert_eq(g, w);
    cr_assert_arr_eq(got, want, w);
}

Test(skb_pieces, unsplit_without_page)
{
    for (unsigned i = 0; i < sizeof(mem); i++)
        mem[i] = (uint8_t)(i * 5 + 1);
    struct lyra_skb s = mk(mem + 10, 20);
    struct lyra_skb_seg g[3] = {{.ptr = mem + 100, .len = 300},
                                {.ptr = mem + 500, .len = 0}, /* empty: left out */
                                {.ptr = mem + 4000, .len = 200}};
    for (int i = 0; i < 3; i++)
        lyra_skb_seg_append(&s, &g[i]);
    cr_assert_eq(s.nseg, 3);
    cr_assert_eq(s.seg_len, 500);
    struct lyra_skb_piece pc[8];
    int n = lyra_skb_pieces(&s, 0, pc, 8);
    cr_assert_eq(n, 3);
    cr_assert_eq(pc[0].p, mem + 10);
    cr_assert_eq(pc[2].len, 200);
    check_cover(&s, pc, n, 0);
}

Test(skb_pieces, split_at_every_boundary)
{
    for (unsigned i = 0; i < sizeof(mem); i++)
        mem[i] = (uint8_t)(i * 7 + 3);
    /* linear part across one 64-byte page, a segment across four */
    struct lyra_skb s = mk(mem + 60, 10);
    struct lyra_skb_seg g = {.ptr = mem + 4096 - 100, .len = 300};
    lyra_skb_seg_append(&s, &g);
    struct lyra_skb_piece pc[16];
    int n = lyra_skb_pieces(&s, 64, pc, 16);
    /* 60..64 | 64..70 ; 3996..4032 | 4032..4096 | ... | 4288..4296 */
    cr_assert_eq(n, 2 + 6, "got %d", n);
    cr_assert_eq(pc[0].len, 4);
    cr_assert_eq(pc[1].len, 6);
    cr_assert_eq(pc[2].len, 36);
    cr_assert_eq(pc[7].len, 8);
    check_cover(&s, pc, n, 64);
    /* with 4 KiB pages: the segment in two, the linear part whole */
    n = lyra_skb_pieces(&s, 4096, pc, 16);
    cr_assert_eq(n, 3);
    cr_assert_eq(pc[1].len, 100);
    cr_assert_eq(pc[2].len, 200);
    check_cover(&s, pc, n, 4096);
    cr_assert_leq((unsigned)n, lyra_skb_pieces_max(310, 2, 4096));
    cr_assert_leq(8u, lyra_skb_pieces_max(310, 2, 64));
}

Test(skb_pieces, too_many_and_bad_input_refused)
{
    struct lyra_skb s = mk(mem, 10);
    struct lyra_skb_seg g = {.ptr = mem + 4096 - 8, .len = 16};
    lyra_skb_seg_append(&s, &g);
    struct lyra_skb_piece pc[3];
    cr_assert_eq(lyra_skb_pieces(&s, 4096, pc, 3), 3);
    cr_assert_eq(lyra_skb_pieces(&s, 4096, pc, 2), -ENOSPC);
    cr_assert_eq(lyra_skb_pieces(&s, 0, pc, 1), -ENOSPC);
    cr_assert_eq(lyra_skb_pieces(&s, 3000, pc, 3), -EINVAL, "not a power of two");
    g.ptr = NULL;
    cr_assert_eq(lyra_skb_pieces(&s, 4096, pc, 3), -EINVAL, "a segment without memory");
    struct lyra_skb e = mk(NULL, 0);
    cr_assert_eq(lyra_skb_pieces(&e, 4096, pc, 3), 0, "nothing to send: no pieces");
}

/* skb 2.0: any number of segments; the walk sees every one in order. */
Test(skb_pieces, hundreds_of_segments)
{
    for (unsigned i = 0; i < sizeof(mem); i++)
        mem[i] = (uint8_t)(i * 11 + 5);
    struct lyra_skb s = mk(mem, 14);
    static struct lyra_skb_seg g[300];
    for (unsigned i = 0; i < 300; i++) {
        g[i] = (struct lyra_skb_seg){.ptr = mem + 14 + 20 * i, .len = 20};
        lyra_skb_seg_append(&s, &g[i]);
    }
    cr_assert_eq(s.nseg, 300);
    cr_assert_eq(lyra_skb_total(&s), 14 + 6000);
    static struct lyra_skb_piece pc[400];
    int n = lyra_skb_pieces(&s, 0, pc, 400);
    cr_assert_eq(n, 301);
    check_cover(&s, pc, n, 0);
    n = lyra_skb_pieces(&s, 4096, pc, 400);
    cr_assert_eq(n, 302, "the segment across 4096 is split");
    check_cover(&s, pc, n, 4096);
    /* trim cuts into the chain, pull_up reads across it */
    lyra_skb_trim(&s, 14 + 55);
    cr_assert_eq(s.seg_len, 55);
    cr_assert_eq(g[2].len, 15);
    cr_assert_eq(g[3].len, 0);
    cr_assert_eq(lyra_skb_pieces(&s, 0, pc, 400), 4, "emptied segments are left out");
}

struct bfx {
    struct lt_inst *os, *skb;
    const struct lyra_skb_ops *so;
};

static void bfx_up(struct bfx *x, const char *const *p)
{
    x->os = lt_create(&lyra_component_fake_os, NULL);
    x->skb = lt_create(&lyra_component_skb_copy, p);
    cr_assert_eq(lt_bind(x->skb, "os", x->os), 0);
    cr_assert_eq(lt_start(x->os), 0);
    cr_assert_eq(lt_start(x->skb), 0);
    x->so = lt_ops(x->skb, "skb");
}

static void bfx_down(struct bfx *x)
{
    cr_assert_eq(lt_stat(x->skb, "in_use"), 0, "a buffer leaked");
    lt_stop(x->skb);
    lt_destroy(x->skb);
    lt_stop(x->os);
    lt_destroy(x->os);
}

static void done_count(void *ctx, struct lyra_skb *s)
{
    (void)s;
    ++*(int *)ctx;
}

/* A frame with more pieces than a NIC gathers goes out as one linear copy,
 * the same bytes, with the checksum request and offsets moved along; the
 * original is the driver's to free (its done runs then). */
Test(skb_pieces, bounce_linearises_what_a_nic_cannot_gather)
{
    struct bfx x;
    bfx_up(&x, NULL);
    for (unsigned i = 0; i < sizeof(mem); i++)
        mem[i] = (uint8_t)(i * 3 + 7);
    struct lyra_skb *s = x.so->alloc(x.skb->self, 64, 0);
    cr_assert_not_null(s);
    memcpy(lyra_skb_put(s, 42), mem, 42);
    struct lyra_skb_seg g[20];
    for (unsigned i = 0; i < 20; i++) {
        g[i] = (struct lyra_skb_seg){.ptr = mem + 42 + 50 * i, .len = 50};
        lyra_skb_seg_append(s, &g[i]);
    }
    s->flags |= LYRA_SKB_F_CSUM_TX;
    s->csum_start = (uint16_t)(lyra_skb_headroom(s) + 34);
    s->csum_off = 6;
    s->l3_off = lyra_skb_headroom(s) + 14;
    int done = 0;
    lyra_skb_set_done(s, done_count, &done);
    struct lyra_skb_piece pc[4];
    cr_assert_eq(lyra_skb_pieces(s, 0, pc, 4), -ENOSPC, "21 pieces, the NIC takes 4");
    struct lyra_skb *b = lyra_skb_bounce(x.so, x.skb->self, s);
    cr_assert_not_null(b);
    cr_assert_eq(b->nseg, 0);
    cr_assert_eq(b->len, 1042);
    cr_assert_eq(lyra_skb_pieces(b, 0, pc, 4), 1);
    cr_assert_arr_eq(b->data, mem, 1042);
    cr_assert(b->flags & LYRA_SKB_F_CSUM_TX);
    cr_assert_eq(b->csum_start - lyra_skb_headroom(b), 34, "same place in the frame");
    cr_assert_eq(b->l3_off - lyra_skb_headroom(b), 14);
    cr_assert_eq(b->csum_off, 6);
    cr_assert_null(b->done, "the copy references nothing of the sender's");
    lyra_skb_free(s);
    cr_assert_eq(done, 1, "the original's completion runs when the driver frees it");
    lyra_skb_free(b);
    /* no buffer for the copy: NULL, nothing changed */
    bfx_down(&x);
    bfx_up(&x, (const char *const[]){"count=1", NULL});
    s = x.so->alloc(x.skb->self, 0, 0);
    lyra_skb_seg_append(s, &g[0]);
    cr_assert_null(lyra_skb_bounce(x.so, x.skb->self, s));
    cr_assert_eq(s->nseg, 1);
    lyra_skb_free(s);
    bfx_down(&x);
}
