/* tcp state machine, black box: closing connections (RFC 9293 3.6).
 * FIN_WAIT_1/2, CLOSING, TIME_WAIT for time_wait_ms, CLOSE_WAIT/LAST_ACK,
 * simultaneous close, half close, close with unread data (RST), SO_LINGER 0,
 * TIME_WAIT reclaimed when the table is full. Fixture: tcp_fx.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tcp_fx.h"

/* The next segment within 200 ms (an ACK may be delayed) must be a bare
 * ACK with this seq and ack. */
static void expect_ack_soon(struct fx *f, uint32_t seq, uint32_t ack)
{
    struct fx_seg s;
    fx_wait(f, 200, &s);
    cr_assert_eq(s.flags & ~TCP_PSH, TCP_ACK, "flags 0x%x, expected ACK", s.flags);
    cr_assert_eq(s.seq, seq, "seq %u, expected %u", s.seq, seq);
    cr_assert_eq(s.ack, ack, "ack %u, expected %u", s.ack, ack);
}

/* Established (active open), then shutdown(SHUT_WR): the FIN is checked
 * and returned in fin. */
static int fin_wait_1(struct fx *f, struct fx_seg *fin)
{
    int h = fx_active(f);
    cr_assert_eq(fx_shutdown(f, h, 1), 0);
    fx_expect(f, fin, TCP_FIN | TCP_ACK, f->t_iss + 1, f->p_iss + 1);
    return h;
}

/* ... the peer acknowledges our FIN: FIN_WAIT_2. */
static int fin_wait_2(struct fx *f)
{
    int h = fin_wait_1(f, NULL);
    fx_ack(f);
    fx_expect_none(f);
    return h;
}

/* ... the peer's FIN: TIME_WAIT, our ACK of it checked. */
static int time_wait(struct fx *f)
{
    int h = fin_wait_2(f);
    fx_send(f, TCP_FIN | TCP_ACK, NULL, 0);
    expect_ack_soon(f, f->t_iss + 2, f->p_nxt);
    return h;
}

/* Passive close: the peer's FIN on an established connection, our ACK
 * (possibly delayed) read: CLOSE_WAIT. */
static int close_wait(struct fx *f)
{
    int h = fx_active(f);
    fx_send(f, TCP_FIN | TCP_ACK, NULL, 0);
    struct fx_seg s;
    fx_wait(f, 200, &s);
    cr_assert_eq(s.flags & ~TCP_PSH, TCP_ACK);
    cr_assert_eq(s.ack, f->p_iss + 2);
    return h;
}

/* RFC 9293 3.6 (CLOSE: FIN after the data, FIN-WAIT-1), 3.10.4. */
Test(tcp_close, shutdown_wr_sends_fin_fin_wait_1)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg fin;
    int h = fin_wait_1(&f, &fin);
    cr_assert_eq(fin.len, 0);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_FIN_WAIT_1);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (FIN-WAIT-1: our FIN acknowledged -> FIN-WAIT-2). */
Test(tcp_close, fin_acked_fin_wait_2)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fin_wait_2(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_FIN_WAIT_2);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (eighth, FIN-WAIT-2: the peer's FIN is acknowledged,
 * TIME-WAIT); the FIN counts one in the sequence space. */
Test(tcp_close, peer_fin_in_fin_wait_2_time_wait)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = time_wait(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_TIME_WAIT);
    char b[4];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 0, "no end of stream after the peer's FIN");
    fx_down(&f);
}

/* RFC 9293 3.6 (TIME-WAIT lasts 2 MSL, time_wait_ms), 3.10.8: at
 * time_wait_ms minus a little it still holds the connection (a stray ACK is
 * not reset), after it the connection is gone. */
Test(tcp_close, time_wait_lasts_time_wait_ms)
{
    struct fx f;
    fx_up(&f, FX_P("time_wait_ms=5000"));
    int h = time_wait(&f);
    fx_ms(&f, 4900);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_TIME_WAIT);
    fx_expect_none(&f);
    fx_ms(&f, 200);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    fx_expect_gone(&f);
    fx_down(&f);
}

/* RFC 9293 3.6: with the default time_wait_ms (60 s = 2 MSL). */
Test(tcp_close, time_wait_default_is_60_s)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = time_wait(&f);
    fx_ms(&f, 59900);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_TIME_WAIT);
    fx_ms(&f, 200);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (TIME-WAIT: a retransmitted FIN is acknowledged and the
 * 2 MSL timeout restarted). */
Test(tcp_close, time_wait_acks_fin_again_and_restarts)
{
    struct fx f;
    fx_up(&f, FX_P("time_wait_ms=5000"));
    int h = time_wait(&f);
    fx_ms(&f, 3000);
    fx_send_sa(&f, TCP_FIN | TCP_ACK, f.p_nxt - 1, f.t_iss + 2, NULL, 0);
    expect_ack_soon(&f, f.t_iss + 2, f.p_nxt);
    fx_ms(&f, 4000); /* 7 s: past the first deadline */
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_TIME_WAIT, "TIME-WAIT not restarted by the FIN");
    fx_ms(&f, 1100);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    fx_down(&f);
}

/* The same with the endpoint closed by the user: TIME-WAIT lingers in
 * tcp and ends on its own (RFC 9293 3.6). */
Test(tcp_close, time_wait_after_user_close_expires)
{
    struct fx f;
    fx_up(&f, FX_P("time_wait_ms=2000"));
    int h = time_wait(&f);
    fx_close(&f, h);
    fx_ms(&f, 1000);
    fx_send_sa(&f, TCP_FIN | TCP_ACK, f.p_nxt - 1, f.t_iss + 2, NULL, 0);
    expect_ack_soon(&f, f.t_iss + 2, f.p_nxt);
    fx_ms(&f, 2100);
    fx_expect_gone(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.4 (CLOSE in ESTABLISHED: FIN once the queued data is
 * sent): close of an established idle connection sends FIN. */
Test(tcp_close, close_sends_fin)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_close(&f, h);
    fx_expect(&f, NULL, TCP_FIN | TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    fx_down(&f);
}

/* RFC 9293 3.10.4 ("queue this until all preceding SENDs have been
 * segmentized"): data written before close goes first; the FIN follows the
 * last byte. */
Test(tcp_close, fin_follows_queued_data)
{
    struct fx f;
    fx_up(&f, NULL);
    f.p_win = 1000;
    int h = fx_active(&f);
    uint8_t b[3000];
    fx_pattern(b, sizeof(b), 0);
    cr_assert_eq(fx_write(&f, h, b, 3000), 3000);
    fx_close(&f, h);
    struct fx_seg s;
    bool fin = false;
    uint32_t acked = f.t_iss + 1;
    for (int t = 0; t < 2000 && !fin; t += 10) {
        while (fx_next(&f, &s)) {
            if (s.flags & TCP_FIN) {
                cr_assert_eq(s.seq + s.len, f.t_iss + 1 + 3000, "FIN not after the last byte");
                fin = true;
            }
        }
        if (f.p_rcv != acked) {
            acked = f.p_rcv;
            fx_ack(&f);
        }
        fx_ms(&f, 10);
    }
    cr_assert(fin, "no FIN within 2 s (%u of 3000 bytes sent)", f.p_rcv - (f.t_iss + 1));
    fx_down(&f);
}

/* RFC 6298 5.4 for the FIN (it occupies sequence space and is
 * retransmitted): unacknowledged, it goes again with the same seq. */
Test(tcp_close, fin_retransmitted_in_fin_wait_1)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg fin, s;
    fin_wait_1(&f, &fin);
    fx_wait(&f, 2000, &s);
    cr_assert(s.flags & TCP_FIN);
    cr_assert_eq(s.seq, fin.seq);
    fx_down(&f);
}

/* l3 2.0 (output may refuse; tx_ready says when to try again) for the
 * FIN: a retransmission of it that ip refused goes as soon as ip takes
 * segments again, not at the next, backed-off timeout, though the send
 * queue holds nothing unsent (the RTO rewound snd_nxt to the FIN). */
Test(tcp_close, refused_fin_retransmission_goes_at_tx_ready)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg fin, s;
    fin_wait_1(&f, &fin);
    f.cfg->output_err = -EAGAIN;
    fx_wait(&f, 2000, &s); /* the timer's retransmission, refused */
    cr_assert(s.flags & TCP_FIN);
    fx_drain(&f);
    f.cfg->output_err = 0;
    fake_l3_tx_ready(f.fl);
    fx_run(&f);
    cr_assert(fx_next(&f, &s), "the FIN did not go when ip took segments again");
    cr_assert(s.flags & TCP_FIN);
    cr_assert_eq(s.seq, fin.seq);
    fx_down(&f);
}

/* RFC 9293 3.5 figure 13 (simultaneous close): in FIN-WAIT-1 the peer's FIN
 * that does not acknowledge ours is ACKed and the state is CLOSING; the ACK
 * of our FIN then brings TIME-WAIT. */
Test(tcp_close, simultaneous_close_closing_then_time_wait)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fin_wait_1(&f, NULL);
    fx_send_sa(&f, TCP_FIN | TCP_ACK, f.p_nxt, f.t_iss + 1, NULL, 0);
    f.p_nxt++;
    expect_ack_soon(&f, f.t_iss + 2, f.p_iss + 2);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSING);
    fx_ack_to(&f, f.t_iss + 2);
    fx_expect_none(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_TIME_WAIT);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (FIN-WAIT-1: a FIN that also acknowledges our FIN goes
 * to TIME-WAIT directly). */
Test(tcp_close, fin_acking_our_fin_goes_to_time_wait)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fin_wait_1(&f, NULL);
    fx_send(&f, TCP_FIN | TCP_ACK, NULL, 0);
    expect_ack_soon(&f, f.t_iss + 2, f.p_iss + 2);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_TIME_WAIT);
    fx_down(&f);
}

/* RFC 6298 5.4 in CLOSING: our unacknowledged FIN is retransmitted. */
Test(tcp_close, fin_retransmitted_in_closing)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg fin, s;
    fin_wait_1(&f, &fin);
    fx_send_sa(&f, TCP_FIN | TCP_ACK, f.p_nxt, f.t_iss + 1, NULL, 0);
    f.p_nxt++;
    fx_drain(&f);
    fx_wait(&f, 3000, &s);
    cr_assert(s.flags & TCP_FIN);
    cr_assert_eq(s.seq, fin.seq);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (eighth, ESTABLISHED: FIN -> CLOSE-WAIT, "connection
 * closing" to the user): recv reports the end of the stream and poll says
 * RDHUP. */
Test(tcp_close, peer_fin_close_wait_eof)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = close_wait(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSE_WAIT);
    unsigned p = fx_poll(&f, h);
    cr_assert(p & LYRA_POLL_IN);
    cr_assert(p & LYRA_POLL_RDHUP);
    cr_assert(f.ready_what[h + 1] & (LYRA_POLL_IN | LYRA_POLL_RDHUP));
    char b[4];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 0);
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 0);
    fx_down(&f);
}

/* RFC 9293 3.6 (half close): in CLOSE-WAIT we may still send. */
Test(tcp_close, send_in_close_wait)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = close_wait(&f);
    cr_assert_eq(fx_write(&f, h, "late", 4), 4);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 2);
    cr_assert_eq(s.len, 4);
    fx_down(&f);
}

/* RFC 9293 3.10.4 (CLOSE in CLOSE-WAIT: FIN, LAST-ACK), 3.10.7.4 (LAST-ACK:
 * the ACK of our FIN -> CLOSED, the TCB deleted). */
Test(tcp_close, close_wait_to_last_ack_to_closed)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = close_wait(&f);
    cr_assert_eq(fx_shutdown(&f, h, 1), 0);
    fx_expect(&f, NULL, TCP_FIN | TCP_ACK, f.t_iss + 1, f.p_iss + 2);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_LAST_ACK);
    fx_ack(&f);
    fx_expect_none(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    fx_expect_gone(&f);
    fx_down(&f);
}

/* The same through close(): the connection goes without TIME-WAIT. */
Test(tcp_close, close_in_close_wait_no_time_wait)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = close_wait(&f);
    fx_close(&f, h);
    fx_expect(&f, NULL, TCP_FIN | TCP_ACK, f.t_iss + 1, f.p_iss + 2);
    fx_ack(&f);
    fx_expect_none(&f);
    fx_expect_gone(&f);
    fx_down(&f);
}

/* RFC 6298 5.4 in LAST-ACK: the FIN is retransmitted until acknowledged. */
Test(tcp_close, fin_retransmitted_in_last_ack)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = close_wait(&f);
    struct fx_seg fin, s;
    fx_close(&f, h);
    fx_expect(&f, &fin, TCP_FIN | TCP_ACK, f.t_iss + 1, f.p_iss + 2);
    fx_wait(&f, 3000, &s);
    cr_assert(s.flags & TCP_FIN);
    cr_assert_eq(s.seq, fin.seq);
    fx_down(&f);
}

/* RFC 9293 3.6 (half close: after our FIN we still receive): in
 * FIN-WAIT-2 the peer's data is delivered and acknowledged. */
Test(tcp_close, fin_wait_2_still_receives)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fin_wait_2(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, "more", 4);
    char b[8];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 4);
    cr_assert_eq(memcmp(b, "more", 4), 0);
    struct fx_seg s;
    fx_wait(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 5);
    fx_down(&f);
}

/* RFC 9293 3.10.2 (SEND after CLOSE: "connection closing"), l4: -EPIPE. */
Test(tcp_close, send_after_shutdown_wr_epipe)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fin_wait_1(&f, NULL);
    cr_assert_eq(fx_write(&f, h, "x", 1), -EPIPE);
    fx_expect_none(&f);
    fx_down(&f);
}

/* RFC 1122 4.2.2.13 (a CLOSE with received data pending SHOULD send RST),
 * RFC 2525 2.17: RST <SEQ=SND.NXT>, no FIN, the connection gone. */
Test(tcp_close, close_with_unread_data_sends_rst)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, "unread", 6);
    fx_drain(&f);
    fx_close(&f, h);
    struct fx_seg s;
    cr_assert(fx_next(&f, &s), "nothing sent on close");
    cr_assert(s.flags & TCP_RST, "close with unread data sent flags 0x%x, not RST", s.flags);
    cr_assert_eq(s.flags & TCP_FIN, 0);
    cr_assert_eq(s.seq, f.t_iss + 1);
    fx_expect_none(&f);
    fx_expect_gone(&f);
    fx_down(&f);
}

/* RFC 1122 4.2.2.13 (new data received after CLOSE: RST). */
Test(tcp_close, data_after_close_gets_rst)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_close(&f, h);
    fx_expect(&f, NULL, TCP_FIN | TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    fx_ack(&f); /* FIN-WAIT-2 */
    fx_send(&f, TCP_ACK | TCP_PSH, "late", 4);
    struct fx_seg s;
    cr_assert(fx_next(&f, &s), "nothing sent for data after close");
    cr_assert(s.flags & TCP_RST);
    cr_assert_eq(s.seq, f.t_iss + 2);
    fx_down(&f);
}

/* SO_LINGER 0 (l4 1.1: close aborts, RFC 9293 3.10.5 ABORT): close sends
 * RST <SEQ=SND.NXT> and no FIN; the connection is gone. */
Test(tcp_close, linger_zero_close_aborts_with_rst)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_SO_LINGER, 0), 0);
    fx_close(&f, h);
    struct fx_seg s;
    cr_assert(fx_next(&f, &s), "nothing sent on abort");
    cr_assert(s.flags & TCP_RST);
    cr_assert_eq(s.flags & TCP_FIN, 0);
    cr_assert_eq(s.seq, f.t_iss + 1);
    fx_expect_none(&f);
    fx_expect_gone(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.5 (ABORT: queued SENDs are flushed): with data unsent
 * (the peer's window closed) the abort sends only the RST, at SND.NXT. */
Test(tcp_close, linger_zero_discards_unsent_data)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_ack_win(&f, f.t_iss + 1, 0);
    cr_assert_eq(fx_write(&f, h, "queued", 6), 6);
    fx_expect_none(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_SO_LINGER, 0), 0);
    fx_close(&f, h);
    struct fx_seg s;
    cr_assert(fx_next(&f, &s));
    cr_assert(s.flags & TCP_RST);
    cr_assert_eq(s.len, 0);
    cr_assert_eq(s.seq, f.t_iss + 1);
    fx_expect_none(&f);
    cr_assert_eq(fx_wait_maybe(&f, 5000, NULL), UINT64_MAX);
    fx_down(&f);
}

/* max_conns (the contract: the oldest TIME_WAIT entry is reclaimed when
 * the table is full; issue 10.1): with max_conns=2, one connection in
 * TIME-WAIT and one open endpoint, a third endpoint still opens and
 * connects, and the TIME-WAIT connection is gone. */
Test(tcp_close, time_wait_reclaimed_when_table_full)
{
    struct fx f;
    fx_up(&f, FX_P("max_conns=2"));
    int h = time_wait(&f);
    fx_close(&f, h);
    uint16_t tw_lport = f.lport;
    uint32_t tw_nxt = f.p_nxt, tw_rcv = f.p_rcv;
    int b = fx_open(&f);
    struct lyra_sockaddr4 a = {.addr = FX_PEER2, .port = 82};
    cr_assert_eq(f.l4->connect(f.t, b, &a), -EINPROGRESS);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_SYN, FX_ANY, FX_ANY);
    int c = f.l4->open(f.t);
    cr_assert_geq(c, 0, "open with the table full of TIME-WAIT: %d", c);
    a.port = 81;
    cr_assert_eq(f.l4->connect(f.t, c, &a), -EINPROGRESS,
                 "connect with the table full of TIME-WAIT");
    fx_expect(&f, &s, TCP_SYN, FX_ANY, FX_ANY);
    cr_assert_eq(s.dst, FX_PEER2);
    cr_assert_eq(s.r.dport, 81);
    /* the TIME-WAIT connection is gone: its tuple answers RST */
    f.lport = tw_lport;
    f.p_nxt = tw_nxt;
    f.p_rcv = tw_rcv;
    f.pport = FX_RPORT;
    fx_expect_gone(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (seventh then eighth: text, then the FIN): data and FIN
 * in one segment: the data is delivered, then the end of the stream. */
Test(tcp_close, data_with_fin_delivered_then_eof)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    fx_send(&f, TCP_ACK | TCP_PSH | TCP_FIN, "bye", 3);
    struct fx_seg s;
    fx_wait(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 5);
    char b[8];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 3);
    cr_assert_eq(memcmp(b, "bye", 3), 0);
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 0);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (eighth: a FIN is processed only once everything before
 * it has arrived): a FIN beyond a hole does not end the stream until the
 * hole is filled; it is held, so the segment that fills the hole ends the
 * stream and its ACK covers the FIN (no retransmission of the FIN needed). */
Test(tcp_close, fin_after_hole_waits_for_data)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    uint8_t d[200];
    fx_pattern(d, sizeof(d), 0);
    fx_send_sa(&f, TCP_ACK | TCP_FIN, f.p_iss + 101, f.p_rcv, d + 100, 100);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    char b[300];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), -EAGAIN);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_RDHUP, 0);
    fx_send_sa(&f, TCP_ACK, f.p_iss + 1, f.p_rcv, d, 100);
    struct fx_seg s;
    fx_last(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 202, "the held FIN is acknowledged with the data before it");
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSE_WAIT);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_RDHUP);
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 200);
    cr_assert_eq(memcmp(b, d, 200), 0);
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 0);
    fx_down(&f);
}

/* A held FIN waits for every hole before it: the first of two holes
 * filled does not end the stream, the second does; a FIN alone (no data)
 * beyond a hole is held too. */
Test(tcp_close, held_fin_waits_for_every_hole)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    uint8_t d[300];
    fx_pattern(d, sizeof(d), 0);
    fx_send_sa(&f, TCP_ACK, f.p_iss + 101, f.p_rcv, d + 100, 100);
    fx_send_sa(&f, TCP_ACK | TCP_FIN, f.p_iss + 301, f.p_rcv, NULL, 0); /* FIN alone at 300 */
    fx_send_sa(&f, TCP_ACK, f.p_iss + 1, f.p_rcv, d, 100);             /* first hole */
    struct fx_seg s;
    fx_last(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 201, "a hole is left: the FIN waits");
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    fx_send_sa(&f, TCP_ACK, f.p_iss + 201, f.p_rcv, d + 200, 100); /* second hole */
    fx_last(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 302);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSE_WAIT);
    char b[400];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 300);
    cr_assert_eq(memcmp(b, d, 300), 0);
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 0);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (both directions closed): poll reports HUP once our FIN
 * is acknowledged and the peer's has arrived. */
Test(tcp_close, poll_hup_when_both_sides_closed)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fin_wait_2(&f);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_HUP, 0);
    fx_send(&f, TCP_FIN | TCP_ACK, NULL, 0);
    fx_drain(&f);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_HUP);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (CLOSING: an ACK of something other than our FIN does
 * not end it; only the ACK of the FIN brings TIME-WAIT). */
Test(tcp_close, closing_ignores_ack_below_fin)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fin_wait_1(&f, NULL);
    fx_send_sa(&f, TCP_FIN | TCP_ACK, f.p_nxt, f.t_iss + 1, NULL, 0);
    f.p_nxt++;
    fx_drain(&f);
    fx_ack_to(&f, f.t_iss + 1);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSING);
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 9293 3.6, passive side: the listener's connection closed by the peer
 * first, then by us, ends in CLOSED with no TIME-WAIT (the side that sends
 * the first FIN holds TIME-WAIT). */
Test(tcp_close, passive_side_last_ack_then_closed)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    fx_send(&f, TCP_FIN | TCP_ACK, NULL, 0);
    fx_wait(&f, 200, NULL);
    cr_assert_eq(fx_shutdown(&f, h, 1), 0);
    fx_expect(&f, NULL, TCP_FIN | TCP_ACK, f.t_iss + 1, f.p_iss + 2);
    fx_ack(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    fx_down(&f);
}

/* l4 shutdown (how 0, SHUT_RD, BSD): after shutting the read side recv
 * reports the end of the stream, and nothing is sent for it (RFC 9293 has
 * no half-close of the receive side on the wire). */
Test(tcp_close, shutdown_rd_recv_returns_eof)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_shutdown(&f, h, 0), 0);
    fx_expect_none(&f);
    char b[4];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 0);
    cr_assert_eq(fx_write(&f, h, "still", 5), 5, "the write side closed by SHUT_RD");
    fx_drain(&f);
    fx_down(&f);
}

/* l4 shutdown (how 2, SHUT_RDWR) closes our side: FIN (RFC 9293 3.10.4). */
Test(tcp_close, shutdown_rdwr_sends_fin)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_shutdown(&f, h, 2), 0);
    fx_expect(&f, NULL, TCP_FIN | TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_FIN_WAIT_1);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (SYN-RECEIVED: the ACK of our SYN-ACK establishes the
 * connection, then the FIN on the same segment moves it to CLOSE-WAIT):
 * the connection is still accepted and reads as ended. */
Test(tcp_close, fin_on_handshake_ack_accepted_then_eof)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    fx_syn(&f, NULL);
    fx_send(&f, TCP_FIN | TCP_ACK, NULL, 0);
    struct fx_seg s;
    fx_last(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 2);
    struct lyra_sockaddr4 pa;
    int h = f.l4->accept(f.t, l, &pa);
    cr_assert_geq(h, 0, "a connection closed by the peer at once was not accepted: %d", h);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSE_WAIT);
    char b[4];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 0);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (seventh, CLOSE-WAIT and later: "This should not occur,
 * since a FIN has been received from the remote side. Ignore the segment
 * text."): data after the peer's FIN is not delivered. */
Test(tcp_close, data_after_peer_fin_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = close_wait(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, "ghost", 5);
    fx_drain(&f);
    char b[8];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 0, "data after the FIN was delivered");
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSE_WAIT);
    fx_down(&f);
}

/* RFC 9293 3.10.4 (CLOSE in CLOSED/unconnected: nothing to send) and the
 * table (max_conns): closing an endpoint that never connected frees its
 * slot at once. */
Test(tcp_close, close_unconnected_frees_slot)
{
    struct fx f;
    fx_up(&f, FX_P("max_conns=1"));
    int h = fx_open(&f);
    cr_assert_eq(f.l4->open(f.t), -ENOBUFS);
    fx_close(&f, h);
    fx_expect_none(&f);
    cr_assert_geq(f.l4->open(f.t), 0, "the slot of a closed unconnected endpoint is still held");
    fx_down(&f);
}

/* RFC 9293 3.10.4 (CLOSE in LISTEN: delete the TCB): a handshake under way
 * on a listener that closes does not become a connection nobody can
 * accept; the peer's ACK is answered with RST. */
Test(tcp_close, listener_close_drops_half_open)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    fx_syn(&f, NULL);
    fx_close(&f, l);
    fx_drain(&f);
    fx_send(&f, TCP_ACK, NULL, 0);
    struct fx_seg s;
    cr_assert(fx_next(&f, &s), "the ACK to a closed listener's handshake got no answer");
    cr_assert(s.flags & TCP_RST);
    fx_down(&f);
}

/* The same for a connection established but not yet accepted (BSD, Linux:
 * closing the listener resets its queue): the peer learns with a RST. */
Test(tcp_close, listener_close_resets_unaccepted)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    fx_syn(&f, NULL);
    fx_ack(&f);
    cr_assert(fx_poll(&f, l) & LYRA_POLL_IN);
    fx_close(&f, l);
    struct fx_seg s;
    bool rst = false;
    while (fx_next(&f, &s))
        rst |= (s.flags & TCP_RST) != 0;
    if (!rst) {
        fx_send(&f, TCP_ACK | TCP_PSH, "x", 1);
        while (fx_next(&f, &s))
            rst |= (s.flags & TCP_RST) != 0;
    }
    cr_assert(rst, "an unaccepted connection outlived its listener");
    fx_down(&f);
}

/* RFC 9293 3.10.4 (CLOSE in SYN-RECEIVED: the FIN waits for ESTABLISHED):
 * SHUT_WR during a simultaneous open leaves the SYN-ACK to be sent again
 * as it was, and the FIN then goes at ISS+1, after the SYN, once (found
 * by fuzz_tcp_input: the FIN took the SYN's sequence number). */
Test(tcp_close, shutdown_in_syn_received_sends_fin_after_the_syn)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    f.p_nxt = f.p_iss;
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1460};
    fx_send_opt(&f, TCP_SYN, f.p_nxt++, 0, NULL, 0, &o);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_SYN | TCP_ACK, f.t_iss, f.p_iss + 1);
    cr_assert_eq(fx_shutdown(&f, h, 1), 0);
    fx_expect_none(&f);
    fx_wait(&f, 5000, &s);
    cr_assert_eq(s.flags & ~TCP_PSH, TCP_SYN | TCP_ACK, "the SYN-ACK again, not a FIN");
    cr_assert_eq(s.seq, f.t_iss);
    fx_ack_to(&f, f.t_iss + 1);
    fx_expect(&f, &s, TCP_FIN | TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_FIN_WAIT_1);
    fx_expect_none(&f);
    fx_down(&f);
}
