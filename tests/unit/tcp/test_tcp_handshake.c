/* tcp state machine, black box: opening connections (RFC 9293 3.5).
 * Active and passive open, simultaneous open, SYN and SYN-ACK
 * retransmission with backoff and give-up, RST to a SYN, the listen backlog.
 * Fixture: tcp_fx.h (fake_l3, fake_os, skb_copy; the test plays the peer). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tcp_fx.h"

/* RFC 9293 3.5 (figure 6, line 2), 3.7.1 (SHLD-5: an MSS option in the SYN):
 * connect sends a SYN alone, no data, an MSS option, a non-zero window. */
Test(tcp_handshake, active_open_sends_syn_with_mss)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg syn;
    fx_connect(&f, &syn);
    cr_assert_eq(syn.flags, TCP_SYN);
    cr_assert_eq(syn.len, 0);
    cr_assert(syn.r.opt.has & TCP_HAS_MSS);
    cr_assert_eq(syn.r.opt.mss, 1460, "MSS %u: 1500-byte route MTU minus 40", syn.r.opt.mss);
    cr_assert_gt(syn.r.window, 0);
    cr_assert_eq(syn.dst, FX_PEER);
    fx_down(&f);
}

/* l4 1.2 (connect returns -EINPROGRESS; poll OUT ends it), RFC 9293 3.10.1:
 * in SYN-SENT the endpoint is neither writable nor in error. */
Test(tcp_handshake, connect_in_progress_is_not_writable)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    unsigned p = fx_poll(&f, h);
    cr_assert_eq(p & (LYRA_POLL_OUT | LYRA_POLL_ERR), 0, "poll 0x%x in SYN-SENT", p);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_SYN_SENT);
    fx_down(&f);
}

/* RFC 9293 3.5 (figure 6, lines 3-4): a SYN-ACK acknowledging our SYN
 * completes the open; we ACK it <SEQ=ISS+1><ACK=IRS+1>, the endpoint is
 * ESTABLISHED and writable with no pending error. */
Test(tcp_handshake, active_open_completes_on_synack)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    cr_assert_eq(fx_soerror(&f, h), 0);
    cr_assert(f.ready_what[h + 1] & LYRA_POLL_OUT, "no OUT event when the connect completed");
    fx_down(&f);
}

/* RFC 9293 3.4: the first data byte is ISS+1, acknowledging IRS+1. */
Test(tcp_handshake, first_data_byte_follows_iss)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_write(&f, h, "hello", 5), 5);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert_eq(s.len, 5);
    cr_assert_eq(memcmp(s.data, "hello", 5), 0);
    fx_down(&f);
}

/* RFC 6056 (ephemeral ports within the configured range). */
Test(tcp_handshake, ephemeral_port_within_range)
{
    struct fx f;
    fx_up(&f, FX_P("port_min=50000", "port_max=50009"));
    fx_connect(&f, NULL);
    cr_assert_geq(f.lport, 50000);
    cr_assert_leq(f.lport, 50009);
    fx_down(&f);
}

/* RFC 6056 (distinct ports for two connections to one peer), RFC 6528 / RFC
 * 9293 3.4.1 (ISNs not reused between connections). */
Test(tcp_handshake, two_connects_get_distinct_ports)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg a, b;
    fx_connect(&f, &a);
    fx_connect(&f, &b);
    cr_assert_neq(a.r.sport, b.r.sport);
    cr_assert_neq(a.seq, b.seq, "two connections with the same ISN");
    fx_down(&f);
}

/* RFC 9293 3.5 (figure 6, line 3), 3.10.7.2: a listener answers a SYN with
 * SYN-ACK <SEQ=ISS><ACK=IRS+1> carrying an MSS option and a window. */
Test(tcp_handshake, passive_open_answers_syn_with_synack)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_listen(&f, FX_LPORT, 8);
    struct fx_seg sa;
    fx_syn(&f, &sa);
    cr_assert_eq(sa.flags & ~TCP_PSH, TCP_SYN | TCP_ACK);
    cr_assert_eq(sa.ack, f.p_iss + 1);
    cr_assert(sa.r.opt.has & TCP_HAS_MSS);
    cr_assert_gt(sa.r.window, 0);
    cr_assert_eq(sa.len, 0);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (SYN-RECEIVED, ACK acceptable -> ESTABLISHED): the
 * connection is accepted only after the handshake's ACK; before it the
 * listener is not readable and accept says -EAGAIN. */
Test(tcp_handshake, accept_only_after_final_ack)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    fx_syn(&f, NULL);
    cr_assert_eq(fx_poll(&f, l) & LYRA_POLL_IN, 0);
    struct lyra_sockaddr4 pa;
    cr_assert_eq(f.l4->accept(f.t, l, &pa), -EAGAIN);
    fx_ack(&f);
    fx_expect_none(&f);
    cr_assert(fx_poll(&f, l) & LYRA_POLL_IN, "listener not readable with a connection ready");
    cr_assert(f.ready_what[l + 1] & LYRA_POLL_IN, "no IN event for the listener");
    int h = f.l4->accept(f.t, l, &pa);
    cr_assert_geq(h, 0);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_OUT);
    cr_assert_eq(f.l4->accept(f.t, l, &pa), -EAGAIN);
    fx_down(&f);
}

/* RFC 9293 3.3.1 (a connection is named by its socket pair): the accepted
 * endpoint's local and remote names. */
Test(tcp_handshake, accepted_endpoint_names)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    struct lyra_sockaddr4 a;
    cr_assert_eq(f.l4->name(f.t, h, 0, &a), 0);
    cr_assert_eq(a.addr, FX_US);
    cr_assert_eq(a.port, FX_LPORT);
    cr_assert_eq(f.l4->name(f.t, h, 1, &a), 0);
    cr_assert_eq(a.addr, FX_PEER);
    cr_assert_eq(a.port, FX_PPORT);
    fx_down(&f);
}

/* RFC 9293 3.3.1: two connections to one listener, told apart by the
 * peer's port, each get their own data. */
Test(tcp_handshake, two_peers_to_one_listener_demultiplexed)
{
    struct fx f;
    fx_up(&f, NULL);
    int h1 = fx_passive(&f);
    uint32_t p1_nxt = f.p_nxt, p1_rcv = f.p_rcv;
    f.pport = FX_PPORT + 1;
    f.p_iss = 7000000;
    int h2 = fx_passive(&f);
    cr_assert_neq(h1, h2);
    fx_send(&f, TCP_ACK | TCP_PSH, "two", 3);
    f.pport = FX_PPORT;
    fx_send_sa(&f, TCP_ACK | TCP_PSH, p1_nxt, p1_rcv, "one", 3);
    char b[8];
    cr_assert_eq(fx_read(&f, h1, b, sizeof(b)), 3);
    cr_assert_eq(memcmp(b, "one", 3), 0);
    cr_assert_eq(fx_read(&f, h2, b, sizeof(b)), 3);
    cr_assert_eq(memcmp(b, "two", 3), 0);
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 9293 3.5 (figure 7): simultaneous open. A SYN in SYN-SENT is answered
 * with SYN-ACK <SEQ=ISS><ACK=IRS+1> (SYN-RECEIVED, 3.10.7.3), and the
 * peer's ACK of our SYN then establishes the connection. */
Test(tcp_handshake, simultaneous_open)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    f.p_nxt = f.p_iss;
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1460};
    fx_send_opt(&f, TCP_SYN, f.p_nxt++, 0, NULL, 0, &o);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_SYN | TCP_ACK, f.t_iss, f.p_iss + 1);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_OUT, 0, "writable before our SYN is acknowledged");
    fx_ack_to(&f, f.t_iss + 1);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_OUT);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    cr_assert_eq(fx_write(&f, h, "x", 1), 1);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert_eq(s.len, 1);
    fx_down(&f);
}

/* RFC 6298 2.1 (initial RTO, here rto_init_ms = 1000), 5.4 (retransmit the
 * earliest unacknowledged segment): the SYN again, same ISS, after 1 s. */
Test(tcp_handshake, syn_retransmitted_after_initial_rto)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg syn, s;
    fx_connect(&f, &syn);
    uint64_t t = fx_wait(&f, 2000, &s);
    cr_assert(t >= 999 && t <= 1001, "SYN retransmitted after %llu ms", (unsigned long long)t);
    cr_assert_eq(s.flags, TCP_SYN);
    cr_assert_eq(s.seq, syn.seq);
    cr_assert(s.r.opt.has & TCP_HAS_MSS);
    fx_down(&f);
}

/* RFC 6298 3 and 5.7 after a SYN was retransmitted: the SYN-ACK's
 * timestamp echo is an RTT sample when it echoes the SYN sent last (Karn's
 * ambiguity is gone, as RFC 6298 3 says of timestamps); data then starts
 * with the RTO of that sample, not 3 s. Echoing the first SYN it is not a
 * sample: that SYN may have waited (ARP) or been answered late, so 5.7's
 * 3 s (three initial RTOs) stands. Without timestamps too. */
static uint32_t rto_after_retransmitted_syn(const char *const *params, bool ts, bool echo_first)
{
    struct fx f;
    fx_up(&f, params);
    f.popt.ts = ts;
    struct fx_seg syn, s;
    int h = fx_connect(&f, &syn);
    fx_wait(&f, 5000, &s); /* the SYN again */
    cr_assert_eq(s.flags, TCP_SYN);
    if (echo_first)
        f.t_tsval = syn.r.opt.tsval;
    fx_ms(&f, 5);
    fx_synack(&f);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    struct lyra_tcp_info ti;
    fx_info(&f, h, &ti);
    fx_down(&f);
    return ti.rto;
}

Test(tcp_handshake, retransmitted_syn_echoed_gives_rtt_sample)
{
    uint32_t rto = rto_after_retransmitted_syn(NULL, true, false);
    cr_assert_eq(rto, 200000u, "RTO %u us after a 5 ms sample, want rto_min's 200 ms", rto);
}

Test(tcp_handshake, first_syn_echoed_gives_3s_rto)
{
    uint32_t rto = rto_after_retransmitted_syn(NULL, true, true);
    cr_assert_eq(rto, 3000000u, "RTO %u us, want RFC 6298 5.7's 3 s", rto);
}

Test(tcp_handshake, retransmitted_syn_without_timestamps_gives_3_initial_rtos)
{
    cr_assert_eq(rto_after_retransmitted_syn(NULL, false, false), 3000000u);
    cr_assert_eq(rto_after_retransmitted_syn(FX_P("rto_init_ms=300"), false, false), 900000u,
                 "5.7's fallback is three initial RTOs");
}

/* The peer's SYN again, TSval tsval (after fx_syn): our SYN-ACK again,
 * into *sa. */
static void syn_again(struct fx *f, uint32_t tsval, struct fx_seg *sa)
{
    struct tcp_hdr_opts o = {.has = TCP_HAS_TS | TCP_HAS_MSS, .mss = 1460, .tsval = tsval};
    fx_send_opt(f, TCP_SYN, f->p_iss, 0, NULL, 0, &o);
    fx_expect(f, sa, TCP_SYN | TCP_ACK, f->t_iss, f->p_iss + 1);
}

/* RFC 7323 4.3 in SYN-RECEIVED: the peer's SYN again (our SYN-ACK was
 * lost) has SEG.SEQ <= Last.ACK.sent and a newer TSval: the SYN-ACK sent
 * again echoes it, so that the peer's RTT sample is of the SYN it sent
 * last (see retransmitted_syn_echoed_gives_rtt_sample). */
Test(tcp_handshake, synack_again_echoes_the_newer_syn)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.ts = true;
    fx_listen(&f, FX_LPORT, 8);
    struct fx_seg sa;
    fx_syn(&f, &sa);
    uint32_t first = f.p_tsval;
    cr_assert_eq(sa.r.opt.tsecr, first);
    fx_ms(&f, 500); /* before our SYN-ACK's own timeout (1 s) */
    syn_again(&f, first + 1000, &sa);
    cr_assert_eq(sa.r.opt.tsecr, first + 1000, "SYN-ACK again echoes %u, want the newer SYN's %u",
                 sa.r.opt.tsecr, first + 1000);
    fx_down(&f);
}

/* The same on the passive side: our SYN-ACK answered the peer's SYN again
 * (T1) a millisecond before our own timeout sent it once more (T2); the
 * final ACK echoes T1. Sent before the last, but under an initial RTO
 * before now: a sample (a SYN-ACK sent before a timeout would be echoed
 * at least an initial RTO late), so the RTO is rto_min's, not 3 s. */
Test(tcp_handshake, synack_echo_just_before_the_last_gives_rtt_sample)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.ts = true;
    int lh = fx_listen(&f, FX_LPORT, 8);
    struct fx_seg sa;
    fx_syn(&f, &sa);
    uint32_t tsv = f.p_tsval;
    fx_ms(&f, 999);
    syn_again(&f, tsv + 999, &sa);
    uint32_t t1 = sa.r.opt.tsval;
    fx_wait(&f, 100, &sa); /* our timeout: the SYN-ACK again */
    cr_assert_eq(sa.flags, TCP_SYN | TCP_ACK);
    fx_ms(&f, 2);
    struct tcp_hdr_opts o = {.has = TCP_HAS_TS, .tsval = tsv + 1002, .tsecr = t1};
    fx_send_opt(&f, TCP_ACK, f.p_iss + 1, f.t_iss + 1, NULL, 0, &o);
    struct lyra_sockaddr4 peer = {0};
    int h = f.l4->accept(f.t, lh, &peer);
    cr_assert_geq(h, 0, "accept: %d", h);
    struct lyra_tcp_info ti;
    fx_info(&f, h, &ti);
    cr_assert_eq(ti.rto, 200000u, "RTO %u us after a 3 ms sample, want rto_min's 200 ms", ti.rto);
    f.l4->close(f.t, h);
    fx_down(&f);
}

/* rto_init_ms sets the SYN's first timeout (RFC 6298 2.1, shortened for
 * tests as the issue asks). */
Test(tcp_handshake, syn_rto_follows_rto_init_param)
{
    struct fx f;
    fx_up(&f, FX_P("rto_init_ms=300"));
    fx_connect(&f, NULL);
    uint64_t t = fx_wait(&f, 2000, NULL);
    cr_assert(t >= 299 && t <= 301, "SYN retransmitted after %llu ms", (unsigned long long)t);
    fx_down(&f);
}

/* RFC 6298 5.5: the timer backs off, doubling: 1 s, 2 s, 4 s. */
Test(tcp_handshake, syn_retransmission_backs_off)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg syn, s;
    fx_connect(&f, &syn);
    uint64_t want[] = {1000, 2000, 4000};
    for (int i = 0; i < 3; i++) {
        uint64_t t = fx_wait(&f, 10000, &s);
        cr_assert(t + 1 >= want[i] && t <= want[i] + 1,
                  "retransmission %d after %llu ms, want %llu",
                  i + 1, (unsigned long long)t, (unsigned long long)want[i]);
        cr_assert_eq(s.flags, TCP_SYN);
        cr_assert_eq(s.seq, syn.seq);
    }
    fx_down(&f);
}

/* RFC 6298 2.5 (a maximum RTO may be placed), rto_max_ms: the backoff stops
 * growing at it. */
Test(tcp_handshake, syn_backoff_capped_by_rto_max)
{
    struct fx f;
    fx_up(&f, FX_P("rto_max_ms=1500"));
    fx_connect(&f, NULL);
    uint64_t want[] = {1000, 1500, 1500};
    for (int i = 0; i < 3; i++) {
        uint64_t t = fx_wait(&f, 10000, NULL);
        cr_assert(t + 1 >= want[i] && t <= want[i] + 1, "retransmission %d after %llu ms", i + 1,
                  (unsigned long long)t);
    }
    fx_down(&f);
}

/* RFC 1122 4.2.3.5 (R2 for a SYN: give up, tell the user), syn_retries:
 * after 2 retransmissions and one more timeout, connect fails with
 * ETIMEDOUT and no further SYN is sent. */
Test(tcp_handshake, syn_gives_up_with_etimedout)
{
    struct fx f;
    fx_up(&f, FX_P("syn_retries=2"));
    int h = fx_connect(&f, NULL);
    fx_wait(&f, 1100, NULL);
    fx_wait(&f, 2100, NULL);
    fx_ms(&f, 3900);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0, "gave up before the last timeout ran out");
    fx_ms(&f, 200);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR, "no error 4.1 s after the last SYN");
    cr_assert(f.ready_what[h + 1] & LYRA_POLL_ERR);
    cr_assert_eq(fx_soerror(&f, h), ETIMEDOUT);
    cr_assert_eq(fx_wait_maybe(&f, 20000, NULL), UINT64_MAX, "a SYN after giving up");
    fx_down(&f);
}

/* RFC 9293 3.10.7.3 (SYN-SENT, RST with an acceptable ACK: "connection
 * reset", CLOSED); the contract's ECONNREFUSED. Nothing answers the RST. */
Test(tcp_handshake, rst_to_syn_is_econnrefused)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    fx_send_sa(&f, TCP_RST | TCP_ACK, 0, f.t_iss + 1, NULL, 0);
    fx_expect_none(&f);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR);
    cr_assert_eq(fx_soerror(&f, h), ECONNREFUSED);
    cr_assert_eq(fx_wait_maybe(&f, 5000, NULL), UINT64_MAX, "the SYN retransmitted after RST");
    fx_down(&f);
}

/* RFC 9293 3.10.7.3: in SYN-SENT a RST without ACK is dropped; the
 * handshake goes on. */
Test(tcp_handshake, rst_without_ack_in_syn_sent_dropped)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    fx_send_sa(&f, TCP_RST, 0, 0, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    fx_synack(&f);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_OUT);
    fx_down(&f);
}

/* RFC 9293 3.10.7.3: a RST whose ACK does not acknowledge the SYN is
 * dropped (and, being a RST, not answered). */
Test(tcp_handshake, rst_with_bad_ack_in_syn_sent_dropped)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    fx_send_sa(&f, TCP_RST | TCP_ACK, 0, f.t_iss + 7, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_SYN_SENT);
    fx_down(&f);
}

/* RFC 9293 3.10.7.3: SEG.ACK > SND.NXT in SYN-SENT is unacceptable: send
 * <SEQ=SEG.ACK><CTL=RST>, stay in SYN-SENT; the right SYN-ACK still works. */
Test(tcp_handshake, synack_acking_beyond_snd_nxt_gets_rst)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1460};
    fx_send_opt(&f, TCP_SYN | TCP_ACK, f.p_iss, f.t_iss + 10, NULL, 0, &o);
    fx_expect(&f, NULL, TCP_RST, f.t_iss + 10, FX_ANY);
    cr_assert_eq(fx_poll(&f, h) & (LYRA_POLL_OUT | LYRA_POLL_ERR), 0);
    fx_synack(&f);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_OUT);
    fx_down(&f);
}

/* RFC 9293 3.10.7.3: SEG.ACK =< ISS is unacceptable too: RST <SEQ=SEG.ACK>. */
Test(tcp_handshake, synack_acking_iss_gets_rst)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1460};
    fx_send_opt(&f, TCP_SYN | TCP_ACK, f.p_iss, f.t_iss, NULL, 0, &o);
    fx_expect(&f, NULL, TCP_RST, f.t_iss, FX_ANY);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_SYN_SENT);
    fx_down(&f);
}

/* RFC 9293 3.10.7.3 (fifth: neither SYN nor RST: drop): an acceptable ACK
 * without SYN does not open the connection and is not answered. */
Test(tcp_handshake, syn_sent_drops_ack_without_syn)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    fx_send_sa(&f, TCP_ACK, f.p_iss, f.t_iss + 1, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_SYN_SENT);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_OUT, 0);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (first check: an unacceptable segment is answered with
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>): the peer's SYN-ACK sent again after
 * the connection is established gets our ACK again. */
Test(tcp_handshake, duplicate_synack_acked_again)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1460};
    fx_send_opt(&f, TCP_SYN | TCP_ACK, f.p_iss, f.t_iss + 1, NULL, 0, &o);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    fx_down(&f);
}

/* RFC 6298 2.1 and 5.4 for the SYN-ACK (issue 10: SYN-ACK retransmission):
 * no ACK from the peer, the same SYN-ACK again after the initial RTO. */
Test(tcp_handshake, synack_retransmitted_after_initial_rto)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_listen(&f, FX_LPORT, 8);
    struct fx_seg sa, s;
    fx_syn(&f, &sa);
    uint64_t t = fx_wait(&f, 3000, &s);
    cr_assert(t >= 999 && t <= 1001, "SYN-ACK retransmitted after %llu ms", (unsigned long long)t);
    cr_assert_eq(s.flags & ~TCP_PSH, TCP_SYN | TCP_ACK);
    cr_assert_eq(s.seq, sa.seq);
    cr_assert_eq(s.ack, f.p_iss + 1);
    t = fx_wait(&f, 5000, &s);
    cr_assert(t >= 1999 && t <= 2001, "second SYN-ACK retransmission after %llu ms",
              (unsigned long long)t);
    fx_down(&f);
}

/* synack_retries (RFC 1122 4.2.3.5 R2 for SYN-RECEIVED): after the last
 * retransmission times out the half-open connection is gone: its ACK is
 * answered with RST (RFC 9293 3.10.7.2: an ACK to a listener) and nothing
 * is accepted; the listener itself still works. */
Test(tcp_handshake, synack_gives_up_after_synack_retries)
{
    struct fx f;
    fx_up(&f, FX_P("synack_retries=1"));
    int l = fx_listen(&f, FX_LPORT, 8);
    fx_syn(&f, NULL);
    fx_wait(&f, 1100, NULL);
    cr_assert_eq(fx_wait_maybe(&f, 10000, NULL), UINT64_MAX, "more SYN-ACKs than synack_retries");
    fx_expect_gone(&f);
    struct lyra_sockaddr4 pa;
    cr_assert_eq(f.l4->accept(f.t, l, &pa), -EAGAIN);
    f.pport++;
    fx_syn(&f, NULL);
    fx_down(&f);
}

/* backlog_max / listen(backlog) (issue 10: bounded listen backlog): with
 * one connection waiting to be accepted and a backlog of 1, another SYN
 * is not answered with a SYN-ACK; once accept makes room, the peer's SYN
 * sent again is. */
Test(tcp_handshake, backlog_full_refuses_new_syn)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 1);
    fx_syn(&f, NULL);
    fx_ack(&f);
    cr_assert(fx_poll(&f, l) & LYRA_POLL_IN);
    f.pport = FX_PPORT + 1;
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1460};
    fx_send_opt(&f, TCP_SYN, 42, 0, NULL, 0, &o);
    struct fx_seg s;
    while (fx_next(&f, &s))
        cr_assert_eq(s.flags & TCP_SYN, 0, "SYN-ACK sent with the backlog full");
    struct lyra_sockaddr4 pa;
    int h = f.l4->accept(f.t, l, &pa);
    cr_assert_geq(h, 0);
    cr_assert_eq(pa.port, FX_PPORT);
    fx_send_opt(&f, TCP_SYN, 42, 0, NULL, 0, &o);
    fx_expect(&f, &s, TCP_SYN | TCP_ACK, FX_ANY, 43);
    fx_down(&f);
}

/* RFC 9293 3.1 (MUST-2, MUST-3: the checksum is checked; a bad one drops
 * the segment): a SYN with a bad checksum opens nothing and gets no answer. */
Test(tcp_handshake, syn_with_bad_checksum_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    struct fx_tx t = {.sport = FX_PPORT, .dport = FX_LPORT, .seq = 5, .flags = TCP_SYN,
                      .win = 65535, .bad_csum = true};
    fx_tx(&f, &t);
    fx_expect_none(&f);
    cr_assert_eq(fx_poll(&f, l) & LYRA_POLL_IN, 0);
    fx_down(&f);
}

/* l4 1.2 errors (BSD connect): a second connect while the first is under
 * way is -EALREADY, on an established connection -EISCONN. */
Test(tcp_handshake, connect_again_ealready_then_eisconn)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    struct lyra_sockaddr4 a = {.addr = FX_PEER, .port = FX_RPORT};
    cr_assert_eq(f.l4->connect(f.t, h, &a), -EALREADY);
    fx_synack(&f);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert_eq(f.l4->connect(f.t, h, &a), -EISCONN);
    fx_down(&f);
}

/* l4 1.2 (bind: -EADDRINUSE): a second endpoint cannot bind a port a
 * listener holds without SO_REUSEADDR. */
Test(tcp_handshake, bind_port_in_use_eaddrinuse)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_listen(&f, FX_LPORT, 8);
    int h = fx_open(&f);
    struct lyra_sockaddr4 a = {.addr = 0, .port = FX_LPORT};
    cr_assert_eq(f.l4->bind(f.t, h, &a), -EADDRINUSE);
    fx_down(&f);
}

/* RFC 9293 3.5: the SYN-ACK carries our ISS; the ACK of the SYN-ACK must
 * acknowledge ISS+1 (an ACK of something else is not acceptable in
 * SYN-RECEIVED: RST <SEQ=SEG.ACK>, 3.10.7.4 fifth). */
Test(tcp_handshake, synrcvd_bad_ack_gets_rst_then_good_ack_completes)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    fx_syn(&f, NULL);
    fx_ack_to(&f, f.t_iss + 5);
    fx_expect(&f, NULL, TCP_RST, f.t_iss + 5, FX_ANY);
    cr_assert_eq(fx_poll(&f, l) & LYRA_POLL_IN, 0);
    fx_ack(&f);
    fx_expect_none(&f);
    cr_assert(fx_poll(&f, l) & LYRA_POLL_IN);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (SYN-RECEIVED -> ESTABLISHED, then the data is
 * processed): data on the handshake's final ACK is delivered. */
Test(tcp_handshake, data_on_final_ack_delivered)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    fx_syn(&f, NULL);
    fx_send(&f, TCP_ACK | TCP_PSH, "early", 5);
    struct lyra_sockaddr4 pa;
    int h = f.l4->accept(f.t, l, &pa);
    cr_assert_geq(h, 0);
    char b[16];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 5);
    cr_assert_eq(memcmp(b, "early", 5), 0);
    struct fx_seg s;
    fx_wait(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 6);
    fx_down(&f);
}

/* l4 1.2 connect errors (RFC 9293 3.10.1: OPEN with no route fails): no
 * route to the peer is -ENETUNREACH from connect, or a pending error that
 * ends the connect at once; no SYN goes out either way. */
Test(tcp_handshake, connect_without_route_enetunreach)
{
    struct fx f;
    fx_up(&f, NULL);
    f.cfg->route_err = -ENETUNREACH;
    int h = fx_open(&f);
    struct lyra_sockaddr4 a = {.addr = 0xC6336401u /* 198.51.100.1 */, .port = 80};
    int r = f.l4->connect(f.t, h, &a);
    fx_run(&f);
    if (r == -EINPROGRESS) {
        cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR);
        cr_assert_eq(fx_soerror(&f, h), ENETUNREACH);
    } else {
        cr_assert_eq(r, -ENETUNREACH);
    }
    fx_expect_none(&f);
    f.cfg->route_err = 0;
    fx_down(&f);
}

/* max_conns (issue 10: bounded connections, -ENOBUFS from l4 open when
 * the table is full). */
Test(tcp_handshake, open_beyond_max_conns_enobufs)
{
    struct fx f;
    fx_up(&f, FX_P("max_conns=2"));
    fx_open(&f);
    fx_open(&f);
    cr_assert_eq(f.l4->open(f.t), -ENOBUFS);
    fx_down(&f);
}

/* max_conns: without SYN cookies, a SYN to a listener when no connection
 * can be made is not answered with a SYN-ACK (and nothing breaks: the
 * listener answers again once there is room). With them (the default) a
 * cookie answers: tcp_attack::table_full_syn_gets_cookie. */
Test(tcp_handshake, syn_with_table_full_not_answered)
{
    struct fx f;
    fx_up(&f, FX_P("max_conns=2", "syncookies=off"));
    fx_listen(&f, FX_LPORT, 8);
    int x = fx_open(&f);
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1460};
    fx_send_opt(&f, TCP_SYN, 77, 0, NULL, 0, &o);
    struct fx_seg s;
    while (fx_next(&f, &s))
        cr_assert_eq(s.flags & TCP_SYN, 0, "SYN-ACK with the table full");
    fx_close(&f, x);
    fx_send_opt(&f, TCP_SYN, 77, 0, NULL, 0, &o);
    fx_expect(&f, &s, TCP_SYN | TCP_ACK, FX_ANY, 78);
    fx_down(&f);
}

/* l4 (SO_REUSEADDR, BSD semantics): a port held by a connection in
 * TIME-WAIT cannot be bound again without SO_REUSEADDR, and can with it. */
Test(tcp_handshake, reuseaddr_binds_over_time_wait)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    cr_assert_eq(fx_setopt(&f, l, LYRA_SO_REUSEADDR, 1), 0);
    int h = fx_passive(&f);
    fx_close(&f, l);
    fx_close(&f, h); /* our FIN first: we hold TIME-WAIT */
    fx_expect(&f, NULL, TCP_FIN | TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    fx_send(&f, TCP_FIN | TCP_ACK, NULL, 0);
    fx_last(&f, 200, NULL);
    struct lyra_sockaddr4 a = {.addr = 0, .port = FX_LPORT};
    int b = fx_open(&f);
    cr_assert_eq(f.l4->bind(f.t, b, &a), -EADDRINUSE, "bound over TIME-WAIT without SO_REUSEADDR");
    cr_assert_eq(fx_setopt(&f, b, LYRA_SO_REUSEADDR, 1), 0);
    cr_assert_eq(f.l4->bind(f.t, b, &a), 0);
    fx_down(&f);
}

/* RFC 9293 3.10.7.2 (LISTEN, SYN: "any other control or text should be
 * queued for processing later"; MAY drop it instead): whatever the
 * SYN-ACK acknowledges of data on the SYN is delivered once the connection
 * is accepted, and what it does not acknowledge the peer sends again. */
Test(tcp_handshake, data_in_syn_delivered_if_acknowledged)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1460};
    fx_send_opt(&f, TCP_SYN, f.p_iss, 0, "hi", 2, &o);
    struct fx_seg sa;
    fx_expect(&f, &sa, TCP_SYN | TCP_ACK, FX_ANY, FX_ANY);
    cr_assert(sa.ack == f.p_iss + 1 || sa.ack == f.p_iss + 3, "SYN-ACK acks %u", sa.ack);
    bool taken = sa.ack == f.p_iss + 3;
    f.t_iss = sa.seq;
    f.p_rcv = sa.seq + 1;
    f.p_nxt = sa.ack;
    fx_ack(&f);
    if (!taken)
        fx_send(&f, TCP_ACK | TCP_PSH, "hi", 2);
    struct lyra_sockaddr4 pa;
    int h = f.l4->accept(f.t, l, &pa);
    cr_assert_geq(h, 0);
    char b[8];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 2);
    cr_assert_eq(memcmp(b, "hi", 2), 0);
    fx_drain(&f);
    fx_down(&f);
}

/* Accepted connections come out in the order their handshakes completed
 * (the listen queue, RFC 9293 3.10.1 OPEN; BSD accept). */
Test(tcp_handshake, accept_in_completion_order)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    for (int i = 0; i < 3; i++) {
        f.pport = (uint16_t)(FX_PPORT + 10 - i);
        f.p_iss = 1000u * (uint32_t)(i + 1);
        fx_syn(&f, NULL);
        fx_ack(&f);
    }
    for (int i = 0; i < 3; i++) {
        struct lyra_sockaddr4 pa;
        cr_assert_geq(f.l4->accept(f.t, l, &pa), 0);
        cr_assert_eq(pa.port, FX_PPORT + 10 - i, "accept %d gave port %u", i, pa.port);
    }
    fx_down(&f);
}

/* RFC 1122 4.2.2.13 (MAY: a SYN for a connection in TIME-WAIT reopens it
 * when its sequence number is above the old connection's), RFC 6191: after
 * we closed first, the same client port connecting again with a higher ISN
 * is accepted at once. */
Test(tcp_handshake, syn_reopens_time_wait_with_higher_seq)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    int h = fx_passive(&f);
    fx_close(&f, h);
    fx_expect(&f, NULL, TCP_FIN | TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    fx_send(&f, TCP_FIN | TCP_ACK, NULL, 0);
    fx_last(&f, 200, NULL); /* TIME-WAIT */
    f.p_iss += 100000;
    struct fx_seg sa;
    fx_syn(&f, &sa);
    fx_ack(&f);
    struct lyra_sockaddr4 pa;
    cr_assert_geq(f.l4->accept(f.t, l, &pa), 0);
    fx_down(&f);
}

/* RFC 9293 3.9.1.1 (MUST-43: OPEN takes a local IP address): binding to our
 * address works and a listener bound to it answers; an address not ours is
 * -EADDRNOTAVAIL. */
Test(tcp_handshake, bind_to_local_address)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_open(&f);
    struct lyra_sockaddr4 a = {.addr = 0xC6336401u /* 198.51.100.1 */, .port = FX_LPORT};
    cr_assert_eq(f.l4->bind(f.t, h, &a), -EADDRNOTAVAIL);
    a.addr = FX_US;
    cr_assert_eq(f.l4->bind(f.t, h, &a), 0);
    cr_assert_eq(f.l4->listen(f.t, h, 4), 0);
    f.lh = h;
    f.lport = FX_LPORT;
    fx_syn(&f, NULL);
    fx_down(&f);
}

/* RFC 9293 3.9.1.1 (MUST-42: a LISTEN on a port while a connection from it
 * is in SYN-SENT), with SO_REUSEADDR on both as BSD asks. */
Test(tcp_handshake, listen_on_port_of_connecting_endpoint)
{
    struct fx f;
    fx_up(&f, NULL);
    int c = fx_open(&f);
    cr_assert_eq(fx_setopt(&f, c, LYRA_SO_REUSEADDR, 1), 0);
    struct lyra_sockaddr4 a = {.addr = 0, .port = 5000};
    cr_assert_eq(f.l4->bind(f.t, c, &a), 0);
    struct lyra_sockaddr4 to = {.addr = FX_PEER, .port = FX_RPORT};
    cr_assert_eq(f.l4->connect(f.t, c, &to), -EINPROGRESS);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_SYN, FX_ANY, FX_ANY);
    cr_assert_eq(s.r.sport, 5000);
    int l = fx_open(&f);
    cr_assert_eq(fx_setopt(&f, l, LYRA_SO_REUSEADDR, 1), 0);
    cr_assert_eq(f.l4->bind(f.t, l, &a), 0);
    cr_assert_eq(f.l4->listen(f.t, l, 4), 0);
    f.lh = l;
    f.lport = 5000;
    f.pport = 40100;
    fx_syn(&f, NULL); /* a new peer reaches the listener */
    fx_down(&f);
}

/* RFC 9293 3.8.3 (MUST-23): R2 for a SYN covers at least 3 minutes. With
 * the defaults (syn_retries 7, RTO 1 s doubling to the 60 s cap) the SYN
 * goes 8 times and connect still waits at 3 minutes. */
Test(tcp_handshake, syn_retried_for_three_minutes_by_default)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    unsigned syns = 1;
    struct fx_seg s;
    uint64_t waited = 0;
    while (waited < 180000) {
        uint64_t w = fx_wait_maybe(&f, 180000 - waited, &s);
        if (w == UINT64_MAX)
            break;
        waited += w;
        cr_assert_eq(s.flags & TCP_SYN, TCP_SYN, "not a SYN after %llu ms",
                     (unsigned long long)waited);
        syns++;
    }
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0, "connect gave up within 3 minutes");
    cr_assert_geq(syns, 7, "only %u SYNs in 3 minutes", syns);
    fx_ms(&f, 60000);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR, "still connecting after 4 minutes");
    cr_assert_eq(fx_soerror(&f, h), ETIMEDOUT);
    fx_down(&f);
}

/* RFC 9293 3.9.1.1 (MUST-46): an OPEN to a broadcast or multicast address
 * is refused, and nothing is sent. */
Test(tcp_handshake, connect_to_broadcast_or_multicast_refused)
{
    struct fx f;
    fx_up(&f, NULL);
    const uint32_t bad[] = {0xE0000001u /* 224.0.0.1 */, 0xFFFFFFFFu, 0xC00002FFu /* 192.0.2.255 */};
    for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        int h = f.l4->open(f.t);
        cr_assert_geq(h, 0);
        struct lyra_sockaddr4 a = {.addr = bad[k], .port = 80};
        cr_assert_eq(f.l4->connect(f.t, h, &a), -ENETUNREACH, "connect to %08x", bad[k]);
        f.l4->close(f.t, h);
    }
    fx_expect_none(&f);
    fx_down(&f);
}
