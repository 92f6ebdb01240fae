/* tcp state machine, black box: congestion control, NewReno (RFC 5681,
 * RFC 6582), seen from the wire and TCP_INFO: the initial window, slow
 * start, ssthresh and cwnd at a fast retransmit and at a timeout, the end of
 * fast recovery. The peer acknowledges every segment by itself unless a
 * test says otherwise. Fixture: tcp_fx.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tcp_fx.h"

static uint8_t pat[40000];

/* Established with the peer's MSS, Nagle off, a 40 KB write queued;
 * returns how many segments went at once (their seqs in seqs[], at most 16). */
static unsigned start(struct fx *f, uint16_t mss, int *hp, uint32_t *seqs)
{
    fx_pattern(pat, sizeof(pat), 0);
    f->popt.mss = mss;
    int h = fx_active(f);
    cr_assert_eq(fx_setopt(f, h, LYRA_TCP_NODELAY, 1), 0);
    cr_assert_eq(fx_write(f, h, pat, sizeof(pat)), (long)sizeof(pat));
    struct fx_seg s;
    unsigned n = 0;
    while (fx_next(f, &s)) {
        cr_assert_eq(s.len, mss);
        if (seqs && n < 16)
            seqs[n] = s.seq;
        n++;
    }
    *hp = h;
    return n;
}

/* RFC 5681 3.1 (IW = 3 SMSS for 1095 < SMSS <= 2190, eq. 3). */
Test(tcp_congestion, initial_window_three_segments_for_mss_1460)
{
    struct fx f;
    fx_up(&f, NULL);
    int h;
    cr_assert_eq(start(&f, 1460, &h, NULL), 3);
    struct lyra_tcp_info ti;
    fx_info(&f, h, &ti);
    cr_assert_eq(ti.snd_cwnd, 3 * 1460);
    fx_down(&f);
}

/* RFC 5681 3.1 (IW = 4 SMSS for SMSS <= 1095). */
Test(tcp_congestion, initial_window_four_segments_for_mss_536)
{
    struct fx f;
    fx_up(&f, NULL);
    int h;
    cr_assert_eq(start(&f, 536, &h, NULL), 4);
    fx_down(&f);
}

/* RFC 5681 3.1 (slow start: cwnd += min(N, SMSS) for each ACK of new data):
 * each ACK of one segment lets two more go; four ACKs, eight segments. */
Test(tcp_congestion, slow_start_two_segments_per_ack)
{
    struct fx f;
    fx_up(&f, NULL);
    int h;
    uint32_t seq[16];
    cr_assert_eq(start(&f, 536, &h, seq), 4);
    unsigned total = 0;
    for (int i = 0; i < 4; i++) {
        fx_ack_to(&f, seq[i] + 536);
        unsigned n = 0;
        struct fx_seg s;
        while (fx_next(&f, &s))
            n++;
        cr_assert_eq(n, 2, "ACK %d of slow start let %u segments go", i + 1, n);
        total += n;
    }
    cr_assert_eq(total, 8);
    fx_down(&f);
}

/* Eight segments outstanding after a round of slow start; returns SND.UNA. */
static uint32_t eight_out(struct fx *f, int *hp)
{
    uint32_t seq[16];
    cr_assert_eq(start(f, 536, hp, seq), 4);
    for (int i = 0; i < 4; i++) {
        fx_ack_to(f, seq[i] + 536);
        fx_drain(f);
    }
    return seq[3] + 536;
}

/* RFC 5681 3.2 (fast retransmit: ssthresh = max(FlightSize / 2, 2 SMSS),
 * eq. 4; cwnd = ssthresh + 3 SMSS), RFC 6582 3.2 step 2. */
Test(tcp_congestion, fast_retransmit_halves_ssthresh)
{
    struct fx f;
    fx_up(&f, NULL);
    int h;
    uint32_t una = eight_out(&f, &h);
    for (int i = 0; i < 3; i++)
        fx_ack_to(&f, una);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, una, FX_ANY);
    fx_drain(&f);
    struct lyra_tcp_info ti;
    fx_info(&f, h, &ti);
    cr_assert_eq(ti.snd_ssthresh, 8 * 536 / 2, "ssthresh %u, FlightSize was %u", ti.snd_ssthresh,
                 8 * 536);
    cr_assert_eq(ti.snd_cwnd, 8 * 536 / 2 + 3 * 536, "cwnd %u in fast recovery", ti.snd_cwnd);
    fx_down(&f);
}

/* RFC 6582 3.2 (4) (a full ACK ends fast recovery: cwnd deflated to
 * min(ssthresh, max(FlightSize, SMSS) + SMSS), the first of the RFC's two
 * choices; nothing is left outstanding here, so 2 SMSS). */
Test(tcp_congestion, full_ack_ends_recovery_with_deflated_cwnd)
{
    struct fx f;
    fx_up(&f, NULL);
    int h;
    uint32_t una = eight_out(&f, &h);
    uint32_t high = f.p_rcv;
    for (int i = 0; i < 3; i++)
        fx_ack_to(&f, una);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, una, FX_ANY); /* the fast retransmit: recovery began */
    fx_drain(&f);
    fx_ack_to(&f, high);
    fx_drain(&f);
    struct lyra_tcp_info ti;
    fx_info(&f, h, &ti);
    cr_assert_eq(ti.snd_ssthresh, 8 * 536 / 2, "ssthresh %u: not FlightSize / 2 at entry",
                 ti.snd_ssthresh);
    cr_assert_eq(ti.snd_cwnd, 2 * 536, "cwnd %u after the full ACK, nothing outstanding",
                 ti.snd_cwnd);
    fx_down(&f);
}

/* RFC 5681 3.1 (after a retransmission timeout: ssthresh = max(FlightSize /
 * 2, 2 SMSS), cwnd = LW = 1 SMSS) and RFC 6298 5.4 (one segment resent). */
Test(tcp_congestion, timeout_collapses_cwnd_to_one_segment)
{
    struct fx f;
    fx_up(&f, NULL);
    int h;
    uint32_t una = eight_out(&f, &h);
    struct fx_seg s;
    fx_wait(&f, 3000, &s);
    cr_assert_eq(s.seq, una);
    fx_expect_none(&f);
    struct lyra_tcp_info ti;
    fx_info(&f, h, &ti);
    cr_assert_eq(ti.snd_cwnd, 536u);
    cr_assert_eq(ti.snd_ssthresh, 8 * 536 / 2);
    cr_assert_geq(ti.retransmits, 1);
    cr_assert_geq(ti.total_retrans, 1);
    fx_down(&f);
}
