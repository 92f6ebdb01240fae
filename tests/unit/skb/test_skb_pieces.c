/* lyra/skb_pieces.h: the pieces a gathering driver hands to DMA, split at
 * every page boundary for page_contig NICs. On hand-built skbs (the helper
 * reads only the skb fields), with small pages to cross many boundaries. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "lyra/skb_pieces.h"

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
    s.seg[0] = (struct lyra_skb_seg){mem + 100, 300, 0};
    s.seg[1] = (struct lyra_skb_seg){mem + 500, 0, 0}; /* empty: left out */
    s.seg[2] = (struct lyra_skb_seg){mem + 4000, 200, 0};
    s.nseg = 3;
    s.seg_len = 500;
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
    s.seg[0] = (struct lyra_skb_seg){mem + 4096 - 100, 300, 0};
    s.nseg = 1;
    s.seg_len = 300;
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
    s.seg[0] = (struct lyra_skb_seg){mem + 4096 - 8, 16, 0};
    s.nseg = 1;
    s.seg_len = 16;
    struct lyra_skb_piece pc[3];
    cr_assert_eq(lyra_skb_pieces(&s, 4096, pc, 3), 3);
    cr_assert_eq(lyra_skb_pieces(&s, 4096, pc, 2), -ENOSPC);
    cr_assert_eq(lyra_skb_pieces(&s, 0, pc, 1), -ENOSPC);
    cr_assert_eq(lyra_skb_pieces(&s, 3000, pc, 3), -EINVAL, "not a power of two");
    s.seg[0].ptr = NULL;
    cr_assert_eq(lyra_skb_pieces(&s, 4096, pc, 3), -EINVAL, "a segment without memory");
    struct lyra_skb e = mk(NULL, 0);
    cr_assert_eq(lyra_skb_pieces(&e, 4096, pc, 3), 0, "nothing to send: no pieces");
}
