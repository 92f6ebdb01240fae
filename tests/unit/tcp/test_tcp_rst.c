/* tcp state machine, black box: resets (RFC 9293 3.5.2, 3.5.3, 3.10.7).
 * Segments to closed ports get a RST with the right seq/ack; RSTs are
 * accepted in the window and ignored outside it, in every state; listeners;
 * never a RST in reply to a RST. Fixture: tcp_fx.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tcp_fx.h"

/* A segment to a port nobody listens on. */
static void to_closed(struct fx *f, uint8_t flags, uint32_t seq, uint32_t ack, const void *d,
                      uint32_t n)
{
    struct fx_tx t = {.sport = 41000, .dport = 81, .seq = seq, .ack = ack, .flags = flags,
                      .win = 8192, .data = d, .len = n};
    fx_tx(f, &t);
}

/* The RST must go back to the sender's address and port. */
static void expect_rst_to_sender(struct fx *f, struct fx_seg *s, unsigned flags, uint32_t seq,
                                 long long ack)
{
    fx_expect(f, s, flags, seq, ack);
    cr_assert_eq(s->dst, FX_PEER);
    cr_assert_eq(s->r.sport, 81);
    cr_assert_eq(s->r.dport, 41000);
    cr_assert_eq(s->len, 0);
}

/* RFC 9293 3.10.7.1 (CLOSED: a segment without ACK gets
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; the SYN counts one). */
Test(tcp_rst, closed_port_syn_gets_rst_ack)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg s;
    to_closed(&f, TCP_SYN, 1000, 0, NULL, 0);
    expect_rst_to_sender(&f, &s, TCP_RST | TCP_ACK, 0, 1001);
    fx_expect_none(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.1 (CLOSED: a segment with ACK gets <SEQ=SEG.ACK><CTL=RST>). */
Test(tcp_rst, closed_port_ack_gets_rst_seq_ack)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg s;
    to_closed(&f, TCP_ACK, 1000, 777777, NULL, 0);
    expect_rst_to_sender(&f, &s, TCP_RST, 777777, FX_ANY);
    fx_down(&f);
}

/* RFC 9293 3.10.7.1: SEG.LEN counts the data (no ACK: ack = seq + len). */
Test(tcp_rst, closed_port_data_without_ack)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg s;
    to_closed(&f, TCP_PSH, 5000, 0, "0123456789", 10);
    expect_rst_to_sender(&f, &s, TCP_RST | TCP_ACK, 0, 5010);
    fx_down(&f);
}

/* RFC 9293 3.10.7.1: SEG.LEN counts the FIN. */
Test(tcp_rst, closed_port_fin_without_ack)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg s;
    to_closed(&f, TCP_FIN, 5000, 0, NULL, 0);
    expect_rst_to_sender(&f, &s, TCP_RST | TCP_ACK, 0, 5001);
    fx_down(&f);
}

/* RFC 9293 3.10.7.1: a SYN carrying data: SYN plus the data. */
Test(tcp_rst, closed_port_syn_with_data)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg s;
    to_closed(&f, TCP_SYN, 0xfffffff0u, 0, "abcde", 5);
    expect_rst_to_sender(&f, &s, TCP_RST | TCP_ACK, 0, 0xfffffff6u);
    fx_down(&f);
}

/* RFC 9293 3.10.7.1: data with ACK: <SEQ=SEG.ACK><CTL=RST>. */
Test(tcp_rst, closed_port_data_with_ack)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg s;
    to_closed(&f, TCP_ACK | TCP_PSH, 5000, 12345, "xyz", 3);
    expect_rst_to_sender(&f, &s, TCP_RST, 12345, FX_ANY);
    fx_down(&f);
}

/* RFC 9293 3.10.7.1 ("an incoming segment containing a RST is discarded"),
 * 3.5.2: never a RST in reply to a RST. */
Test(tcp_rst, closed_port_rst_not_answered)
{
    struct fx f;
    fx_up(&f, NULL);
    to_closed(&f, TCP_RST, 5000, 0, NULL, 0);
    to_closed(&f, TCP_RST | TCP_ACK, 5000, 99, NULL, 0);
    fx_expect_none(&f);
    fx_down(&f);
}

/* RFC 9293 3.1 (a bad checksum drops the segment before anything else):
 * no RST for a corrupted segment to a closed port. */
Test(tcp_rst, closed_port_bad_checksum_not_answered)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_tx t = {.sport = 41000, .dport = 81, .seq = 1, .flags = TCP_SYN, .win = 100,
                      .bad_csum = true};
    fx_tx(&f, &t);
    fx_expect_none(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.1: a listener on another port does not change the answer
 * for a port with none. */
Test(tcp_rst, syn_to_other_port_than_listener_reset)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_listen(&f, FX_LPORT, 8);
    struct fx_seg s;
    to_closed(&f, TCP_SYN, 1, 0, NULL, 0);
    expect_rst_to_sender(&f, &s, TCP_RST | TCP_ACK, 0, 2);
    fx_down(&f);
}

/* RFC 9293 3.10.7.2 (LISTEN: "an incoming RST should be ignored"). */
Test(tcp_rst, listener_ignores_rst)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    fx_send_sa(&f, TCP_RST, 1234, 0, NULL, 0);
    fx_send_sa(&f, TCP_RST | TCP_ACK, 1234, 5678, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_poll(&f, l) & LYRA_POLL_ERR, 0);
    fx_syn(&f, NULL);
    fx_down(&f);
}

/* RFC 9293 3.10.7.2 (LISTEN: any ACK is bad: <SEQ=SEG.ACK><CTL=RST>). */
Test(tcp_rst, listener_answers_ack_with_rst)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_listen(&f, FX_LPORT, 8);
    fx_send_sa(&f, TCP_ACK, 1234, 424242, NULL, 0);
    fx_expect(&f, NULL, TCP_RST, 424242, FX_ANY);
    fx_down(&f);
}

/* RFC 9293 3.10.7.2: a SYN-ACK to a listener carries an ACK: RST
 * <SEQ=SEG.ACK>, no connection. */
Test(tcp_rst, listener_answers_synack_with_rst)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    fx_send_sa(&f, TCP_SYN | TCP_ACK, 1234, 99, NULL, 0);
    fx_expect(&f, NULL, TCP_RST, 99, FX_ANY);
    fx_expect_none(&f);
    cr_assert_eq(fx_poll(&f, l) & LYRA_POLL_IN, 0);
    fx_down(&f);
}

/* RFC 9293 3.10.7.2 (LISTEN, fourth: a segment with neither SYN, RST nor
 * ACK is dropped): bare data or a bare FIN get no answer. */
Test(tcp_rst, listener_drops_segment_without_syn_or_ack)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_listen(&f, FX_LPORT, 8);
    fx_send_sa(&f, TCP_PSH, 1234, 0, "data", 4);
    fx_send_sa(&f, TCP_FIN, 1234, 0, NULL, 0);
    fx_expect_none(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.3 (SYN-SENT, RST with an acceptable ACK: CLOSED); the
 * tuple then belongs to nobody. */
Test(tcp_rst, syn_sent_rst_closes)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    fx_send_sa(&f, TCP_RST | TCP_ACK, 0, f.t_iss + 1, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    f.p_nxt = 5;
    fx_expect_gone(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (second, SYN-RECEIVED from a passive OPEN: a RST in
 * the window returns the connection to LISTEN): nothing to accept, the
 * connection gone, the listener still answering SYNs. */
Test(tcp_rst, syn_received_rst_back_to_listen)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    fx_syn(&f, NULL);
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    fx_expect_none(&f);
    struct lyra_sockaddr4 pa;
    cr_assert_eq(f.l4->accept(f.t, l, &pa), -EAGAIN);
    fx_expect_gone(&f);
    fx_syn(&f, NULL);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (second: a RST outside the window is silently
 * dropped): in SYN-RECEIVED the handshake still completes. */
Test(tcp_rst, syn_received_rst_out_of_window_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    fx_syn(&f, NULL);
    fx_send_sa(&f, TCP_RST, f.p_nxt + 200000, 0, NULL, 0);
    fx_expect_none(&f);
    fx_ack(&f);
    cr_assert(fx_poll(&f, l) & LYRA_POLL_IN);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (second, ESTABLISHED: a RST at RCV.NXT resets: the
 * user gets "connection reset", ECONNRESET; CLOSED), and nothing answers
 * it (3.5.2). */
Test(tcp_rst, established_rst_at_rcv_nxt_resets)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    fx_expect_none(&f);
    unsigned p = fx_poll(&f, h);
    cr_assert(p & LYRA_POLL_ERR, "poll 0x%x after RST", p);
    cr_assert(p & LYRA_POLL_HUP, "poll 0x%x after RST", p);
    cr_assert(f.ready_what[h + 1] & LYRA_POLL_ERR);
    cr_assert_eq(fx_soerror(&f, h), ECONNRESET);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    cr_assert_lt(fx_write(&f, h, "x", 1), 0);
    fx_expect_none(&f);
    fx_expect_gone(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4: a RST carrying ACK and data at RCV.NXT resets too. */
Test(tcp_rst, established_rst_ack_resets)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    fx_send_sa(&f, TCP_RST | TCP_ACK, f.p_nxt, f.t_iss + 1, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_soerror(&f, h), ECONNRESET);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (second, 1: a RST beyond the window is silently
 * dropped); the connection carries on. */
Test(tcp_rst, established_rst_beyond_window_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_send_sa(&f, TCP_RST, f.p_nxt + 1000000, 0, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    fx_send(&f, TCP_ACK | TCP_PSH, "ok", 2);
    char b[4];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 2);
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (second, 1): a RST before RCV.NXT (old) is dropped. */
Test(tcp_rst, established_rst_before_rcv_nxt_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, "0123456789", 10);
    fx_send_sa(&f, TCP_RST, f.p_nxt - 5, 0, NULL, 0);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (fourth, SYN in a synchronized state): RFC 5961 4.2's
 * challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT> (RFC 793 would reset): the SYN
 * opens nothing new and the connection stays up. */
Test(tcp_rst, syn_in_established_challenged)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1460};
    fx_send_opt(&f, TCP_SYN, f.p_nxt + 10, 0, NULL, 0, &o);
    struct fx_seg s;
    cr_assert(fx_next(&f, &s), "a SYN in ESTABLISHED got no answer");
    cr_assert_eq(s.flags & ~TCP_PSH, TCP_ACK, "not a challenge ACK: flags %#x", s.flags);
    cr_assert_eq(s.seq, f.t_iss + 1);
    cr_assert_eq(s.ack, f.p_iss + 1);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (second: in FIN-WAIT-1 a RST at RCV.NXT resets,
 * CLOSED). */
Test(tcp_rst, fin_wait_1_rst_closes)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_shutdown(&f, h, 1);
    fx_drain(&f);
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    cr_assert_eq(fx_soerror(&f, h), ECONNRESET);
    fx_expect_gone(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (second: FIN-WAIT-2). */
Test(tcp_rst, fin_wait_2_rst_closes)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_shutdown(&f, h, 1);
    fx_drain(&f);
    fx_ack(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_FIN_WAIT_2);
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    fx_expect_gone(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (second: CLOSE-WAIT: "reset" to the user, ECONNRESET or,
 * as Linux says it for a peer that had already closed, EPIPE). */
Test(tcp_rst, close_wait_rst_closes)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_send(&f, TCP_FIN | TCP_ACK, NULL, 0);
    fx_wait(&f, 200, NULL);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSE_WAIT);
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    int e = fx_soerror(&f, h);
    cr_assert(e == ECONNRESET || e == EPIPE, "SO_ERROR %d after RST in CLOSE-WAIT", e);
    fx_expect_gone(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (second: CLOSING: CLOSED, TCB deleted). */
Test(tcp_rst, closing_rst_closes)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_shutdown(&f, h, 1);
    fx_drain(&f);
    fx_send_sa(&f, TCP_FIN | TCP_ACK, f.p_nxt, f.t_iss + 1, NULL, 0);
    f.p_nxt++;
    fx_wait(&f, 200, NULL);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSING);
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    fx_expect_gone(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (second: LAST-ACK: CLOSED, TCB deleted). */
Test(tcp_rst, last_ack_rst_closes)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_send(&f, TCP_FIN | TCP_ACK, NULL, 0);
    fx_wait(&f, 200, NULL);
    fx_shutdown(&f, h, 1);
    fx_drain(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_LAST_ACK);
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    fx_expect_gone(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (second: TIME-WAIT: a RST at RCV.NXT ends it). */
Test(tcp_rst, time_wait_rst_closes)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_shutdown(&f, h, 1);
    fx_drain(&f);
    fx_ack(&f);
    fx_send(&f, TCP_FIN | TCP_ACK, NULL, 0);
    fx_wait(&f, 200, NULL);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_TIME_WAIT);
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    fx_expect_gone(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (second, 1: out-of-window RST dropped) in TIME-WAIT:
 * the connection still answers a retransmitted FIN. */
Test(tcp_rst, time_wait_rst_out_of_window_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_shutdown(&f, h, 1);
    fx_drain(&f);
    fx_ack(&f);
    fx_send(&f, TCP_FIN | TCP_ACK, NULL, 0);
    fx_wait(&f, 200, NULL);
    fx_send_sa(&f, TCP_RST, f.p_nxt + 1000000, 0, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_TIME_WAIT);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (CLOSED after a reset: the TCB is deleted): a
 * connection reset by the peer answers a late segment of it with RST. */
Test(tcp_rst, segment_after_reset_gets_rst)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_passive(&f);
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    fx_send_sa(&f, TCP_ACK | TCP_PSH, f.p_nxt, f.t_iss + 1, "late", 4);
    fx_expect(&f, NULL, TCP_RST, f.t_iss + 1, FX_ANY);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (second) on an accepted connection: the reset endpoint
 * says ECONNRESET and recv does not hang (an error or the end). */
Test(tcp_rst, reset_connection_recv_does_not_block)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    char b[4];
    long r = fx_read(&f, h, b, sizeof(b));
    cr_assert(r == -ECONNRESET || r == 0, "recv after RST: %ld", r);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR || r == -ECONNRESET);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (second, 3: a RST in the window but not at RCV.NXT:
 * RFC 5961's challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>, which this stack
 * implements (RFC 793 would reset): the connection stays up. */
Test(tcp_rst, rst_in_window_not_at_rcv_nxt_challenged)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_send_sa(&f, TCP_RST, f.p_nxt + 100, 0, NULL, 0);
    struct fx_seg s;
    cr_assert(fx_next(&f, &s), "an in-window RST not at RCV.NXT went unanswered");
    cr_assert_eq(s.flags & ~TCP_PSH, TCP_ACK);
    cr_assert_eq(s.seq, f.t_iss + 1);
    cr_assert_eq(s.ack, f.p_iss + 1);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (second, SYN-RECEIVED: a RST on a connection that came
 * from an active OPEN, i.e. a simultaneous open: "connection refused"). */
Test(tcp_rst, simultaneous_open_rst_refuses)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    f.p_nxt = f.p_iss;
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1460};
    fx_send_opt(&f, TCP_SYN, f.p_nxt++, 0, NULL, 0, &o);
    fx_expect(&f, NULL, TCP_SYN | TCP_ACK, f.t_iss, f.p_iss + 1);
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    fx_expect_none(&f);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR);
    cr_assert_eq(fx_soerror(&f, h), ECONNREFUSED);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    fx_down(&f);
}

/* l4 SO_ERROR (BSD: reading the pending error clears it). */
Test(tcp_rst, so_error_cleared_once_read)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    cr_assert_eq(fx_soerror(&f, h), ECONNRESET);
    cr_assert_eq(fx_soerror(&f, h), 0);
    fx_down(&f);
}

/* RFC 9293 3.9.2.3 (MUST-57: segments to a broadcast or multicast address
 * are silently discarded): a SYN to the subnet broadcast neither opens a
 * connection on a listener nor draws a RST from a closed port. */
Test(tcp_rst, broadcast_segments_silently_discarded)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1460};
    struct fx_tx t = {.dst = 0xC00002FFu, .sport = FX_PPORT, .dport = FX_LPORT, .seq = 9,
                      .flags = TCP_SYN, .win = 8192, .opt = o, .l3_flags = LYRA_L3_F_BCAST};
    fx_tx(&f, &t);
    t.dport = 81;
    fx_tx(&f, &t);
    t.dst = 0xE0000001u; /* 224.0.0.1 */
    t.l3_flags = LYRA_L3_F_MCAST;
    fx_tx(&f, &t);
    fx_expect_none(&f);
    cr_assert_eq(fx_poll(&f, l) & LYRA_POLL_IN, 0);
    fx_down(&f);
}

/* RFC 9293 3.4 (MUST-66: RSTs are processed even with a zero receive
 * window): at a zero window, a RST at RCV.NXT resets the connection. */
Test(tcp_rst, rst_processed_at_zero_window)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=4096"));
    fx_listen(&f, FX_LPORT, 8);
    struct fx_seg sa;
    fx_syn(&f, &sa);
    fx_ack(&f);
    struct lyra_sockaddr4 pa;
    int h = f.l4->accept(f.t, f.lh, &pa);
    uint8_t d[1460];
    fx_pattern(d, sizeof(d), 0);
    for (uint32_t left = sa.win; left;) {
        uint32_t k = left < sizeof(d) ? left : (uint32_t)sizeof(d);
        fx_send(&f, TCP_ACK, d, k);
        left -= k;
    }
    struct fx_seg s;
    fx_last(&f, 200, &s);
    cr_assert_eq(s.win, 0);
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_soerror(&f, h), ECONNRESET);
    fx_down(&f);
}
