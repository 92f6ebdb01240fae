/* lyra/l4_zc.h, the MSG_ZEROCOPY completion records tcp and udp share:
 * ids per call, one record per skb, completion when every skb holding a
 * range is done, coalescing of consecutive ranges as Linux, the COPIED
 * code exactly when a byte was copied, the bounded pool's copy fallback
 * and ENOBUFS, ids given back by a call that sent nothing, and stale
 * records of a closed socket. skbs here are bare structs: the provider's
 * free is modelled by calling `done` as it would. */
#include <criterion/criterion.h>
#include <errno.h>

#include "lyra/l4_zc.h"

static int notified;

static void notify(void *ctx, struct lyra_zc *z)
{
    (void)z;
    cr_assert_eq(ctx, &notified);
    notified++;
}

static struct lyra_zc Z;

static void setup(void)
{
    notified = 0;
    lyra_zc_init(&Z, notify, &notified);
    lyra_zc_reset(&Z);
    Z.on = 1;
}

/* What the provider does at the last free. */
static void skb_free(struct lyra_skb *s)
{
    if (s->done)
        s->done(s->done_ctx, s);
    s->done = NULL;
}

/* One call: begin, reference (took > copied) into s when given, end. */
static struct lyra_zc_rec *call(struct lyra_skb *s, int copied)
{
    int copy;
    struct lyra_zc_rec *r = lyra_zc_begin(&Z, lyra_zc_of(s), &copy);
    cr_assert(r, "a record is free");
    if (copied)
        r->copied = 1;
    if (s)
        cr_assert_eq(lyra_zc_attach(r, s), 0);
    lyra_zc_put(r);
    return r;
}

static void expect_compl(uint32_t lo, uint32_t hi, uint32_t copied)
{
    struct lyra_zc_compl c;
    cr_assert_eq(lyra_zc_take(&Z, &c), 0, "a completion [%u, %u] is queued", lo, hi);
    cr_expect_eq(c.lo, lo);
    cr_expect_eq(c.hi, hi);
    cr_expect_eq(c.copied, copied);
}

TestSuite(l4_zc, .init = setup);

Test(l4_zc, copied_calls_complete_at_once_and_coalesce)
{
    for (int k = 0; k < 5; k++)
        call(NULL, 1);
    cr_expect(lyra_zc_pending(&Z));
    cr_expect_geq(notified, 1);
    expect_compl(0, 4, 1);
    struct lyra_zc_compl c;
    cr_expect_eq(lyra_zc_take(&Z, &c), -EAGAIN, "nothing more");
    cr_expect(!lyra_zc_pending(&Z));
}

Test(l4_zc, referenced_range_completes_when_every_skb_is_done)
{
    struct lyra_skb a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    call(&a, 0); /* id 0 in a */
    call(&b, 0); /* id 1 in b */
    cr_expect(!lyra_zc_pending(&Z), "skbs still hold both");
    skb_free(&b);
    expect_compl(1, 1, 0); /* out of order, as Linux allows: no COPIED */
    cr_expect(!lyra_zc_pending(&Z));
    skb_free(&a);
    expect_compl(0, 0, 0);
}

Test(l4_zc, calls_sharing_an_skb_extend_its_record)
{
    struct lyra_skb a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    struct lyra_zc_rec *r0 = call(&a, 0);
    struct lyra_zc_rec *r1 = call(&a, 1); /* joins a: the same record, ids 0..1 */
    cr_expect_eq(r0, r1);
    int copy;
    struct lyra_zc_rec *r2 = lyra_zc_begin(&Z, lyra_zc_of(&a), &copy); /* id 2 spans a and b */
    cr_expect_eq(r2, r0);
    cr_assert_eq(lyra_zc_attach(r2, &b), 0);
    lyra_zc_put(r2);
    skb_free(&a);
    cr_expect(!lyra_zc_pending(&Z), "b still holds id 2");
    skb_free(&b);
    expect_compl(0, 2, 1);
}

Test(l4_zc, an_skb_holds_one_record)
{
    struct lyra_skb a;
    memset(&a, 0, sizeof(a));
    call(&a, 0);
    int copy;
    struct lyra_zc_rec *r = lyra_zc_begin(&Z, NULL, &copy); /* not joining: a new record */
    cr_expect_eq(lyra_zc_attach(r, &a), -1);
    lyra_zc_put(r);
    expect_compl(1, 1, 0);
    skb_free(&a);
    expect_compl(0, 0, 0); /* [0] after [1]: not consecutive that way round */
}

Test(l4_zc, full_pool_copies_then_refuses)
{
    struct lyra_skb s[LYRA_ZC_RECS];
    memset(s, 0, sizeof(s));
    for (int k = 0; k < LYRA_ZC_RECS; k++)
        call(&s[k], 0);
    int copy;
    cr_expect_null(lyra_zc_begin(&Z, NULL, &copy));
    cr_expect_eq(copy, 0, "nothing queued to extend: ENOBUFS");
    cr_expect_eq(Z.nobufs, 1);
    skb_free(&s[LYRA_ZC_RECS - 1]); /* [15] queued, its record stays used */
    cr_expect_null(lyra_zc_begin(&Z, NULL, &copy));
    cr_expect_eq(copy, 1, "id 16 follows the queued [15]: copy and extend");
    cr_expect_eq(Z.fallback, 1);
    expect_compl(LYRA_ZC_RECS - 1, LYRA_ZC_RECS, 1);
    for (int k = 0; k < LYRA_ZC_RECS - 1; k++)
        skb_free(&s[k]);
    expect_compl(0, LYRA_ZC_RECS - 2, 0);
}

Test(l4_zc, a_call_that_sent_nothing_gives_its_id_back)
{
    int copy;
    struct lyra_zc_rec *r = lyra_zc_begin(&Z, NULL, &copy);
    lyra_zc_abort(&Z, r);
    cr_expect_eq(Z.next_id, 0);
    call(NULL, 1);
    expect_compl(0, 0, 1);
    cr_expect(!lyra_zc_pending(&Z));
}

/* A blocking call in rounds (LYRA_MSG_ZC_CALL): the first round keeps the
 * call's hold, every later round continues the same id, and the record
 * completes only when the call has ended, even when every skb of the
 * first rounds was done while the call waited. */
Test(l4_zc, a_call_in_rounds_completes_after_it_ends)
{
    struct lyra_skb a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    int copy;
    struct lyra_zc_rec *r = lyra_zc_begin(&Z, NULL, &copy);
    cr_assert(r);
    cr_assert_eq(lyra_zc_attach(r, &a), 0);
    lyra_zc_call_keep(&Z, r); /* the first round took part of the bytes */
    skb_free(&a);             /* acknowledged while the call waits */
    cr_expect(!lyra_zc_pending(&Z), "the call still holds id 0");
    struct lyra_zc_rec *r2 = lyra_zc_cont(&Z);
    cr_assert_eq(r2, r, "the next round continues id 0");
    cr_assert_eq(lyra_zc_attach(r2, &b), 0);
    lyra_zc_put(r2); /* the round's own hold */
    skb_free(&b);
    cr_expect(!lyra_zc_pending(&Z), "every skb is done, the call has not ended");
    lyra_zc_call_end(&Z);
    expect_compl(0, 0, 0);
    cr_expect_null(lyra_zc_cont(&Z), "no call holds a record now");
    lyra_zc_call_end(&Z); /* a second end is harmless */
    cr_expect(!lyra_zc_pending(&Z));
    cr_expect_eq(Z.next_id, 1);
}

/* A socket closed while its call waits between rounds: the hold goes with
 * the old socket; no completion reaches the next one, the record is free. */
Test(l4_zc, a_call_cut_by_close_leaves_no_record)
{
    int copy;
    struct lyra_zc_rec *r = lyra_zc_begin(&Z, NULL, &copy);
    cr_assert(r);
    lyra_zc_call_keep(&Z, r);
    lyra_zc_reset(&Z);
    lyra_zc_call_end(&Z); /* the socket layer's end, after the close: nothing */
    cr_expect(!lyra_zc_pending(&Z));
    cr_expect_eq(r->state, LYRA_ZC_FREE);
}

Test(l4_zc, a_closed_sockets_records_do_not_reach_the_next)
{
    struct lyra_skb a;
    memset(&a, 0, sizeof(a));
    call(&a, 0);
    lyra_zc_reset(&Z); /* closed, slot reused */
    skb_free(&a);      /* the old send completes late */
    cr_expect(!lyra_zc_pending(&Z));
    for (int k = 0; k < LYRA_ZC_RECS; k++) { /* its record is free again */
        int copy;
        cr_assert(lyra_zc_begin(&Z, NULL, &copy));
    }
}
