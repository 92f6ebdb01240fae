/* tcp state machine, black box: the sender's SACK scoreboard and RFC 6675
 * loss recovery, seen from the wire. The peer (SACK-permitted, MSS 1000,
 * no timestamps) acknowledges with the SACK blocks each test gives; every
 * test says exactly which segments tcp sends in answer, and in which order.
 * S(k) is the first sequence number of the k-th 1000-byte segment of the
 * stream. Fixture: tcp_fx.h. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <string.h>

#include "lt.h"
#include "lyra/netdev.h"
#include "lyra/skb.h"
#include "tcp_fx.h"

#define MSS 1000u

static uint8_t pat[64 * MSS];
static uint32_t base; /* S(0) */

static uint32_t S(unsigned k)
{
    return base + k * MSS;
}

/* Established (SACK-permitted when sack), Nagle off, nseg segments queued
 * in one write; the initial window (4 segments for MSS 1000) checked.
 * nic_sums: the route's NIC sums TCP and tcp queues writes whole
 * (sndq_skb_max), in every build as in the *_nicsum ones (tcp_sndq.c). */
static int up2(struct fx *f, bool sack, unsigned nseg, bool nic_sums)
{
    fx_up(f, nic_sums ? FX_P("sndq_skb_max=65535") : NULL);
    if (nic_sums) {
        f->cfg->csum_tx = LYRA_CSUM_TCP;
        f->cfg->nic_sum = 1;
    }
    f->popt.mss = MSS;
    f->popt.sack_perm = sack;
    int h = fx_active(f);
    cr_assert_eq(f->sack_on, sack);
    cr_assert_eq(fx_setopt(f, h, LYRA_TCP_NODELAY, 1), 0);
    base = f->t_iss + 1;
    fx_pattern(pat, sizeof(pat), 0);
    cr_assert_eq(fx_write(f, h, pat, nseg * MSS), (long)(nseg * MSS));
    return h;
}

static int up(struct fx *f, bool sack, unsigned nseg)
{
    return up2(f, sack, nseg, false);
}

/* The segments tcp sends next must start at exactly these segment numbers,
 * in this order, each a full MSS (or as given), and nothing after them. */
static void expect_segs_at(struct fx *f, const char *file, int line, unsigned n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (unsigned k = 0; k < n; k++) {
        unsigned want = va_arg(ap, unsigned);
        struct fx_seg s;
        cr_assert(fx_next(f, &s), "%s:%d: segment S(%u) expected, nothing was sent", file, line,
                  want);
        cr_assert_eq(s.seq, S(want), "%s:%d: S(%u) expected, S(%d)%+d was sent", file, line,
                     want, (int)((s.seq - base) / MSS), (int)((s.seq - base) % MSS));
        cr_assert_eq(s.len, MSS, "%s:%d: S(%u) with %u bytes", file, line, want, s.len);
    }
    va_end(ap);
    fx_expect_none_at(f, file, line);
}
#define expect_segs(f, ...)                                                                    \
    expect_segs_at((f), __FILE__, __LINE__, sizeof((unsigned[]){__VA_ARGS__}) / sizeof(unsigned), \
                   __VA_ARGS__)
#define expect_nothing(f) fx_expect_none(f)

/* An ACK of S(ack) with SACK blocks [S(l), S(r)) given as segment numbers
 * (l, r pairs, at most 4 blocks). */
static void sack_seg(struct fx *f, unsigned ack, unsigned nb, ...)
{
    struct tcp_hdr_opts o;
    memset(&o, 0, sizeof(o));
    va_list ap;
    va_start(ap, nb);
    for (unsigned k = 0; k < nb; k++) {
        unsigned l = va_arg(ap, unsigned), r = va_arg(ap, unsigned);
        o.sack[k].left = tcp_seq(S(l));
        o.sack[k].right = tcp_seq(S(r));
    }
    va_end(ap);
    if (nb) {
        o.has = TCP_HAS_SACK;
        o.nsack = (uint8_t)nb;
    }
    fx_send_opt(f, TCP_ACK, f->p_nxt, S(ack), NULL, 0, &o);
}

/* The same with raw sequence numbers (bogus and D-SACK blocks). */
static void sack_raw(struct fx *f, uint32_t ack, unsigned nb, const uint32_t *edges)
{
    struct tcp_hdr_opts o;
    memset(&o, 0, sizeof(o));
    o.has = TCP_HAS_SACK;
    o.nsack = (uint8_t)nb;
    for (unsigned k = 0; k < nb; k++) {
        o.sack[k].left = tcp_seq(edges[2 * k]);
        o.sack[k].right = tcp_seq(edges[2 * k + 1]);
    }
    fx_send_opt(f, TCP_ACK, f->p_nxt, ack, NULL, 0, &o);
}

/* S(0..3) out, then each acknowledged alone: slow start sends S(4..11).
 * Eight segments in flight, cwnd 8 MSS, SND.UNA = S(4). */
static void eight_out(struct fx *f)
{
    expect_segs(f, 0, 1, 2, 3);
    for (unsigned k = 0; k < 4; k++) {
        fx_ack_to(f, S(k + 1));
        expect_segs(f, 4 + 2 * k, 5 + 2 * k);
    }
}

static void expect_cwnd(struct fx *f, int h, uint32_t cwnd, uint32_t ssthresh)
{
    struct lyra_tcp_info ti;
    fx_info(f, h, &ti);
    cr_assert_eq(ti.snd_cwnd, cwnd, "cwnd %u, expected %u", ti.snd_cwnd, cwnd);
    cr_assert_eq(ti.snd_ssthresh, ssthresh, "ssthresh %u, expected %u", ti.snd_ssthresh,
                 ssthresh);
}

/* RFC 6675 5: limited transmit under pipe on the first two duplicates
 * (step 3), recovery at the third (step 4: the segment at HighACK again,
 * ssthresh = cwnd = FlightSize / 2), then one segment each time pipe falls
 * an SMSS below cwnd (step C), new data by NextSeg rule 2; a partial ACK
 * neither deflates cwnd nor resends; the ACK beyond RecoveryPoint ends
 * recovery with cwnd = ssthresh. */
Test(tcp_sack, recovery_sends_what_pipe_allows)
{
    struct fx f;
    int h = up(&f, true, 40);
    eight_out(&f);
    /* S(4) lost */
    sack_seg(&f, 4, 1, 5, 6);
    expect_segs(&f, 12); /* pipe 7 MSS, cwnd 8: one new segment */
    sack_seg(&f, 4, 1, 5, 7);
    expect_segs(&f, 13);
    sack_seg(&f, 4, 1, 5, 8); /* DupThresh: S(4) again, nothing else (pipe 7, cwnd 5) */
    expect_segs(&f, 4);
    expect_cwnd(&f, h, 5 * MSS, 5 * MSS);
    cr_assert_eq(lt_stat(f.tcp, "sack_recoveries"), 1);
    sack_seg(&f, 4, 1, 5, 9);
    expect_nothing(&f); /* pipe 6 */
    sack_seg(&f, 4, 1, 5, 10);
    expect_nothing(&f); /* pipe 5 */
    sack_seg(&f, 4, 1, 5, 11);
    expect_segs(&f, 14); /* pipe 4: one goes */
    sack_seg(&f, 4, 1, 5, 12);
    expect_segs(&f, 15);
    /* S(4)'s retransmission arrives: a partial ACK (RecoveryPoint is
     * S(14) - 1); pipe 4 (S(12..15)), one more goes */
    fx_ack_to(&f, S(12));
    expect_segs(&f, 16);
    expect_cwnd(&f, h, 5 * MSS, 5 * MSS);
    /* beyond RecoveryPoint: recovery over, cwnd = ssthresh; S(14..16) out */
    fx_ack_to(&f, S(14));
    expect_segs(&f, 17, 18);
    expect_cwnd(&f, h, 5 * MSS, 5 * MSS);
    cr_assert_eq(lt_stat(f.tcp, "sack_recoveries"), 1);
    cr_assert_eq(lt_stat(f.tcp, "tx_retrans_segs"), 1);
    /* the marks were per segment: a write queued whole (the nicsum build)
     * was cut as SACK blocks came, over what had been sent: S(4..11) at
     * the first (the acknowledged S(0..3) need no piece), then S(12..14),
     * sent before later blocks; the unsent rest stayed whole. An skb a
     * segment needs no cut (tcp_sndq.c) */
    cr_assert_eq(lt_stat(f.tcp, "sndq_splits"), fx_sndq_by_write(&f) ? 11 : 0);
    cr_assert_eq(lt_stat(f.tcp, "sndq_split_fail"), 0);
    fx_down(&f);
}

/* A write queued whole is cut into one-segment pieces, front to back over
 * what was sent, at the first SACK block (tcp_sndq.c); the acknowledged
 * front needs none. With a buffer for one piece only, S(4) is cut off and
 * the rest stays whole, the block [S(6), S(7)) a sub-range of it, and
 * limited transmit sends S(12) (sndq_split_fail: a buffer is kept for
 * sending). The next block, [S(7), S(9)), finds buffers: the rest is cut,
 * S(6)'s piece taking the mark the whole had, so S(6..8) are three SACKed
 * segments above S(4) at the second duplicate: IsLost(S(4)) starts
 * recovery and S(4) goes again first (had the mark been lost, two SACKed
 * segments would not). */
Test(tcp_sack, a_write_queued_whole_is_cut_for_the_marks_when_buffers_allow)
{
    struct fx f;
    up2(&f, true, 40, true);
    eight_out(&f);
    const struct lyra_skb_ops *so = lt_ops(f.skb, LYRA_SKB_IFACE);
    static struct lyra_skb *held[4096];
    unsigned n = 0;
    while (n < 4096 && (held[n] = so->alloc(f.skb->self, 0, 0)))
        n++;
    cr_assert_lt(n, 4096, "the pool never ran out");
    for (int k = 0; k < 3; k++) /* the ACK's receive buffer, a piece, S(12) */
        lyra_skb_free(held[--n]);
    sack_seg(&f, 4, 1, 6, 7);
    expect_segs(&f, 12);
    cr_assert_eq(lt_stat(f.tcp, "sndq_splits"), 1);
    cr_assert_eq(lt_stat(f.tcp, "sndq_split_fail"), 1);
    cr_assert_eq(lt_stat(f.tcp, "sack_recoveries"), 0);
    while (n)
        lyra_skb_free(held[--n]);
    sack_seg(&f, 4, 1, 7, 9);
    struct fx_seg sg;
    cr_assert(fx_next(&f, &sg), "nothing sent at the second duplicate");
    cr_assert_eq(sg.seq, S(4), "S(%d) sent first, S(4) expected", (int)((sg.seq - base) / MSS));
    fx_drain(&f);
    cr_assert_eq(lt_stat(f.tcp, "sack_recoveries"), 1);
    cr_assert_eq(lt_stat(f.tcp, "sndq_splits"), 1 + 8, "S(5..12) cut off as well");
    /* the original (from S(13) on, unsent) is held by its pieces and the
     * queue: bufs_held counts every buffer out, each once */
    cr_assert_eq(lt_stat(f.tcp, "bufs_held"), fx_skb_in_use(&f));
    cr_assert_gt(lt_stat(f.tcp, "bufs_held"), lt_stat(f.tcp, "skbs_held"));
    fx_down(&f);
}

/* RFC 6675 5 step (2): one ACK that SACKs three segments above the hole
 * (its two predecessors lost) starts recovery without waiting for three
 * duplicates: IsLost(HighACK + 1). */
Test(tcp_sack, islost_starts_recovery_on_the_first_duplicate)
{
    struct fx f;
    int h = up(&f, true, 40);
    eight_out(&f);
    sack_seg(&f, 4, 1, 5, 8);
    expect_segs(&f, 4);
    expect_cwnd(&f, h, 4 * MSS, 4 * MSS);
    cr_assert_eq(lt_stat(f.tcp, "sack_recoveries"), 1);
    fx_down(&f);
}

/* Two holes: S(4) and S(6). NextSeg rule 1 resends S(6) as soon as IsLost
 * holds for it and pipe allows, before any new data and with no partial
 * ACK (NewReno would wait a round trip for one). */
Test(tcp_sack, second_hole_resent_before_new_data)
{
    struct fx f;
    up(&f, true, 40);
    eight_out(&f);
    sack_seg(&f, 4, 1, 5, 6);
    expect_segs(&f, 12);
    sack_seg(&f, 4, 2, 7, 8, 5, 6);
    expect_segs(&f, 13);
    sack_seg(&f, 4, 2, 7, 9, 5, 6); /* S(4): 3 SACKed above, lost; S(6): 2 above, not yet */
    expect_segs(&f, 4);
    sack_seg(&f, 4, 2, 7, 10, 5, 6); /* S(6) lost now: pipe 10-4-2+1 = 5 = cwnd */
    expect_nothing(&f);
    sack_seg(&f, 4, 2, 7, 11, 5, 6); /* pipe 4: rule 1 before rule 2 */
    expect_segs(&f, 6);
    sack_seg(&f, 4, 2, 7, 12, 5, 6); /* pipe 4 again: new data */
    expect_segs(&f, 14);
    fx_down(&f);
}

/* Nothing new to send: NextSeg rule 3 resends an unSACKed segment below
 * the highest SACKed one that IsLost does not (yet) hold for. */
Test(tcp_sack, rule3_resends_unsacked_below_the_highest_sack)
{
    struct fx f;
    up(&f, true, 12); /* S(0..11): all of it out after eight_out */
    eight_out(&f);
    sack_seg(&f, 4, 1, 5, 9); /* S(4) lost: recovery, cwnd 4 */
    expect_segs(&f, 4);
    sack_seg(&f, 4, 2, 10, 11, 5, 9); /* pipe 3; S(9) has one SACKed above: not lost */
    expect_segs(&f, 9);
    sack_seg(&f, 4, 2, 10, 12, 5, 9); /* room for one, but NextSeg has nothing: S(9)
                                       * went again, the rest is SACKed, no rescue
                                       * before HighACK moves */
    expect_nothing(&f);
    cr_assert_eq(lt_stat(f.tcp, "sack_rescue_rtx"), 0);
    fx_down(&f);
}

/* The tail is lost and nothing SACKs it: after the partial ACK, NextSeg
 * rule 4 resends the highest unSACKed segment (NewReno would resend the
 * first), once. */
Test(tcp_sack, rescue_retransmission_of_the_tail)
{
    struct fx f;
    up(&f, true, 12);
    eight_out(&f);
    sack_seg(&f, 4, 1, 5, 9); /* S(4) lost, S(9..11) lost too */
    expect_segs(&f, 4);
    fx_ack_to(&f, S(9)); /* the retransmission arrived: pipe 3, cwnd 4 */
    expect_segs(&f, 11);
    cr_assert_eq(lt_stat(f.tcp, "sack_rescue_rtx"), 1);
    fx_ack_to(&f, S(9)); /* not again in this recovery */
    expect_nothing(&f);
    cr_assert_eq(lt_stat(f.tcp, "sack_rescue_rtx"), 1);
    fx_down(&f);
}

/* RFC 2883: a first block below the ACK, or inside the second block,
 * reports a duplicate: counted, and no new SACK information (no duplicate
 * ACK, no limited transmit, no recovery). */
Test(tcp_sack, dsack_is_not_new_information)
{
    struct fx f;
    up(&f, true, 40);
    eight_out(&f);
    sack_seg(&f, 4, 1, 5, 6);
    expect_segs(&f, 12);
    uint32_t below[] = {S(3), S(4), S(5), S(6)};
    for (int k = 0; k < 3; k++) {
        sack_raw(&f, S(4), 2, below);
        expect_nothing(&f);
    }
    uint32_t inside[] = {S(5) + 200, S(5) + 600, S(5), S(6)};
    sack_raw(&f, S(4), 2, inside);
    expect_nothing(&f);
    cr_assert_eq(lt_stat(f.tcp, "dsack_rcvd"), 4);
    cr_assert_eq(lt_stat(f.tcp, "sack_blocks_bad"), 0);
    cr_assert_eq(lt_stat(f.tcp, "sack_recoveries"), 0);
    /* the second duplicate, when it comes, is the second */
    sack_seg(&f, 4, 1, 5, 7);
    expect_segs(&f, 13);
    cr_assert_eq(lt_stat(f.tcp, "sack_recoveries"), 0);
    fx_down(&f);
}

/* RFC 2018 / 6675: blocks beyond SND.MAX, empty or reversed, or below the
 * ACK past the first, are counted and ignored: a peer claiming everything
 * SACKed starts no recovery and frees nothing. */
Test(tcp_sack, bogus_blocks_are_counted_and_ignored)
{
    struct fx f;
    up(&f, true, 40);
    eight_out(&f);
    uint32_t beyond[] = {S(5), S(13)};              /* past SND.MAX = S(12) */
    uint32_t reversed[] = {S(9), S(6), S(7), S(7)}; /* reversed, empty */
    uint32_t old[] = {S(8), S(9), S(2), S(3)};      /* a valid one, then one below the ACK */
    for (int k = 0; k < 3; k++) {
        sack_raw(&f, S(4), 1, beyond);
        expect_nothing(&f);
        sack_raw(&f, S(4), 2, reversed);
        expect_nothing(&f);
    }
    cr_assert_eq(lt_stat(f.tcp, "sack_blocks_bad"), 9);
    sack_raw(&f, S(4), 2, old); /* S(8) SACKed: one duplicate, limited transmit */
    expect_segs(&f, 12);
    cr_assert_eq(lt_stat(f.tcp, "sack_blocks_bad"), 10);
    cr_assert_eq(lt_stat(f.tcp, "sack_blocks_rcvd"), 11);
    cr_assert_eq(lt_stat(f.tcp, "sack_recoveries"), 0);
    cr_assert_eq(lt_stat(f.tcp, "dsack_rcvd"), 0);
    fx_down(&f);
}

/* RFC 6675 5.1: the scoreboard outlives a timeout: going back from SND.UNA
 * the sender skips what the peer SACKed. */
Test(tcp_sack, timeout_keeps_the_scoreboard)
{
    struct fx f;
    int h = up(&f, true, 40);
    eight_out(&f);
    /* S(4) and S(5) lost, S(6) and S(7) SACKed: two duplicates only */
    sack_seg(&f, 4, 1, 6, 7);
    expect_segs(&f, 12);
    sack_seg(&f, 4, 1, 6, 8);
    expect_segs(&f, 13);
    struct fx_seg s;
    fx_wait(&f, 3000, &s); /* the timer: S(4) again, cwnd 1 */
    cr_assert_eq(s.seq, S(4));
    expect_nothing(&f);
    expect_cwnd(&f, h, MSS, 5 * MSS);
    /* S(4) arrived; cwnd 2, pipe 0 (what went before the timer is lost
     * unless SACKed): S(5), then S(8), S(6..7) skipped */
    sack_seg(&f, 5, 1, 6, 8);
    expect_segs(&f, 5, 8);
    cr_assert_eq(lt_stat(f.tcp, "sack_reneging"), 0);
    fx_down(&f);
}

/* RFC 2018 8: a SACKed byte at SND.UNA when the timer expires means the
 * receiver dropped what it had SACKed: the scoreboard is cleared (the
 * SACKed segments go again). */
Test(tcp_sack, reneging_clears_the_scoreboard_at_the_timeout)
{
    struct fx f;
    up(&f, true, 40);
    eight_out(&f);
    sack_seg(&f, 4, 1, 4, 6); /* claims S(4..5), yet ACKs S(4); pipe 6 of 8 */
    expect_segs(&f, 12, 13);
    struct fx_seg s;
    fx_wait(&f, 3000, &s);
    cr_assert_eq(s.seq, S(4));
    cr_assert_eq(lt_stat(f.tcp, "sack_reneging"), 1);
    fx_ack_to(&f, S(5)); /* cwnd 2: S(5) goes again, and S(6) */
    expect_segs(&f, 5, 6);
    fx_down(&f);
}

/* Without SACK-permitted, NewReno as before: SACK blocks the peer sends
 * anyway are counted and ignored, the third duplicate gives the fast
 * retransmit with cwnd = ssthresh + 3 SMSS (RFC 5681 3.2), and a partial
 * ACK resends the first unacknowledged segment (RFC 6582). */
Test(tcp_sack, newreno_when_sack_is_not_negotiated)
{
    struct fx f;
    int h = up(&f, false, 40);
    eight_out(&f);
    for (int k = 0; k < 3; k++)
        sack_seg(&f, 4, 1, 6, 12);
    expect_segs(&f, 4);
    expect_cwnd(&f, h, 4 * MSS + 3 * MSS, 4 * MSS);
    cr_assert_eq(lt_stat(f.tcp, "sack_blocks_bad"), 3);
    cr_assert_eq(lt_stat(f.tcp, "sack_recoveries"), 0);
    cr_assert_eq(lt_stat(f.tcp, "fast_retransmits"), 1);
    fx_ack_to(&f, S(5)); /* partial: S(5) at once */
    struct fx_seg s;
    cr_assert(fx_next(&f, &s));
    cr_assert_eq(s.seq, S(5));
    fx_down(&f);
}

/* With out-of-order data held, a full data segment has no room for SACK
 * blocks: it goes whole without them, and when it carried an owed
 * acknowledgment a pure ACK with the blocks follows (cut in two, its tail
 * would be one more small frame to lose). */
Test(tcp_sack, data_segment_not_cut_for_sack_blocks)
{
    struct fx f;
    up(&f, true, 5);
    struct fx_seg s;
    for (unsigned k = 0; k < 4; k++) {
        cr_assert(fx_next(&f, &s));
        cr_assert_eq(s.seq, S(k));
        cr_assert_eq(s.len, MSS);
        cr_assert_not(s.r.opt.has & TCP_HAS_SACK);
    }
    expect_nothing(&f);
    static const uint8_t d[100];
    fx_send_sa(&f, TCP_ACK, f.p_nxt + 100, S(1), d, sizeof(d)); /* a hole before it */
    cr_assert(fx_next(&f, &s));
    cr_assert_eq(s.seq, S(4), "the data segment first");
    cr_assert_eq(s.len, MSS, "whole: %u bytes", s.len);
    cr_assert_not(s.r.opt.has & TCP_HAS_SACK);
    cr_assert(fx_next(&f, &s));
    cr_assert_eq(s.len, 0);
    cr_assert(s.r.opt.has & TCP_HAS_SACK, "then the SACK blocks in a pure ACK");
    cr_assert_eq(s.r.opt.nsack, 1);
    cr_assert_eq(s.r.opt.sack[0].left.v, f.p_nxt + 100);
    expect_nothing(&f);
    fx_down(&f);
}

/* Entering recovery resends the first unacknowledged segment and starts
 * the retransmission timer anew for it (as Linux): the timer of the last
 * cumulative ACK would otherwise expire before the retransmission can be
 * acknowledged whenever the loss shows late in the RTO. */
Test(tcp_sack, fast_retransmit_restarts_the_timer)
{
    struct fx f;
    up(&f, true, 40);
    eight_out(&f);
    struct lyra_tcp_info ti;
    fx_info(&f, f.h, &ti);
    uint32_t rto_ms = ti.rto / 1000;
    fx_ms(&f, rto_ms * 3 / 4);
    expect_nothing(&f);
    sack_seg(&f, 4, 1, 5, 8);
    expect_segs(&f, 4);
    struct fx_seg s;
    uint64_t waited = fx_wait(&f, 4 * rto_ms, &s);
    cr_assert_eq(s.seq, S(4));
    cr_assert_geq(waited, rto_ms, "the timer expired %llu ms after the fast retransmit (RTO %u)",
                  (unsigned long long)waited, rto_ms);
    fx_down(&f);
}

/* RFC 6675 5: a new recovery may start once the cumulative ACK is beyond
 * RecoveryPoint. A recovery that ends exactly there, followed at once by
 * the loss of the next segment, starts the next one on the SACKs (RFC
 * 6582's rule, one byte stricter, would leave it to the timer). */
Test(tcp_sack, next_loss_right_after_recovery_point)
{
    struct fx f;
    up(&f, true, 40);
    eight_out(&f);
    sack_seg(&f, 4, 1, 5, 8); /* recovery, RecoveryPoint S(12) - 1 */
    expect_segs(&f, 4);
    fx_ack_to(&f, S(12)); /* exactly past it: over; cwnd 4, S(12..15) go */
    expect_segs(&f, 12, 13, 14, 15);
    sack_seg(&f, 12, 1, 13, 16); /* S(12) lost: cwnd 2, pipe 1 */
    expect_segs(&f, 12, 16);
    cr_assert_eq(lt_stat(f.tcp, "sack_recoveries"), 2);
    fx_down(&f);
}

/* A lost retransmission (RFC 6675 leaves it to the timer): S(4) went
 * again when SND.MAX was S(14); once DupThresh segments sent after that,
 * S(14..16), are SACKed while S(4) is still missing, its retransmission
 * was lost and S(4) goes a third time at once, not at the RTO (as
 * Linux's tcp_mark_lost_retrans did before RACK). Not before: S(15)
 * SACKed is no proof yet (reordering). */
Test(tcp_sack, lost_retransmission_sent_again_when_later_data_is_sacked)
{
    struct fx f;
    up(&f, true, 40);
    eight_out(&f);
    sack_seg(&f, 4, 1, 5, 6);
    expect_segs(&f, 12);
    sack_seg(&f, 4, 1, 5, 7);
    expect_segs(&f, 13);
    sack_seg(&f, 4, 1, 5, 8); /* recovery: S(4) again, SND.MAX S(14) */
    expect_segs(&f, 4);
    sack_seg(&f, 4, 1, 5, 9);
    sack_seg(&f, 4, 1, 5, 10);
    expect_nothing(&f);
    sack_seg(&f, 4, 1, 5, 11);
    expect_segs(&f, 14);
    sack_seg(&f, 4, 1, 5, 12);
    expect_segs(&f, 15);
    /* S(4)'s retransmission was lost: the SACKs go on past it */
    unsigned again = 0, at = 0;
    for (unsigned k = 13; k <= 17; k++) {
        sack_seg(&f, 4, 1, 5, k);
        struct fx_seg s;
        while (fx_next(&f, &s))
            if (s.seq == S(4)) {
                again++;
                at = k;
            }
    }
    cr_assert_eq(again, 1, "S(4) sent %u more times, want once", again);
    cr_assert_eq(at, 17, "S(4) went again at the SACK up to S(%u), want S(17): S(14..16) SACKed",
                 at);
    cr_assert_eq(lt_stat(f.tcp, "sack_lost_rtx"), 1);
    cr_assert_eq(lt_stat(f.tcp, "rto_expiries"), 0);
    fx_down(&f);
}
