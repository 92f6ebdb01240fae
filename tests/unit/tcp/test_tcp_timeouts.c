/* tcp state machine, black box: timers (RFC 6298, RFC 5681, RFC 1122
 * 4.2.2.17, 4.2.3.5, 4.2.3.6; RFC 5482). Retransmission timeout with
 * backoff, Karn, fast retransmit after 3 duplicate ACKs, zero-window probes
 * carrying the next byte with backoff, keepalive probes and their limit,
 * TCP_USER_TIMEOUT, retries2. Fixture: tcp_fx.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tcp_fx.h"

static uint8_t pat[20000];

/* Established with a 100 ms RTT on the handshake, then one data exchange
 * with a 100 ms RTT too: whether or not the SYN's sample counts, RFC 6298
 * 2.2/2.3 give an RTO of 250 ms (both samples) or 300 ms (one). */
static int warm(struct fx *f)
{
    fx_pattern(pat, sizeof(pat), 0);
    int h = fx_active_rtt(f, 100);
    cr_assert_eq(fx_setopt(f, h, LYRA_TCP_NODELAY, 1), 0);
    cr_assert_eq(fx_write(f, h, "w", 1), 1);
    fx_expect(f, NULL, TCP_ACK, f->t_iss + 1, FX_ANY);
    fx_ms(f, 100);
    fx_ack(f);
    fx_expect_none(f);
    return h;
}

#define RTO_LO 249
#define RTO_HI 301

/* RFC 6298 2.2, 2.3, 5.1, 5.4: unacknowledged data is retransmitted when
 * the RTO (SRTT + 4 RTTVAR, at least rto_min_ms) runs out: the same bytes
 * from SND.UNA. */
Test(tcp_timeouts, data_retransmitted_after_rto)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = warm(&f);
    uint32_t una = f.p_rcv;
    cr_assert_eq(fx_write(&f, h, pat, 100), 100);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, una, FX_ANY);
    uint64_t t = fx_wait(&f, 2000, &s);
    cr_assert(t >= RTO_LO && t <= RTO_HI, "retransmitted after %llu ms, RTO should be 250-300",
              (unsigned long long)t);
    cr_assert_eq(s.seq, una);
    cr_assert_eq(s.len, 100);
    cr_assert_eq(memcmp(s.data, pat, 100), 0);
    fx_down(&f);
}

/* RFC 6298 5.5 (back off: RTO doubles at each expiry). */
Test(tcp_timeouts, rto_backs_off_exponentially)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = warm(&f);
    cr_assert_eq(fx_write(&f, h, pat, 100), 100);
    fx_drain(&f);
    uint64_t t1 = fx_wait(&f, 2000, NULL);
    uint64_t t2 = fx_wait(&f, 4000, NULL);
    uint64_t t3 = fx_wait(&f, 8000, NULL);
    cr_assert(t2 + 2 >= 2 * t1 && t2 <= 2 * t1 + 2, "second gap %llu after %llu",
              (unsigned long long)t2, (unsigned long long)t1);
    cr_assert(t3 + 2 >= 2 * t2 && t3 <= 2 * t2 + 2, "third gap %llu after %llu",
              (unsigned long long)t3, (unsigned long long)t2);
    fx_down(&f);
}

/* RFC 6298 2.4 (a minimum RTO; here rto_min_ms=500 over a 10 ms RTT). */
Test(tcp_timeouts, rto_not_below_rto_min)
{
    struct fx f;
    fx_up(&f, FX_P("rto_min_ms=500"));
    fx_pattern(pat, sizeof(pat), 0);
    int h = fx_active_rtt(&f, 10);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_NODELAY, 1), 0);
    cr_assert_eq(fx_write(&f, h, "w", 1), 1);
    fx_drain(&f);
    fx_ms(&f, 10);
    fx_ack(&f);
    cr_assert_eq(fx_write(&f, h, pat, 10), 10);
    fx_drain(&f);
    uint64_t t = fx_wait(&f, 3000, NULL);
    cr_assert(t >= 499 && t <= 501, "retransmitted after %llu ms with rto_min_ms=500",
              (unsigned long long)t);
    fx_down(&f);
}

/* RFC 6298 2.5 (a maximum RTO), rto_max_ms: the backoff stops at it. */
Test(tcp_timeouts, rto_backoff_capped_by_rto_max)
{
    struct fx f;
    fx_up(&f, FX_P("rto_max_ms=700"));
    int h = warm(&f);
    cr_assert_eq(fx_write(&f, h, pat, 10), 10);
    fx_drain(&f);
    uint64_t t1 = fx_wait(&f, 2000, NULL);
    uint64_t t2 = fx_wait(&f, 2000, NULL);
    uint64_t t3 = fx_wait(&f, 2000, NULL);
    uint64_t t4 = fx_wait(&f, 2000, NULL);
    cr_assert(t1 >= RTO_LO && t1 <= RTO_HI);
    cr_assert(t2 >= 2 * RTO_LO && t2 <= 2 * RTO_HI);
    cr_assert(t3 >= 699 && t3 <= 701, "third gap %llu with rto_max_ms=700", (unsigned long long)t3);
    cr_assert(t4 >= 699 && t4 <= 701, "fourth gap %llu with rto_max_ms=700",
              (unsigned long long)t4);
    fx_down(&f);
}

/* RFC 6298 5.3 (an ACK for new data restarts the timer) and 5.2 (all
 * acknowledged: the timer stops): once everything is acknowledged nothing
 * is retransmitted. */
Test(tcp_timeouts, timer_stops_when_all_acked)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = warm(&f);
    cr_assert_eq(fx_write(&f, h, pat, 500), 500);
    fx_drain(&f);
    fx_ms(&f, 50);
    fx_ack(&f);
    cr_assert_eq(fx_wait_maybe(&f, 5000, NULL), UINT64_MAX);
    fx_down(&f);
}

/* RFC 6298 5.3: an ACK for new data restarts the timer. The os timer
 * follows lazily (tcp_timer.c rearm): it still fires at the first
 * deadline, finds nothing due there and is armed again, so the
 * retransmission comes one RTO after the ACK, not one after the send. */
Test(tcp_timeouts, rto_restarted_by_an_ack_counts_from_the_ack)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = warm(&f);
    uint32_t una = f.p_rcv;
    uint32_t mss = f.t_mss;
    cr_assert_eq(fx_write(&f, h, pat, mss + 500), (long)(mss + 500));
    fx_drain(&f);
    fx_ms(&f, 150);
    fx_ack_to(&f, una + mss);
    struct fx_seg s;
    uint64_t t = fx_wait(&f, 2000, &s);
    cr_assert(t >= RTO_LO && t <= RTO_HI,
              "retransmitted %llu ms after the ACK: the timer did not restart at it",
              (unsigned long long)t);
    cr_assert_eq(s.seq, una + mss);
    cr_assert_eq(s.len, 500);
    fx_down(&f);
}

/* RFC 6298 5.4 (retransmit the earliest unacknowledged segment): after a
 * partial ACK, the retransmission starts at the new SND.UNA. */
Test(tcp_timeouts, retransmission_starts_at_snd_una)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = warm(&f);
    uint32_t una = f.p_rcv;
    cr_assert_eq(fx_write(&f, h, pat, 2920), 2920);
    unsigned n;
    fx_collect(&f, NULL, 0, &n);
    cr_assert_eq(n, 2);
    fx_ack_to(&f, una + 1460);
    struct fx_seg s;
    fx_wait(&f, 2000, &s);
    cr_assert_eq(s.seq, una + 1460);
    cr_assert_eq(s.len, 1460);
    fx_down(&f);
}

/* RFC 5681 3.1 (after an RTO, cwnd is one segment: LW): with four
 * segments outstanding only the first is sent at the timeout; the rest
 * follow the ACKs. */
Test(tcp_timeouts, after_rto_one_segment_in_flight)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.mss = 536;
    int h = warm(&f);
    uint32_t una = f.p_rcv;
    cr_assert_eq(fx_write(&f, h, pat, 4 * 536), 4 * 536);
    unsigned n;
    fx_collect(&f, NULL, 0, &n);
    cr_assert_eq(n, 4, "%u segments in the initial window with MSS 536", n);
    struct fx_seg s;
    fx_wait(&f, 2000, &s);
    cr_assert_eq(s.seq, una);
    fx_expect_none(&f);
    fx_ack_to(&f, una + 536);
    cr_assert_gt(fx_drain(&f), 0, "nothing sent after the retransmission was acknowledged");
    fx_down(&f);
}

/* RFC 6298 3 (Karn: no RTT sample from a retransmitted segment): A is
 * retransmitted once and acknowledged 290 ms after the retransmission. A
 * sample from it (~550-590 ms) would make the next RTO about 700 ms or more;
 * without one the next segment's RTO is the backed-off RTO (RFC 6298 5.5,
 * at most 2 x 300 ms) or the RTO collapsed back to 250-300 ms. */
Test(tcp_timeouts, karn_no_sample_from_retransmission)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = warm(&f);
    cr_assert_eq(fx_write(&f, h, "A", 1), 1);
    fx_drain(&f);
    fx_wait(&f, 2000, NULL);
    fx_ms(&f, 290);
    fx_expect_none(&f);
    fx_ack(&f);
    fx_drain(&f);
    cr_assert_eq(fx_write(&f, h, "B", 1), 1);
    fx_expect(&f, NULL, TCP_ACK, FX_ANY, FX_ANY);
    uint64_t t = fx_wait(&f, 20000, NULL);
    cr_assert_leq(t, 2 * RTO_HI, "RTO %llu ms after an ambiguous ACK: a sample was taken",
                  (unsigned long long)t);
    cr_assert_geq(t, RTO_LO);
    fx_down(&f);
}

/* Four MSS-536 segments outstanding (the initial window for that MSS,
 * RFC 5681 3.1); returns SND.UNA. */
static uint32_t four_out(struct fx *f, int *hp)
{
    f->popt.mss = 536;
    int h = warm(f);
    uint32_t una = f->p_rcv;
    cr_assert_eq(fx_write(f, h, pat, 4 * 536), 4 * 536);
    unsigned n;
    fx_collect(f, NULL, 0, &n);
    cr_assert_eq(n, 4, "%u segments in the initial window with MSS 536", n);
    *hp = h;
    return una;
}

/* RFC 5681 3.2 (fast retransmit: the third duplicate ACK retransmits the
 * missing segment at once, without waiting for the RTO). */
Test(tcp_timeouts, fast_retransmit_after_three_dup_acks)
{
    struct fx f;
    fx_up(&f, NULL);
    int h;
    uint32_t una = four_out(&f, &h);
    fx_ack_to(&f, una);
    fx_ack_to(&f, una);
    fx_expect_none(&f);
    fx_ack_to(&f, una);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, una, FX_ANY);
    cr_assert_eq(s.len, 536);
    cr_assert_eq(memcmp(s.data, pat, 536), 0);
    fx_down(&f);
}

/* RFC 5681 3.2: two duplicate ACKs are not enough (nothing new to send:
 * limited transmit, RFC 3042, has no new data here). */
Test(tcp_timeouts, no_fast_retransmit_after_two_dup_acks)
{
    struct fx f;
    fx_up(&f, NULL);
    int h;
    uint32_t una = four_out(&f, &h);
    fx_ack_to(&f, una);
    fx_ack_to(&f, una);
    fx_expect_none(&f);
    fx_down(&f);
}

/* RFC 5681 2 (a duplicate ACK carries no data and does not move the
 * window): segments carrying data are not counted as duplicates. */
Test(tcp_timeouts, acks_with_data_are_not_dup_acks)
{
    struct fx f;
    fx_up(&f, NULL);
    int h;
    uint32_t una = four_out(&f, &h);
    for (int i = 0; i < 3; i++) {
        fx_send_sa(&f, TCP_ACK | TCP_PSH, f.p_nxt, una, "d", 1);
        f.p_nxt++;
    }
    struct fx_seg s;
    while (fx_next(&f, &s))
        cr_assert(s.len == 0, "data sent (seq %u) on ACKs that carried data", s.seq);
    fx_down(&f);
}

/* RFC 5681 2 (a duplicate ACK needs data outstanding) and RFC 9293 3.8.6
 * (nothing beyond SND.UNA + SND.WND): with a 1000-byte window, the peer
 * acknowledging each new segment and repeating its ACK when nothing new
 * came, no segment ever ends beyond the window. */
Test(tcp_timeouts, repeated_acks_never_push_beyond_window)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_pattern(pat, sizeof(pat), 0);
    f.p_win = 1000;
    int h = fx_active(&f);
    cr_assert_eq(fx_write(&f, h, pat, 3000), 3000);
    uint32_t acked = f.t_iss + 1;
    struct fx_seg s;
    for (int round = 0; round < 12; round++) {
        while (fx_next(&f, &s))
            cr_assert(tcp_seq_le(tcp_seq(s.seq + s.len), tcp_seq(acked + 1000)),
                      "round %d: segment [%u, %u) beyond the window's end %u", round, s.seq,
                      s.seq + s.len, acked + 1000);
        if (f.p_rcv != acked)
            acked = f.p_rcv;
        fx_ack_to(&f, acked);
    }
    fx_down(&f);
}

/* RFC 6582 3.2 step 5 (NewReno: a partial ACK during fast recovery
 * retransmits the first unacknowledged segment at once): segments 1 and 3
 * of four lost; after the fast retransmit of 1, an ACK up to 3 brings 3
 * again without waiting for a timeout. */
Test(tcp_timeouts, newreno_partial_ack_retransmits_next_hole)
{
    struct fx f;
    fx_up(&f, NULL);
    int h;
    uint32_t una = four_out(&f, &h);
    for (int i = 0; i < 3; i++)
        fx_ack_to(&f, una);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, una, FX_ANY);
    fx_drain(&f);
    fx_ack_to(&f, una + 2 * 536); /* partial: 1 and 2 in, 3 still missing */
    cr_assert(fx_next(&f, &s), "nothing sent on a partial ACK in fast recovery");
    cr_assert_eq(s.seq, una + 2 * 536, "partial ACK answered with seq %u, want %u", s.seq,
                 una + 2 * 536);
    cr_assert_eq(s.len, 536);
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 9293 3.8.6.1 (zero window: probe with one octet of new data, MUST-36)
 * and the "zero-window probes carrying the next byte". */
Test(tcp_timeouts, zero_window_probe_carries_next_byte)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = warm(&f);
    uint32_t nxt = f.p_rcv;
    fx_ack_win(&f, nxt, 0);
    cr_assert_eq(fx_write(&f, h, pat, 100), 100);
    fx_expect_none(&f);
    struct fx_seg s;
    uint64_t t = fx_wait(&f, 3000, &s);
    cr_assert_geq(t, 100, "probe after %llu ms", (unsigned long long)t);
    cr_assert_eq(s.seq, nxt);
    cr_assert_eq(s.len, 1, "a zero-window probe of %u bytes", s.len);
    cr_assert_eq(s.data[0], pat[0]);
    fx_down(&f);
}

/* RFC 9293 3.8.6.1 (probes retransmitted with exponential backoff,
 * RFC 1122 4.2.2.17). */
Test(tcp_timeouts, zero_window_probes_back_off)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = warm(&f);
    uint32_t nxt = f.p_rcv;
    fx_ack_win(&f, nxt, 0);
    cr_assert_eq(fx_write(&f, h, pat, 100), 100);
    uint64_t gap[4];
    for (int i = 0; i < 4; i++) {
        gap[i] = fx_wait(&f, 30000, NULL);
        fx_ack_win(&f, nxt, 0); /* the probe's byte refused: window still 0 */
        fx_drain(&f);
    }
    for (int i = 1; i < 4; i++)
        cr_assert(gap[i] + 2 >= 2 * gap[i - 1] || gap[i] >= 60000,
                  "probe gap %llu after %llu: no backoff", (unsigned long long)gap[i],
                  (unsigned long long)gap[i - 1]);
    fx_down(&f);
}

/* RFC 1122 4.2.2.17 (MUST NOT close while probes are answered), RFC 9293
 * 3.8.6.1: a zero window held for many probes, each acknowledged, does not
 * end the connection, even past retries2. */
Test(tcp_timeouts, answered_probes_never_give_up)
{
    struct fx f;
    fx_up(&f, FX_P("retries2=3", "rto_max_ms=2000"));
    int h = warm(&f);
    uint32_t nxt = f.p_rcv;
    fx_ack_win(&f, nxt, 0);
    cr_assert_eq(fx_write(&f, h, pat, 100), 100);
    for (int i = 0; i < 10; i++) {
        fx_wait(&f, 10000, NULL);
        fx_ack_win(&f, nxt, 0);
        fx_drain(&f);
    }
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    fx_down(&f);
}

/* RFC 9293 3.8.6.1: when the window opens, the queued data goes. */
Test(tcp_timeouts, window_opening_resumes_sending)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = warm(&f);
    uint32_t nxt = f.p_rcv;
    fx_ack_win(&f, nxt, 0);
    cr_assert_eq(fx_write(&f, h, pat, 1000), 1000);
    fx_wait(&f, 3000, NULL);
    fx_ack_win(&f, f.p_rcv, 65535);
    uint8_t got[1000];
    uint32_t n = fx_collect(&f, got, sizeof(got), NULL);
    cr_assert_eq(f.p_rcv - nxt, 1000, "%u of 1000 bytes after the window opened", f.p_rcv - nxt);
    (void)n;
    fx_down(&f);
}

/* RFC 1122 4.2.3.6 (keepalive off by default): idle for hours, nothing. */
Test(tcp_timeouts, no_keepalive_by_default)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_active(&f);
    fx_ms(&f, 3 * 3600 * 1000ull);
    fx_expect_none(&f);
    fx_down(&f);
}

/* RFC 1122 4.2.3.6 (a keepalive probe after the idle time: SEG.SEQ =
 * SND.NXT-1, with zero or one garbage octet), SO_KEEPALIVE, TCP_KEEPIDLE. */
Test(tcp_timeouts, keepalive_probe_after_idle)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_KEEPIDLE, 10), 0);
    cr_assert_eq(fx_setopt(&f, h, LYRA_SO_KEEPALIVE, 1), 0);
    struct fx_seg s;
    fx_ms(&f, 9900);
    fx_expect_none(&f);
    uint64_t t = fx_wait(&f, 300, &s);
    (void)t;
    cr_assert_eq(s.flags & ~TCP_PSH, TCP_ACK);
    cr_assert_eq(s.seq, f.t_iss, "keepalive seq %u, want SND.NXT-1 = %u", s.seq, f.t_iss);
    cr_assert_eq(s.ack, f.p_iss + 1);
    cr_assert_leq(s.len, 1);
    fx_down(&f);
}

/* RFC 1122 4.2.3.6: an answered probe keeps the connection; the next
 * probe comes after another idle period. */
Test(tcp_timeouts, keepalive_answered_keeps_connection)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_KEEPIDLE, 10), 0);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_KEEPINTVL, 2), 0);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_KEEPCNT, 2), 0);
    cr_assert_eq(fx_setopt(&f, h, LYRA_SO_KEEPALIVE, 1), 0);
    for (int i = 0; i < 5; i++) {
        uint64_t t = fx_wait(&f, 20000, NULL);
        cr_assert(t >= 9900 && t <= 10100, "probe %d after %llu ms", i, (unsigned long long)t);
        fx_ack(&f);
        fx_expect_none(&f);
    }
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    fx_down(&f);
}

/* RFC 1122 4.2.3.6 with TCP_KEEPINTVL and TCP_KEEPCNT: unanswered probes
 * every interval, and after keep_cnt of them the connection is dropped
 * with ETIMEDOUT. */
Test(tcp_timeouts, keepalive_drops_after_keepcnt)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_KEEPIDLE, 10), 0);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_KEEPINTVL, 2), 0);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_KEEPCNT, 3), 0);
    cr_assert_eq(fx_setopt(&f, h, LYRA_SO_KEEPALIVE, 1), 0);
    struct fx_seg s;
    uint64_t t = fx_wait(&f, 20000, &s);
    cr_assert(t >= 9900 && t <= 10100);
    for (int i = 0; i < 2; i++) {
        t = fx_wait(&f, 5000, &s);
        cr_assert(t >= 1900 && t <= 2100, "probe interval %llu ms", (unsigned long long)t);
        cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    }
    fx_ms(&f, 2100);
    fx_drain(&f); /* a RST may go with the drop */
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR, "not dropped after 3 unanswered probes");
    cr_assert_eq(fx_soerror(&f, h), ETIMEDOUT);
    fx_down(&f);
}

/* keep_idle_s, keep_intvl_s, keep_cnt parameters as the defaults. */
Test(tcp_timeouts, keepalive_params_from_component)
{
    struct fx f;
    fx_up(&f, FX_P("keep_idle_s=5", "keep_intvl_s=1", "keep_cnt=1"));
    int h = fx_active(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_SO_KEEPALIVE, 1), 0);
    cr_assert_eq(fx_getopt(&f, h, LYRA_TCP_KEEPIDLE), 5);
    uint64_t t = fx_wait(&f, 10000, NULL);
    cr_assert(t >= 4900 && t <= 5100, "first probe after %llu ms", (unsigned long long)t);
    fx_ms(&f, 1100);
    fx_drain(&f);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR);
    fx_down(&f);
}

/* RFC 5482 (TCP_USER_TIMEOUT: data unacknowledged longer than the user
 * timeout aborts the connection, ETIMEDOUT), well before retries2. */
Test(tcp_timeouts, user_timeout_aborts)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = warm(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_USER_TIMEOUT, 3000), 0);
    cr_assert_eq(fx_getopt(&f, h, LYRA_TCP_USER_TIMEOUT), 3000);
    cr_assert_eq(fx_write(&f, h, pat, 100), 100);
    fx_drain(&f);
    fx_ms(&f, 2900);
    fx_drain(&f);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0, "aborted before the user timeout");
    uint64_t waited = 0;
    while (!(fx_poll(&f, h) & LYRA_POLL_ERR) && waited < 6000) {
        fx_ms(&f, 10);
        fx_drain(&f);
        waited += 10;
    }
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR, "not aborted 6 s after the 3 s user timeout");
    cr_assert_eq(fx_soerror(&f, h), ETIMEDOUT);
    fx_down(&f);
}

/* RFC 1122 4.2.3.5 (R2: give up, and tell the user): with retries2=3, three
 * retransmissions, then ETIMEDOUT and no more. */
Test(tcp_timeouts, retries2_gives_up_etimedout)
{
    struct fx f;
    fx_up(&f, FX_P("retries2=3"));
    int h = warm(&f);
    cr_assert_eq(fx_write(&f, h, pat, 100), 100);
    fx_drain(&f);
    struct fx_seg s;
    for (int i = 0; i < 3; i++) {
        fx_wait(&f, 20000, &s);
        cr_assert_eq(s.len, 100, "retransmission %d", i + 1);
        cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0, "gave up after %d retransmissions", i + 1);
    }
    uint64_t t = fx_wait_maybe(&f, 20000, &s);
    cr_assert(t == UINT64_MAX || (s.flags & TCP_RST), "a fourth retransmission with retries2=3");
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR);
    cr_assert_eq(fx_soerror(&f, h), ETIMEDOUT);
    fx_down(&f);
}

/* TCP_INFO (l4 1.2): RTT and RTO reported after samples of 100 ms. */
Test(tcp_timeouts, tcp_info_reports_rtt_and_rto)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = warm(&f);
    struct lyra_tcp_info ti;
    fx_info(&f, h, &ti);
    cr_assert_eq(ti.state, LYRA_TCPS_ESTABLISHED);
    cr_assert(ti.rtt >= 90000 && ti.rtt <= 110000, "rtt %u us after 100 ms samples", ti.rtt);
    cr_assert(ti.rto >= RTO_LO * 1000u && ti.rto <= RTO_HI * 1000u, "rto %u us", ti.rto);
    cr_assert_eq(ti.retransmits, 0);
    fx_down(&f);
}

/* RFC 9293 3.8.4 (MUST-28: the keepalive interval is configurable and at
 * least two hours by default): SO_KEEPALIVE alone probes after 7200 s. */
Test(tcp_timeouts, keepalive_default_idle_two_hours)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_SO_KEEPALIVE, 1), 0);
    fx_ms(&f, 7199ull * 1000);
    fx_expect_none(&f);
    uint64_t t = fx_wait(&f, 2000, NULL);
    (void)t;
    fx_down(&f);
}

/* RFC 9293 3.8.6 (MUST-34: the sender is robust against a window that
 * shrinks): the peer moves its right edge left below data in flight; tcp
 * sends nothing new beyond the new edge, and carries on once it reopens. */
Test(tcp_timeouts, shrinking_window_tolerated)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_pattern(pat, sizeof(pat), 0);
    f.p_win = 10000;
    int h = fx_active(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_NODELAY, 1), 0);
    cr_assert_eq(fx_write(&f, h, pat, 12000), 12000);
    fx_drain(&f);
    uint32_t una = f.t_iss + 1, sent = f.p_rcv;
    fx_ack_win(&f, una + 1000, 1000); /* edge at una + 2000, below what was sent */
    struct fx_seg s;
    while (fx_next(&f, &s))
        cr_assert(tcp_seq_le(tcp_seq(s.seq + s.len), tcp_seq(sent)),
                  "new data [%u, %u) sent past a shrunk window", s.seq, s.seq + s.len);
    fx_ack_win(&f, sent, 65535);
    uint32_t acked = sent;
    for (int t = 0; t < 3000 && f.p_rcv != f.t_iss + 12001; t += 10) {
        fx_drain(&f);
        if (f.p_rcv != acked) {
            acked = f.p_rcv;
            fx_ack(&f);
        }
        fx_ms(&f, 10);
    }
    cr_assert_eq(f.p_rcv, f.t_iss + 12001, "%u of 12000 bytes sent", f.p_rcv - (f.t_iss + 1));
    fx_down(&f);
}

/* RFC 9293 3.8.4 (MUST-26): keepalive probes only a connection with
 * nothing outstanding: while data waits for its ACK (the peer silent),
 * what goes out is retransmissions, never a probe (SEG.SEQ = SND.UNA-1). */
Test(tcp_timeouts, no_keepalive_probe_while_data_outstanding)
{
    struct fx f;
    fx_up(&f, FX_P("retries2=30", "rto_max_ms=2000"));
    int h = fx_active(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_KEEPIDLE, 1), 0);
    cr_assert_eq(fx_setopt(&f, h, LYRA_SO_KEEPALIVE, 1), 0);
    cr_assert_eq(fx_write(&f, h, "x", 1), 1);
    struct fx_seg s;
    unsigned data = 0;
    for (int k = 0; k < 40; k++) {
        fx_ms(&f, 100);
        while (fx_next(&f, &s)) {
            cr_assert_neq(s.seq, f.t_iss, "a keepalive probe while data is outstanding");
            data += s.len == 1;
        }
    }
    cr_assert_geq(data, 2, "the data was not retransmitted (%u)", data);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 / RFC 6298 5.4 (test_tcp_wire stalled on it): the RTO
 * resends from SND.UNA, and what it sends may reach beyond what was sent
 * before (a persist probe sent part of a queued skb; the window then grew,
 * but not enough for sender SWS avoidance to send more). Whatever the
 * retransmission carries, SND.MAX stays the highest sequence number sent,
 * and the pure ACK that follows carries it: one that carried an older one
 * was below the peer's RCV.NXT, unacceptable to it, while the peer's ACK of
 * those bytes acknowledged "unsent" data here; both sides dropped each
 * other's ACKs and backed off to a 20 s RTO. */
Test(tcp_timeouts, a_retransmission_never_leaves_snd_max_behind)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = warm(&f);
    uint32_t una = f.p_rcv;
    fx_ack_win(&f, una, 256);
    cr_assert_eq(fx_write(&f, h, pat, 1000), 1000);
    fx_expect_none(&f); /* sender SWS: 256 bytes of a window is too little */
    struct fx_seg s;
    fx_wait(&f, 2000, &s); /* the persist timer: what fits */
    cr_assert_eq(s.seq, una);
    cr_assert_eq(s.len, 256);
    fx_ack_win(&f, una, 640); /* nothing acknowledged, the window grows a little */
    fx_expect_none(&f);
    fx_wait(&f, 2000, &s);
    cr_assert_eq(s.seq, una, "the RTO resends from SND.UNA");
    cr_assert_eq(memcmp(s.data, pat, s.len), 0);
    uint32_t high = una + s.len;
    if (high < una + 256)
        high = una + 256;
    /* the peer has all of it, but its ACK is lost; it sends data */
    f.p_rcv = high;
    fx_send(&f, TCP_ACK | TCP_PSH, "xy", 2);
    fx_last(&f, 300, &s);
    cr_assert_geq(s.seq, high, "an ACK at %u, below the highest sequence sent %u (SND.MAX)",
                  s.seq - una, high - una);
    fx_down(&f);
}
