/* tcp state machine, black box: options (RFC 9293 3.2, 3.7.1; RFC 7323;
 * RFC 2018). MSS (536 when absent), window scale only when both sides send
 * it, timestamps with PAWS, SACK-permitted only when both; each switchable
 * by the parameters wscale, timestamps, sack. Fixture: tcp_fx.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tcp_fx.h"

static uint8_t pat[8000];

/* Writes n bytes and returns the first data segment's length. */
static uint32_t first_seg_len(struct fx *f, int h, uint32_t n)
{
    fx_pattern(pat, sizeof(pat), 0);
    cr_assert_eq(fx_write(f, h, pat, n), (long)n);
    struct fx_seg s;
    fx_expect(f, &s, TCP_ACK, f->t_iss + 1, FX_ANY);
    return s.len;
}

/* RFC 9293 3.7.1 (MUST-15: without an MSS option, 536 is assumed), passive
 * side. */
Test(tcp_options, mss_536_when_absent_in_syn)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.mss = 0;
    int h = fx_passive(&f);
    cr_assert_eq(first_seg_len(&f, h, 2000), 536);
    fx_down(&f);
}

/* RFC 9293 3.7.1 (MUST-15), active side: a SYN-ACK without MSS. */
Test(tcp_options, mss_536_when_absent_in_synack)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.mss = 0;
    int h = fx_active(&f);
    cr_assert_eq(first_seg_len(&f, h, 2000), 536);
    fx_down(&f);
}

/* RFC 9293 3.7.1 (segments no larger than the peer's MSS). */
Test(tcp_options, peer_mss_bounds_segments)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.mss = 1000;
    int h = fx_active(&f);
    cr_assert_eq(first_seg_len(&f, h, 3000), 1000);
    fx_down(&f);
}

/* RFC 9293 3.7.1 (Eff.snd.MSS = min(SendMSS+20, MMS_S) - 20 - options): a
 * peer MSS above our route's still gives at most 1460 on a 1500 MTU. */
Test(tcp_options, large_peer_mss_capped_by_route)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.mss = 9000;
    int h = fx_active(&f);
    cr_assert_eq(first_seg_len(&f, h, 3000), 1460);
    fx_down(&f);
}

/* The mss parameter is the largest MSS announced (contract). */
Test(tcp_options, mss_param_announced)
{
    struct fx f;
    fx_up(&f, FX_P("mss=1200"));
    struct fx_seg syn;
    fx_connect(&f, &syn);
    cr_assert_eq(syn.r.opt.mss, 1200);
    fx_down(&f);
}

/* RFC 9293 3.7.1 (the MSS announced comes from the MTU: MMS_R - 20 - 20):
 * a 1000-byte route MTU announces at most 960. */
Test(tcp_options, mss_capped_by_route_mtu)
{
    struct fx f;
    fx_up2(&f, NULL, FX_P("mtu=1000"));
    struct fx_seg syn;
    fx_connect(&f, &syn);
    cr_assert(syn.r.opt.has & TCP_HAS_MSS);
    cr_assert_leq(syn.r.opt.mss, 960);
    fx_down(&f);
}

/* The listener's SYN-ACK announces the MSS too (RFC 9293 3.7.1, SHLD-5). */
Test(tcp_options, synack_announces_mss)
{
    struct fx f;
    fx_up(&f, FX_P("mss=1000"));
    fx_listen(&f, FX_LPORT, 8);
    struct fx_seg sa;
    fx_syn(&f, &sa);
    cr_assert(sa.r.opt.has & TCP_HAS_MSS);
    cr_assert_eq(sa.r.opt.mss, 1000);
    fx_down(&f);
}

/* TCP_MAXSEG (l4 1.2: set before connect, a cap): announced and used. */
Test(tcp_options, tcp_maxseg_caps_mss)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_open(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_MAXSEG, 800), 0);
    struct lyra_sockaddr4 a = {.addr = FX_PEER, .port = FX_RPORT};
    cr_assert_eq(f.l4->connect(f.t, h, &a), -EINPROGRESS);
    struct fx_seg syn;
    fx_expect(&f, &syn, TCP_SYN, FX_ANY, FX_ANY);
    cr_assert_leq(syn.r.opt.mss, 800);
    f.t_iss = syn.seq;
    f.lport = syn.r.sport;
    f.pport = FX_RPORT;
    f.p_rcv = f.t_iss + 1;
    f.h = h;
    fx_synack(&f);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, FX_ANY);
    cr_assert_leq(first_seg_len(&f, h, 3000), 800);
    fx_down(&f);
}

/* RFC 9293 3.7.1 (an MSS option outside a SYN is ignored). */
Test(tcp_options, mss_option_outside_syn_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 100};
    fx_send_opt(&f, TCP_ACK, f.p_nxt, f.p_rcv, NULL, 0, &o);
    cr_assert_eq(first_seg_len(&f, h, 3000), 1460);
    fx_down(&f);
}

/* RFC 9293 3.1 (MUST-6: unknown options are ignored, skipped by their
 * length): a SYN with an unknown kind still opens the connection. */
Test(tcp_options, unknown_option_skipped)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_listen(&f, FX_LPORT, 8);
    static const uint8_t raw[] = {30, 4, 0xab, 0xcd}; /* kind 30 (MPTCP), length 4 */
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1000};
    f.p_nxt = f.p_iss + 1;
    fx_send_raw_opt(&f, TCP_SYN, f.p_iss, 0, NULL, 0, &o, raw, sizeof(raw));
    struct fx_seg sa;
    fx_expect(&f, &sa, TCP_SYN | TCP_ACK, FX_ANY, f.p_iss + 1);
    fx_down(&f);
}

/* RFC 7323 2.2 (WS sent in our SYN; wscale on by default), 2.3 (shift at
 * most 14). */
Test(tcp_options, wscale_sent_in_syn)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg syn;
    fx_connect(&f, &syn);
    cr_assert(syn.r.opt.has & TCP_HAS_WS);
    cr_assert_leq(syn.r.opt.ws, 14);
    fx_down(&f);
}

/* RFC 7323 1.3, 2.2 (a WS option in a SYN-ACK only if the SYN had one). */
Test(tcp_options, wscale_not_in_synack_unless_peer_sent)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_listen(&f, FX_LPORT, 8);
    struct fx_seg sa;
    fx_syn(&f, &sa);
    cr_assert_eq(sa.r.opt.has & TCP_HAS_WS, 0);
    fx_down(&f);
}

/* RFC 7323 2.2: the peer sent WS, the SYN-ACK answers with ours. */
Test(tcp_options, wscale_in_synack_when_peer_sent)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.ws = 7;
    fx_listen(&f, FX_LPORT, 8);
    struct fx_seg sa;
    fx_syn(&f, &sa);
    cr_assert(sa.r.opt.has & TCP_HAS_WS);
    fx_down(&f);
}

/* wscale=off: no WS in the SYN, none in a SYN-ACK (RFC 7323 1.3: an
 * implementation may decline). */
Test(tcp_options, wscale_param_off)
{
    struct fx f;
    fx_up(&f, FX_P("wscale=off"));
    struct fx_seg syn;
    fx_connect(&f, &syn);
    cr_assert_eq(syn.r.opt.has & TCP_HAS_WS, 0);
    f.popt.ws = 7;
    fx_listen(&f, FX_LPORT, 8);
    f.pport = FX_PPORT;
    fx_syn(&f, &syn);
    cr_assert_eq(syn.r.opt.has & TCP_HAS_WS, 0);
    fx_down(&f);
}

/* RFC 7323 2.3 (SND.WND = SEG.WND << Snd.Wind.Shift once both sent WS):
 * the peer's window field 64 with shift 4 is 1024 bytes, not 64. */
Test(tcp_options, wscale_applied_to_peer_window)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.ws = 4;
    f.p_win = 1024;
    int h = fx_active(&f);
    cr_assert(f.ws_on);
    fx_ack(&f); /* a window field of 1024 >> 4 = 64 */
    fx_pattern(pat, sizeof(pat), 0);
    cr_assert_eq(fx_write(&f, h, pat, 3000), 3000);
    fx_drain(&f);
    cr_assert_eq(f.p_rcv - (f.t_iss + 1), 1024, "sent %u bytes into a 64<<4 window",
                 f.p_rcv - (f.t_iss + 1));
    fx_down(&f);
}

/* RFC 7323 2.2 (no scaling unless both sides sent WS): the peer sent none,
 * so its window field is bytes as they stand. */
Test(tcp_options, wscale_one_sided_not_applied)
{
    struct fx f;
    fx_up(&f, NULL);
    f.p_win = 1024;
    int h = fx_active(&f);
    cr_assert(f.t_sent_ws);
    cr_assert(!f.ws_on);
    fx_pattern(pat, sizeof(pat), 0);
    cr_assert_eq(fx_write(&f, h, pat, 3000), 3000);
    fx_drain(&f);
    cr_assert_eq(f.p_rcv - (f.t_iss + 1), 1024);
    fx_down(&f);
}

/* RFC 7323 2.2 (the window field of a SYN is never scaled): the peer's
 * SYN-ACK window 2000 with WS 4 offers 2000 bytes before any scaled ACK. */
Test(tcp_options, syn_window_not_scaled)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.ws = 4;
    f.p_win = 2000;
    int h = fx_active(&f);
    fx_pattern(pat, sizeof(pat), 0);
    cr_assert_eq(fx_write(&f, h, pat, 3000), 3000);
    fx_drain(&f);
    uint32_t sent = f.p_rcv - (f.t_iss + 1);
    cr_assert_leq(sent, 2000, "sent %u bytes: the SYN-ACK's window was scaled", sent);
    cr_assert_geq(sent, 1460);
    fx_down(&f);
}

/* RFC 7323 2.3 (our shift makes a large receive buffer offerable): with
 * rcv_buf 256 KB and WS on both sides, the window we advertise, scaled, is
 * above 65535. */
Test(tcp_options, wscale_lets_us_offer_large_window)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=256k"));
    f.popt.ws = 7;
    int h = fx_active(&f);
    cr_assert_geq(f.t_ws, 2, "shift %u cannot offer 256 KB", f.t_ws);
    fx_send(&f, TCP_ACK | TCP_PSH, "x", 1);
    struct fx_seg s;
    fx_wait(&f, 500, &s);
    cr_assert_gt(s.win, 65535u, "window %u with rcv_buf 256k and shift %u", s.win, f.t_ws);
    (void)h;
    fx_down(&f);
}

/* RFC 7323 3.2 (timestamps on by default: TSopt in our SYN). */
Test(tcp_options, timestamps_sent_in_syn)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg syn;
    fx_connect(&f, &syn);
    cr_assert(syn.r.opt.has & TCP_HAS_TS);
    fx_down(&f);
}

/* RFC 7323 3.2 (once negotiated, a TSopt in every non-RST segment, TSecr
 * echoing the peer's TSval, TS.Recent). */
Test(tcp_options, timestamps_on_every_segment_once_negotiated)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.ts = true;
    int h = fx_active(&f);
    cr_assert(f.ts_on);
    fx_send(&f, TCP_ACK | TCP_PSH, "ping", 4);
    uint32_t peer_ts = f.p_tsval;
    struct fx_seg s;
    fx_wait(&f, 500, &s);
    cr_assert(s.r.opt.has & TCP_HAS_TS);
    cr_assert_eq(s.r.opt.tsecr, peer_ts);
    cr_assert_eq(fx_write(&f, h, "pong", 4), 4);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, FX_ANY);
    cr_assert(s.r.opt.has & TCP_HAS_TS);
    cr_assert_eq(s.r.opt.tsecr, peer_ts);
    fx_down(&f);
}

/* RFC 7323 3.2 (no TSopt in the SYN-ACK unless the SYN had one, none on
 * later segments). */
Test(tcp_options, timestamps_not_used_when_peer_lacks)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_listen(&f, FX_LPORT, 8);
    struct fx_seg sa, s;
    fx_syn(&f, &sa);
    cr_assert_eq(sa.r.opt.has & TCP_HAS_TS, 0);
    fx_ack(&f);
    struct lyra_sockaddr4 pa;
    int h = f.l4->accept(f.t, f.lh, &pa);
    cr_assert_eq(fx_write(&f, h, "x", 1), 1);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, FX_ANY);
    cr_assert_eq(s.r.opt.has & TCP_HAS_TS, 0);
    fx_down(&f);
}

/* timestamps=off: no TSopt in the SYN or SYN-ACK. */
Test(tcp_options, timestamps_param_off)
{
    struct fx f;
    fx_up(&f, FX_P("timestamps=off"));
    struct fx_seg syn;
    fx_connect(&f, &syn);
    cr_assert_eq(syn.r.opt.has & TCP_HAS_TS, 0);
    f.popt.ts = true;
    fx_listen(&f, FX_LPORT, 8);
    f.pport = FX_PPORT;
    fx_syn(&f, &syn);
    cr_assert_eq(syn.r.opt.has & TCP_HAS_TS, 0);
    fx_down(&f);
}

/* RFC 7323 5.3 (PAWS, R1: a segment whose TSval is older than TS.Recent is
 * not acceptable: an ACK is sent and the segment dropped). */
Test(tcp_options, paws_drops_old_tsval)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.ts = true;
    int h = fx_active(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, "new", 3);
    fx_wait(&f, 500, NULL);
    char b[8];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 3);
    struct tcp_hdr_opts o = {.has = TCP_HAS_TS, .tsval = f.p_tsval - 100, .tsecr = f.t_tsval};
    fx_send_opt(&f, TCP_ACK | TCP_PSH, f.p_nxt, f.p_rcv, "old", 3, &o);
    struct fx_seg s;
    fx_wait(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 4, "a PAWS-failed segment was acknowledged");
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), -EAGAIN, "a PAWS-failed segment was delivered");
    fx_down(&f);
}

/* RFC 7323 4.3 (TS.Recent follows the TSval of in-order segments): the
 * ACK echoes the latest TSval. */
Test(tcp_options, tsecr_echoes_latest_tsval)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.ts = true;
    fx_active(&f);
    struct tcp_hdr_opts o = {.has = TCP_HAS_TS, .tsval = 900000, .tsecr = f.t_tsval};
    fx_send_opt(&f, TCP_ACK | TCP_PSH, f.p_nxt, f.p_rcv, "a", 1, &o);
    f.p_nxt += 1;
    f.p_tsval = 900000;
    struct fx_seg s;
    fx_wait(&f, 500, &s);
    cr_assert_eq(s.r.opt.tsecr, 900000);
    fx_down(&f);
}

/* RFC 7323 4.3 (2) for a retransmission of data already received (our
 * ACK was lost): SEG.SEQ <= Last.ACK.sent and a newer TSval, so the ACK it
 * calls for echoes it. Echoing the original's instead would give the peer
 * an RTT sample that holds its retransmission timeout (4.3 (C)). An old
 * TSval on such a duplicate changes nothing. */
Test(tcp_options, tsecr_echoes_a_retransmitted_duplicate)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.ts = true;
    fx_active(&f);
    uint32_t seq = f.p_nxt;
    struct tcp_hdr_opts o = {.has = TCP_HAS_TS, .tsval = 900000, .tsecr = f.t_tsval};
    fx_send_opt(&f, TCP_ACK | TCP_PSH, seq, f.p_rcv, "abc", 3, &o);
    f.p_nxt += 3;
    struct fx_seg s;
    fx_wait(&f, 500, &s);
    cr_assert_eq(s.ack, seq + 3);
    cr_assert_eq(s.r.opt.tsecr, 900000);
    /* that ACK was lost: the same bytes again, 3 s later by their clock */
    o.tsval = 903000;
    fx_send_opt(&f, TCP_ACK | TCP_PSH, seq, f.p_rcv, "abc", 3, &o);
    fx_wait(&f, 500, &s);
    cr_assert_eq(s.ack, seq + 3);
    cr_assert_eq(s.r.opt.tsecr, 903000, "TSecr %u: the original's, not the retransmission's",
                 s.r.opt.tsecr);
    o.tsval = 902000; /* older: echo unchanged */
    fx_send_opt(&f, TCP_ACK | TCP_PSH, seq, f.p_rcv, "abc", 3, &o);
    fx_wait(&f, 500, &s);
    cr_assert_eq(s.r.opt.tsecr, 903000);
    fx_down(&f);
}

/* RFC 7323 5.4 (the TSval clock is monotone): TSvals do not go backwards
 * and move with time. */
Test(tcp_options, tsval_monotonic)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.ts = true;
    int h = fx_active(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_NODELAY, 1), 0);
    uint32_t first = f.t_tsval, last = first;
    for (int i = 0; i < 5; i++) {
        fx_ms(&f, 500);
        cr_assert_eq(fx_write(&f, h, "z", 1), 1);
        struct fx_seg s;
        fx_expect(&f, &s, TCP_ACK, FX_ANY, FX_ANY);
        cr_assert(!tcp_ts_lt(s.r.opt.tsval, last), "TSval went back");
        last = s.r.opt.tsval;
        fx_ack(&f);
    }
    cr_assert(tcp_ts_lt(first, last),
              "TSval did not move in 2.5 s (RFC 7323 5.4: 1 ms..1 s a tick)");
    fx_down(&f);
}

/* RFC 2018 2 (SACK-permitted in our SYN; sack on by default). */
Test(tcp_options, sack_permitted_sent_in_syn)
{
    struct fx f;
    fx_up(&f, NULL);
    struct fx_seg syn;
    fx_connect(&f, &syn);
    cr_assert(syn.r.opt.has & TCP_HAS_SACK_PERM);
    fx_down(&f);
}

/* RFC 2018 2 (SACK-permitted only in a SYN-ACK answering one). */
Test(tcp_options, sack_permitted_only_when_peer_sent)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_listen(&f, FX_LPORT, 8);
    struct fx_seg sa;
    fx_syn(&f, &sa);
    cr_assert_eq(sa.r.opt.has & TCP_HAS_SACK_PERM, 0);
    f.pport = FX_PPORT + 1;
    f.popt.sack_perm = true;
    fx_syn(&f, &sa);
    cr_assert(sa.r.opt.has & TCP_HAS_SACK_PERM);
    fx_down(&f);
}

/* sack=off: no SACK-permitted in the SYN or SYN-ACK. */
Test(tcp_options, sack_param_off)
{
    struct fx f;
    fx_up(&f, FX_P("sack=off"));
    struct fx_seg syn;
    fx_connect(&f, &syn);
    cr_assert_eq(syn.r.opt.has & TCP_HAS_SACK_PERM, 0);
    f.popt.sack_perm = true;
    fx_listen(&f, FX_LPORT, 8);
    f.pport = FX_PPORT;
    fx_syn(&f, &syn);
    cr_assert_eq(syn.r.opt.has & TCP_HAS_SACK_PERM, 0);
    fx_down(&f);
}

/* Sends n pattern bytes at stream offset off of the peer's data. */
static void peer_at(struct fx *f, uint32_t off, uint32_t n)
{
    fx_pattern(pat, sizeof(pat), 0);
    fx_send_sa(f, TCP_ACK, f->p_iss + 1 + off, f->p_rcv, pat + off, n);
}

/* RFC 2018 4 (a receiver that agreed to SACK reports out-of-order data
 * in SACK blocks: left edge, right edge). */
Test(tcp_options, sack_block_for_out_of_order_data)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.sack_perm = true;
    fx_active(&f);
    cr_assert(f.sack_on);
    peer_at(&f, 1000, 500);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert(s.r.opt.has & TCP_HAS_SACK, "no SACK block for out-of-order data");
    cr_assert_eq(s.r.opt.nsack, 1);
    cr_assert_eq(s.r.opt.sack[0].left.v, f.p_iss + 1001);
    cr_assert_eq(s.r.opt.sack[0].right.v, f.p_iss + 1501);
    fx_down(&f);
}

/* RFC 2018 4 (the first block is the one holding the most recently
 * received segment; as many blocks as there are ranges, up to the room). */
Test(tcp_options, sack_first_block_most_recent)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.sack_perm = true;
    fx_active(&f);
    peer_at(&f, 1000, 100);
    fx_drain(&f);
    peer_at(&f, 3000, 100);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert_eq(s.r.opt.nsack, 2);
    cr_assert_eq(s.r.opt.sack[0].left.v, f.p_iss + 3001);
    cr_assert_eq(s.r.opt.sack[0].right.v, f.p_iss + 3101);
    cr_assert_eq(s.r.opt.sack[1].left.v, f.p_iss + 1001);
    cr_assert_eq(s.r.opt.sack[1].right.v, f.p_iss + 1101);
    fx_down(&f);
}

/* RFC 2018 4 (blocks report what is held: adjacent ranges merge, and a
 * filled hole leaves no block). */
Test(tcp_options, sack_blocks_gone_once_hole_filled)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.sack_perm = true;
    fx_active(&f);
    peer_at(&f, 500, 500);
    fx_drain(&f);
    peer_at(&f, 0, 500);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1001);
    cr_assert_eq(s.r.opt.has & TCP_HAS_SACK, 0, "SACK block after the hole was filled");
    fx_down(&f);
}

/* RFC 2018 2 (no SACK unless permitted): without the peer's
 * SACK-permitted, out-of-order data gets a plain duplicate ACK. */
Test(tcp_options, no_sack_blocks_when_not_permitted)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_active(&f);
    peer_at(&f, 1000, 500);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert_eq(s.r.opt.has & TCP_HAS_SACK, 0);
    fx_down(&f);
}

/* RFC 2018 4 with timestamps (both fit: up to 3 blocks with TSopt). */
Test(tcp_options, sack_with_timestamps)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.sack_perm = true;
    f.popt.ts = true;
    fx_active(&f);
    peer_at(&f, 1000, 100);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert(s.r.opt.has & TCP_HAS_TS);
    cr_assert(s.r.opt.has & TCP_HAS_SACK);
    cr_assert_eq(s.r.opt.sack[0].left.v, f.p_iss + 1001);
    fx_down(&f);
}

/* RFC 6691 / RFC 7323 (the data per segment leaves room for the options):
 * with timestamps, payload plus option bytes stay within the MSS. */
Test(tcp_options, segment_with_timestamps_fits_mss)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.ts = true;
    int h = fx_active(&f);
    fx_pattern(pat, sizeof(pat), 0);
    cr_assert_eq(fx_write(&f, h, pat, 3000), 3000);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, FX_ANY);
    cr_assert(s.r.opt.has & TCP_HAS_TS);
    cr_assert_leq(s.len + (s.r.hlen - 20u), 1460u, "%u data + %u option bytes exceed the MSS",
                  s.len, s.r.hlen - 20u);
    cr_assert_geq(s.len, 1400);
    fx_down(&f);
}

/* RFC 7323 1.3, 3.2; RFC 2018 2; RFC 9293 3.7.1: a SYN with MSS, WS,
 * SACK-permitted and timestamps is answered with all four. */
Test(tcp_options, synack_answers_all_four_options)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt = (struct fx_popt){.mss = 1460, .ws = 7, .sack_perm = true, .ts = true};
    fx_listen(&f, FX_LPORT, 8);
    struct fx_seg sa;
    fx_syn(&f, &sa);
    uint8_t all = TCP_HAS_MSS | TCP_HAS_WS | TCP_HAS_SACK_PERM | TCP_HAS_TS;
    cr_assert_eq(sa.r.opt.has & all, all, "SYN-ACK options 0x%x", sa.r.opt.has);
    cr_assert(f.ws_on && f.ts_on && f.sack_on);
    fx_down(&f);
}

/* RFC 7323 3.2 (the SYN-ACK's TSecr echoes the SYN's TSval). */
Test(tcp_options, synack_tsecr_echoes_syn_tsval)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.ts = true;
    fx_listen(&f, FX_LPORT, 8);
    struct fx_seg sa;
    fx_syn(&f, &sa);
    cr_assert(sa.r.opt.has & TCP_HAS_TS);
    cr_assert_eq(sa.r.opt.tsecr, f.p_tsval, "TSecr %u, the SYN's TSval %u", sa.r.opt.tsecr,
                 f.p_tsval);
    fx_down(&f);
}

/* TCP_CONGESTION (l4 1.2, issue 10.3): the name of the congestion control,
 * "newreno" by default; an unknown name is refused and changes nothing. */
Test(tcp_options, congestion_control_name)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_open(&f);
    char name[16] = {0};
    uint32_t len = sizeof(name);
    cr_assert_eq(f.l4->getopt_buf(f.t, h, LYRA_TCP_CONGESTION, name, &len), 0);
    cr_assert_eq(strncmp(name, "newreno", len), 0, "congestion control %.*s", (int)len, name);
    cr_assert_lt(f.l4->setopt_buf(f.t, h, LYRA_TCP_CONGESTION, "no-such-cc", 10), 0);
    len = sizeof(name);
    cr_assert_eq(f.l4->getopt_buf(f.t, h, LYRA_TCP_CONGESTION, name, &len), 0);
    cr_assert_eq(strncmp(name, "newreno", len), 0);
    cr_assert_eq(f.l4->setopt_buf(f.t, h, LYRA_TCP_CONGESTION, "newreno", 7), 0);
    /* CUBIC (RFC 9438, issue 11.1) is the second */
    cr_assert_eq(f.l4->setopt_buf(f.t, h, LYRA_TCP_CONGESTION, "cubic", 5), 0);
    len = sizeof(name);
    cr_assert_eq(f.l4->getopt_buf(f.t, h, LYRA_TCP_CONGESTION, name, &len), 0);
    cr_assert_eq(strncmp(name, "cubic", len), 0, "congestion control %.*s", (int)len, name);
    fx_down(&f);
}

/* TCP_INFO (l4 1.2): the negotiated options, the send MSS and a congestion
 * window of at least one segment (RFC 5681 3.1). */
Test(tcp_options, tcp_info_reports_negotiation)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt = (struct fx_popt){.mss = 1000, .ws = 5, .sack_perm = true, .ts = true};
    int h = fx_active(&f);
    struct lyra_tcp_info ti;
    fx_info(&f, h, &ti);
    unsigned all = LYRA_TCPI_OPT_TIMESTAMPS | LYRA_TCPI_OPT_SACK | LYRA_TCPI_OPT_WSCALE;
    cr_assert_eq(ti.options & all, all);
    cr_assert_eq(ti.snd_wscale, 5);
    cr_assert_eq(ti.rcv_wscale, f.t_ws);
    cr_assert(ti.snd_mss <= 1000 && ti.snd_mss >= 1000 - 12, "snd_mss %u", ti.snd_mss);
    cr_assert_geq(ti.snd_cwnd, ti.snd_mss);
    cr_assert_eq(strncmp(ti.congestion, "newreno", sizeof(ti.congestion)), 0);
    fx_down(&f);
}

/* RFC 9293 3.2 (MUST-65: an MSS option only in SYN segments): data, pure
 * ACKs and FINs carry none. */
Test(tcp_options, mss_option_only_in_syn)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.ts = true;
    int h = fx_active(&f);
    fx_pattern(pat, sizeof(pat), 0);
    cr_assert_eq(fx_write(&f, h, pat, 2000), 2000);
    fx_send(&f, TCP_ACK | TCP_PSH, "x", 1);
    fx_ms(&f, 200);
    fx_shutdown(&f, h, 1);
    struct fx_seg s;
    unsigned n = 0;
    while (fx_next(&f, &s)) {
        cr_assert_eq(s.r.opt.has & TCP_HAS_MSS, 0, "MSS option on a segment with flags 0x%x",
                     s.flags);
        n++;
    }
    cr_assert_geq(n, 3);
    fx_down(&f);
}

/* RFC 9293 3.9.1.9 (MUST-48: the application sets the Diffserv field) and
 * 3.9.2 (MUST-49: the TTL is configurable): IP_TOS and IP_TTL reach ip
 * with every segment of the connection. */
Test(tcp_options, ip_tos_and_ttl_set_by_application)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_IP_TOS, 0x28), 0);
    cr_assert_eq(fx_setopt(&f, h, LYRA_IP_TTL, 7), 0);
    cr_assert_eq(fx_write(&f, h, "tos", 3), 3);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, FX_ANY);
    cr_assert_eq(s.tos, 0x28);
    cr_assert_eq(s.ttl, 7);
    fx_down(&f);
}
