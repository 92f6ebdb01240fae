/* tcp state machine, black box: ICMP errors about our segments (RFC 9293
 * 3.9.2.2, RFC 1122 4.2.3.9). A hard error (port unreachable) ends a
 * connect with ECONNREFUSED; soft errors (network, host unreachable) never
 * abort a connection, opening or established, except ip's own host
 * unreachable for a next hop that never answered ARP, which ends a connect; an error quoting a sequence
 * number not in flight is ignored (RFC 5927 4.1). "Fragmentation needed"
 * (RFC 1191) lowers the MSS and what was in flight goes again, cut to it;
 * fake_l3 plays ip's path MTU (one for every destination). Fixture:
 * tcp_fx.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "fake_l3.h"
#include "tcp_fx.h"

/* ip hands up error e about our segment with sequence number seq. */
static void icmp_err(struct fx *f, struct lyra_l3_icmp_err e, uint32_t seq)
{
    e.src = FX_US;
    e.dst = f->peer;
    e.proto = 6;
    tcp_st16(e.l4, f->lport);
    tcp_st16(e.l4 + 2, f->pport);
    tcp_st32(e.l4 + 4, seq);
    cr_assert_eq(fake_l3_icmp_error(f->fl, &e), 0);
    fx_run(f);
}

/* A received ICMP error quoting seq (with next-hop MTU mtu for
 * fragmentation needed). */
static void icmp_mtu(struct fx *f, uint8_t type, uint8_t code, uint32_t seq, uint32_t mtu)
{
    icmp_err(f, (struct lyra_l3_icmp_err){.type = type, .code = code, .mtu = mtu}, seq);
}

static void icmp(struct fx *f, uint8_t type, uint8_t code, uint32_t seq)
{
    icmp_mtu(f, type, code, seq, 0);
}

/* ip's own host unreachable (l3 2.4 local): the link gave up on the next
 * hop of our segment with sequence number seq (no ARP answer). */
static void link_gave_up(struct fx *f, uint32_t seq)
{
    icmp_err(f, (struct lyra_l3_icmp_err){.type = 3, .code = 1, .local = 1}, seq);
}

static uint64_t tst(struct fx *f, const char *name)
{
    uint64_t v = lt_stat(f->tcp, name);
    cr_assert_neq(v, UINT64_MAX, "tcp reports no counter %s", name);
    return v;
}

/* RFC 1122 4.2.3.9 (codes 2-4 are hard errors: SHOULD abort), RFC 9293
 * 3.9.2.2; the contract's ECONNREFUSED: port unreachable for our SYN ends
 * the connect, and no more SYNs go out. */
Test(tcp_icmp, port_unreachable_refuses_connect)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    icmp(&f, 3, 3, f.t_iss);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR);
    cr_assert_eq(fx_soerror(&f, h), ECONNREFUSED);
    cr_assert_eq(fx_wait_maybe(&f, 5000, NULL), UINT64_MAX, "SYN sent again after refusal");
    fx_down(&f);
}

/* RFC 1122 4.2.3.9 (codes 0, 1, 5 are soft errors: TCP MUST NOT abort the
 * connection): host unreachable for our SYN does not end the connect (no
 * ERR, which ends a connect in l4); the SYN is sent again and a SYN-ACK
 * still completes the connection. */
Test(tcp_icmp, host_unreachable_does_not_abort_connect)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    icmp(&f, 3, 1, f.t_iss);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0, "a soft error ended the connect");
    struct fx_seg s;
    fx_wait(&f, 2000, &s);
    cr_assert_eq(s.flags, TCP_SYN);
    fx_synack(&f);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_OUT);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    fx_down(&f);
}

/* Our own link's give-up (l3 2.4 local: the next hop never answered ARP)
 * ends a connect at once with EHOSTUNREACH, as on Linux, where the same
 * message from the network (above) leaves it to the SYN retries: no
 * router's passing trouble, no forgery. No SYN goes out after it. */
Test(tcp_icmp, link_give_up_ends_connect)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    uint64_t before = tst(&f, "conns_unreachable");
    link_gave_up(&f, f.t_iss);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR, "the connect goes on after the link gave up");
    cr_assert_eq(fx_soerror(&f, h), EHOSTUNREACH);
    cr_assert_eq(tst(&f, "conns_unreachable"), before + 1);
    cr_assert_eq(fx_wait_maybe(&f, 5000, NULL), UINT64_MAX, "SYN sent again after the give-up");
    fx_down(&f);
}

/* On an open connection the link's give-up stays soft (RFC 1122 4.2.3.9:
 * the neighbour may answer ARP again; Linux too keeps the connection):
 * reported once, the connection established. */
Test(tcp_icmp, link_give_up_on_an_open_connection_is_soft)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_write(&f, h, "data", 4), 4);
    fx_drain(&f);
    link_gave_up(&f, f.t_iss + 1);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    cr_assert_eq(fx_soerror(&f, h), EHOSTUNREACH);
    cr_assert_eq(fx_soerror(&f, h), 0, "reported more than once");
    cr_assert_eq(tst(&f, "conns_unreachable"), 0);
    fx_down(&f);
}

/* RFC 1122 4.2.3.9, RFC 9293 3.9.2.2 (MUST NOT abort on soft errors; the
 * application SHOULD learn of them): network unreachable about data of an
 * established connection leaves it established; the data is retransmitted
 * and acknowledged, and sending goes on. */
Test(tcp_icmp, net_unreachable_does_not_abort_established)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_write(&f, h, "data", 4), 4);
    fx_drain(&f);
    uint32_t sent = f.p_rcv;
    f.p_rcv = f.t_iss + 1; /* lost */
    icmp(&f, 3, 0, f.t_iss + 1);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    struct fx_seg s;
    fx_wait(&f, 3000, &s);
    cr_assert_eq(s.seq, f.t_iss + 1);
    cr_assert_eq(s.len, 4);
    fx_ack(&f);
    cr_assert_eq(f.p_rcv, sent);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    /* the error is made available to the application (SHOULD) by one
     * send, as Linux's sk_err on the next call; the connection goes on */
    cr_assert_eq(fx_write(&f, h, "more", 4), -ENETUNREACH, "the soft error was not reported");
    cr_assert_eq(fx_write(&f, h, "more", 4), 4, "reported once, then sending goes on");
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 9293 3.9.2.2 (ICMP errors are directed to the connection that caused
 * them): an error quoting a port pair we have no connection for changes
 * nothing. */
Test(tcp_icmp, error_for_unknown_connection_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    uint16_t lp = f.lport;
    f.lport = (uint16_t)(lp + 1);
    icmp(&f, 3, 3, f.t_iss);
    f.lport = lp;
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_SYN_SENT);
    fx_down(&f);
}

/* RFC 9293 3.9.2.2 (MUST-55: Source Quench is silently discarded). */
Test(tcp_icmp, source_quench_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    icmp(&f, 4, 0, f.t_iss + 1);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    cr_assert_eq(fx_soerror(&f, h), 0);
    cr_assert_eq(fx_write(&f, h, "x", 1), 1);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, FX_ANY);
    fx_down(&f);
}

/* RFC 9293 3.9.1.8 / 3.9.2.2 (MUST-47: soft errors are reported to the
 * application; SHLD: make the information available): host unreachable on
 * an established connection shows in SO_ERROR, and the connection stays. */
Test(tcp_icmp, soft_error_reported_to_application)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_write(&f, h, "data", 4), 4);
    fx_drain(&f);
    icmp(&f, 3, 1, f.t_iss + 1);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR, "the soft error was not reported");
    cr_assert_eq(fx_soerror(&f, h), EHOSTUNREACH);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    fx_down(&f);
}

/* ----- RFC 5927 4.1: only errors about a segment in flight ----------------- */

/* RFC 5927 4.1 (RFC 9293 3.9.2.2): an ICMP error is believed only when the
 * sequence number it quotes is in SND.UNA <= SEG.SEQ < SND.NXT, which in
 * SYN-SENT is the ISS alone; others are dropped and counted, so a blind
 * attacker must guess it. A port unreachable quoting the wrong number does
 * not end a connect; quoting the ISS it does. */
Test(tcp_icmp, errors_quoting_a_sequence_number_not_in_flight_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    icmp(&f, 3, 3, f.t_iss + 1);
    icmp(&f, 3, 3, f.t_iss - 1);
    cr_assert_eq(tst(&f, "icmp_errors_bad_seq"), 2);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0, "a port unreachable out of window ended it");
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_SYN_SENT);
    fx_synack(&f);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert_eq(fx_write(&f, h, "data", 4), 4);
    fx_drain(&f);
    /* in flight: [ISS+1, ISS+5); the SYN's number is acknowledged, ISS+5
     * not sent yet */
    icmp(&f, 3, 1, f.t_iss);
    icmp(&f, 3, 1, f.t_iss + 5);
    icmp(&f, 3, 1, f.t_iss + 1 + 0x80000000u);
    cr_assert_eq(tst(&f, "icmp_errors_bad_seq"), 5);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    cr_assert_eq(fx_soerror(&f, h), 0, "an out-of-window soft error was reported");
    icmp(&f, 3, 1, f.t_iss + 4); /* the last byte in flight */
    cr_assert_eq(fx_soerror(&f, h), EHOSTUNREACH);
    cr_assert_eq(tst(&f, "icmp_errors_in"), 6);
    fx_down(&f);

    fx_up(&f, NULL);
    h = fx_connect(&f, NULL);
    icmp(&f, 3, 3, f.t_iss);
    cr_assert_eq(fx_soerror(&f, h), ECONNREFUSED);
    fx_down(&f);
}

/* RFC 1122 4.2.3.9 (protocol unreachable, code 2, is a hard error too):
 * it ends a connect. */
Test(tcp_icmp, protocol_unreachable_refuses_connect)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    icmp(&f, 3, 2, f.t_iss);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR);
    cr_assert_eq(fx_soerror(&f, h), ECONNREFUSED);
    cr_assert_eq(tst(&f, "conns_refused"), 1);
    fx_down(&f);
}

/* Hard errors abort a connection only while it opens: RFC 1122 4.2.3.9
 * says an open one SHOULD abort, RFC 5461 argues it should not (a router's
 * passing trouble), and Linux keeps trying until it times out; so does
 * this stack. The error is reported once (MUST-47), and the connection
 * goes on. */
Test(tcp_icmp, hard_error_on_an_open_connection_reported_not_fatal)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_write(&f, h, "data", 4), 4);
    fx_drain(&f);
    icmp(&f, 3, 3, f.t_iss + 1);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    cr_assert_eq(fx_soerror(&f, h), ECONNREFUSED);
    cr_assert_eq(fx_soerror(&f, h), 0, "reported more than once");
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0, "POLLERR stays after the error was read");
    fx_ack(&f);
    cr_assert_eq(fx_write(&f, h, "more", 4), 4);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 5, FX_ANY);
    cr_assert_eq(s.len, 4);
    fx_down(&f);
}

/* RFC 1122 4.2.3.9 in SYN-RECEIVED of a passive open: port unreachable
 * quoting our SYN-ACK (its ISS) ends the half-open connection, as a RST
 * would (RFC 9293 3.10.7.4: back to LISTEN); the listener's backlog gets
 * its place back. */
Test(tcp_icmp, port_unreachable_ends_a_passive_syn_received)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_listen(&f, FX_LPORT, 1);
    fx_syn(&f, NULL);
    icmp(&f, 3, 3, f.t_iss + 1); /* not the ISS: ignored */
    cr_assert_eq(tst(&f, "icmp_errors_bad_seq"), 1);
    icmp(&f, 3, 3, f.t_iss);
    fx_expect_gone(&f);
    f.pport = FX_PPORT + 1;
    f.p_iss = 7000000;
    int h = fx_passive(&f); /* the backlog of 1 is free again */
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    fx_down(&f);
}

/* ----- RFC 1191: fragmentation needed ------------------------------------- */

/* Reads what tcp sent until it stops: each segment in sequence from *at
 * (advanced), with DF (RFC 1191 3), in IP datagrams of at most max bytes;
 * returns how many, their payload lengths in lens (at most 16). */
static unsigned read_run(struct fx *f, uint32_t *at, uint32_t max, uint32_t *lens)
{
    struct fx_seg s;
    unsigned n = 0;
    while (fx_next(f, &s)) {
        cr_assert(s.df, "a segment without DF (RFC 1191)");
        cr_assert_eq(s.seq, *at, "segment %u at %u, expected %u", n, s.seq, *at);
        cr_assert_leq(s.ip_len, max, "a %u-byte datagram on a path of %u", s.ip_len, max);
        if (n < 16)
            lens[n] = s.len;
        n++;
        *at += s.len;
    }
    return n;
}

/* The peer acknowledges all it has and reads what follows until *at
 * reaches end (each run as read_run), at most 8 rounds. */
static void ack_until(struct fx *f, uint32_t *at, uint32_t end, uint32_t max)
{
    uint32_t lens[16];
    for (int k = 0; k < 8 && *at != end; k++) {
        fx_ack(f);
        cr_assert_gt(read_run(f, at, max, lens), 0, "nothing sent after an ACK");
    }
    cr_assert_eq(*at, end);
    fx_ack(f);
}

/* RFC 1191 6.4 (and 3: DF on every segment): "fragmentation needed" with
 * MTU 1280 about a segment in flight lowers the MSS to 1240; all that was
 * in flight (the router dropped every 1500-byte segment) goes again at
 * once, no segment over 1240, and so does everything after, in segments
 * of 1240. Nothing is copied: the send queue keeps its skbs, and a
 * segment sent alone ends at its skb, so skbs of one old MSS each go as
 * 1240 bytes and the 220 left, and a write queued whole (the NIC sums:
 * fx_sndq_by_write) as 1240, 1240 and 1240, the last with 800 new bytes
 * behind the 440 sent before. Not a congestion signal: cwnd
 * and ssthresh stay. ip is told (pmtu_update) for the others. */
Test(tcp_icmp, frag_needed_resends_what_was_in_flight_cut_to_the_new_mss)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    uint8_t d[4000];
    fx_pattern(d, sizeof(d), 0);
    cr_assert_eq(fx_write(&f, h, d, sizeof(d)), 4000);
    uint32_t lens[16], at = f.t_iss + 1;
    cr_assert_eq(read_run(&f, &at, 1500, lens), 2); /* the last 1080 wait (Nagle) */
    cr_assert_eq(lens[0], 1460);
    cr_assert_eq(lens[1], 1460);
    struct lyra_tcp_info before, ti;
    fx_info(&f, h, &before);
    f.p_rcv = f.t_iss + 1; /* both dropped at the router */
    icmp_mtu(&f, 3, 4, f.t_iss + 1461, 1280); /* about the second segment */
    cr_assert_eq(tst(&f, "pmtu_lowered"), 1);
    cr_assert_eq(fake_l3_cfg(f.fl)->pmtu_dst, FX_PEER);
    cr_assert_eq(fake_l3_cfg(f.fl)->pmtu_claim, 1280);
    at = f.t_iss + 1;
    bool whole = fx_sndq_by_write(&f);
    unsigned nrtx = whole ? 3 : 4;
    cr_assert_eq(read_run(&f, &at, 1280, lens), nrtx, "not all in flight was sent again");
    cr_assert_eq(lens[0], 1240);
    if (whole) {
        /* the third: the last 440 sent and 800 new, the 280 left wait */
        cr_assert_eq(at, f.t_iss + 3721);
        cr_assert_eq(lens[1], 1240);
        cr_assert_eq(lens[2], 1240);
    } else {
        cr_assert_eq(at, f.t_iss + 2921);
        cr_assert_eq(lens[1], 220);
        cr_assert_eq(lens[2], 1240);
        cr_assert_eq(lens[3], 220);
    }
    fx_info(&f, h, &ti);
    cr_assert_eq(ti.snd_mss, 1240);
    cr_assert_eq(ti.snd_cwnd, before.snd_cwnd, "RFC 1191 6.4: cwnd cut");
    cr_assert_eq(ti.snd_ssthresh, before.snd_ssthresh);
    cr_assert_eq(tst(&f, "tx_retrans_segs"), nrtx);
    ack_until(&f, &at, f.t_iss + 4001, 1280); /* what Nagle held */
    /* new data: in segments of the new MSS */
    cr_assert_eq(fx_write(&f, h, d, 3000), 3000);
    cr_assert_eq(read_run(&f, &at, 1280, lens), 2);
    cr_assert_eq(lens[0], 1240);
    cr_assert_eq(lens[1], 1240);
    ack_until(&f, &at, f.t_iss + 7001, 1280);
    cr_assert_eq(f.p_rcv, f.t_iss + 7001);
    fx_down(&f);
}

/* RFC 1191 6.4: a short last segment sent again after going back is not
 * held by Nagle (RFC 896 holds new small data only): a 1300-byte segment
 * goes again at once as 1240 and 60, not the 60 one RTO later. */
Test(tcp_icmp, frag_needed_resends_a_short_last_piece_at_once)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    uint8_t d[1300];
    fx_pattern(d, sizeof(d), 0);
    cr_assert_eq(fx_write(&f, h, d, sizeof(d)), 1300);
    uint32_t lens[16], at = f.t_iss + 1;
    cr_assert_eq(read_run(&f, &at, 1500, lens), 1);
    f.p_rcv = f.t_iss + 1;
    icmp_mtu(&f, 3, 4, f.t_iss + 1, 1280);
    at = f.t_iss + 1;
    cr_assert_eq(read_run(&f, &at, 1280, lens), 2, "the last 60 bytes were held");
    cr_assert_eq(lens[0], 1240);
    cr_assert_eq(lens[1], 60);
    fx_ack(&f);
    fx_expect_none(&f);
    fx_down(&f);
}

/* RFC 1191 6.4 with timestamps (RFC 7323 3.2: 12 option bytes in every
 * segment): the datagrams sent again fill the 1280 bytes exactly. */
Test(tcp_icmp, frag_needed_leaves_room_for_the_timestamps)
{
    struct fx f;
    fx_up(&f, NULL);
    f.popt.ts = true;
    int h = fx_active(&f);
    cr_assert(f.ts_on);
    uint8_t d[3000];
    fx_pattern(d, sizeof(d), 0);
    cr_assert_eq(fx_write(&f, h, d, sizeof(d)), 3000);
    fx_drain(&f);
    f.p_rcv = f.t_iss + 1;
    icmp_mtu(&f, 3, 4, f.t_iss + 1, 1280);
    struct fx_seg s;
    cr_assert(fx_next(&f, &s));
    cr_assert(s.r.opt.has & TCP_HAS_TS);
    cr_assert_eq(s.ip_len, 1280);
    cr_assert_eq(s.len, 1228);
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 5927 4.1 for fragmentation needed: one quoting a sequence number not
 * in flight changes nothing, and ip is not told. */
Test(tcp_icmp, frag_needed_quoting_a_sequence_number_not_in_flight_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    uint8_t d[2000];
    fx_pattern(d, sizeof(d), 0);
    cr_assert_eq(fx_write(&f, h, d, sizeof(d)), 2000);
    fx_drain(&f);
    icmp_mtu(&f, 3, 4, f.t_iss, 1280);
    icmp_mtu(&f, 3, 4, f.t_iss + 2001, 1280);
    icmp_mtu(&f, 3, 4, f.t_iss + 100000, 1280);
    cr_assert_eq(tst(&f, "icmp_errors_bad_seq"), 3);
    fx_expect_none(&f);
    cr_assert_eq(lt_stat(f.l3, "pmtu_updates"), 0, "ip heard of an unchecked claim");
    struct lyra_tcp_info ti;
    fx_info(&f, h, &ti);
    cr_assert_eq(ti.snd_mss, 1460);
    cr_assert_eq(tst(&f, "pmtu_lowered"), 0);
    fx_down(&f);
}

/* RFC 5927 section 7 and RFC 1191 6.3: a next-hop MTU not below what the
 * connection sends cannot be why a segment was dropped, one below ip's
 * floor (pmtu_min, fake_l3's 552) is refused, and a SYN never needs
 * fragmenting: each is ignored and counted, the MSS stays, nothing is
 * resent, and no fragmentation needed ends a connect (it is no longer the
 * hard error of RFC 1122 4.2.3.9). */
Test(tcp_icmp, frag_needed_claims_not_believed)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    icmp_mtu(&f, 3, 4, f.t_iss, 1280);
    cr_assert_eq(tst(&f, "pmtu_ignored"), 1);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    fx_synack(&f);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    uint8_t d[2000];
    fx_pattern(d, sizeof(d), 0);
    cr_assert_eq(fx_write(&f, h, d, sizeof(d)), 2000);
    fx_drain(&f);
    icmp_mtu(&f, 3, 4, f.t_iss + 1, 1500);
    icmp_mtu(&f, 3, 4, f.t_iss + 1, 9000);
    icmp_mtu(&f, 3, 4, f.t_iss + 1, 500);
    icmp_mtu(&f, 3, 4, f.t_iss + 1, 0); /* no MTU and no guess */
    cr_assert_eq(tst(&f, "pmtu_ignored"), 5);
    cr_assert_eq(tst(&f, "pmtu_lowered"), 0);
    fx_expect_none(&f);
    struct lyra_tcp_info ti;
    fx_info(&f, h, &ti);
    cr_assert_eq(ti.snd_mss, 1460);
    cr_assert_eq(fx_soerror(&f, h), 0, "EMSGSIZE reported on a stream");
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    fx_down(&f);
}

/* RFC 1191 6.4 for the other connections to the destination: ip's path
 * MTU (here fake_l3's, lowered by the first connection's ICMP) sets their
 * MSS on their next segment, and one cut for the old size is cut again
 * rather than sent; when the estimate ages out (RFC 1191 6.3, here set
 * back by hand), the MSS rises again to what the handshake allowed. */
Test(tcp_icmp, other_connections_follow_the_path_mtu_both_ways)
{
    struct fx f;
    fx_up(&f, NULL);
    int h1 = fx_passive(&f);
    uint32_t iss1 = f.t_iss, p1_nxt = f.p_nxt;
    f.pport = FX_PPORT + 1;
    f.p_iss = 7000000;
    int h2 = fx_passive(&f);
    uint32_t iss2 = f.t_iss, p2_nxt = f.p_nxt;
    uint8_t d[3000];
    fx_pattern(d, sizeof(d), 0);
    uint32_t lens[16], at;
    /* connection 1 learns the path is 1280 */
    f.pport = FX_PPORT;
    f.t_iss = iss1;
    f.p_nxt = p1_nxt;
    f.p_rcv = iss1 + 1;
    cr_assert_eq(fx_write(&f, h1, d, sizeof(d)), 3000);
    fx_drain(&f);
    f.p_rcv = iss1 + 1;
    icmp_mtu(&f, 3, 4, iss1 + 1, 1280);
    at = iss1 + 1;
    bool whole = fx_sndq_by_write(&f); /* see frag_needed_resends_what_was_in_flight... */
    cr_assert_eq(read_run(&f, &at, 1280, lens), whole ? 3 : 4);
    ack_until(&f, &at, iss1 + 3001, 1280); /* the 80 Nagle held */
    cr_assert_eq(tst(&f, "pmtu_mss_synced"), 0);
    /* connection 2 never saw an ICMP */
    f.pport = FX_PPORT + 1;
    f.t_iss = iss2;
    f.p_nxt = p2_nxt;
    f.p_rcv = iss2 + 1;
    cr_assert_eq(fx_write(&f, h2, d, sizeof(d)), 3000); /* queued for an MSS of 1460 */
    at = iss2 + 1;
    /* the rest waits (Nagle): 300 behind skbs of 1460, 520 behind one of 3000 */
    cr_assert_eq(read_run(&f, &at, 1280, lens), whole ? 2 : 3);
    cr_assert_eq(lens[0], 1240);
    cr_assert_eq(lens[1], whole ? 1240 : 220);
    if (!whole)
        cr_assert_eq(lens[2], 1240);
    cr_assert_eq(tst(&f, "pmtu_mss_synced"), 1);
    struct lyra_tcp_info ti;
    fx_info(&f, h2, &ti);
    cr_assert_eq(ti.snd_mss, 1240);
    ack_until(&f, &at, iss2 + 3001, 1280);
    /* the estimate ages out: back to the handshake's 1460 */
    fake_l3_cfg(f.fl)->mtu = 1500;
    cr_assert_eq(fx_write(&f, h2, d, 1000), 1000);
    cr_assert_eq(read_run(&f, &at, 1500, lens), 1);
    fx_info(&f, h2, &ti);
    cr_assert_eq(ti.snd_mss, 1460, "the MSS did not rise again");
    cr_assert_eq(tst(&f, "pmtu_mss_synced"), 2);
    fx_ack(&f);
    cr_assert_eq(fx_write(&f, h2, d, sizeof(d)), 3000);
    cr_assert_eq(read_run(&f, &at, 1500, lens), 2);
    cr_assert_eq(lens[0], 1460);
    cr_assert_eq(lens[1], 1460);
    ack_until(&f, &at, iss2 + 7001, 1500);
    fx_down(&f);
}

/* RFC 9293 3.7.1 and RFC 2923 2.3: the MSS announced comes from the link's
 * MTU, never the path's (the way back may carry more); the MSS sent with
 * is within the path MTU from the first segment. */
Test(tcp_icmp, mss_announced_from_the_link_sent_within_the_path)
{
    struct fx f;
    fx_up(&f, NULL);
    fake_l3_cfg(f.fl)->mtu = 1280; /* a path MTU ip learnt before */
    struct fx_seg syn;
    int h = fx_connect(&f, &syn);
    cr_assert_eq(syn.r.opt.mss, 1460);
    fx_synack(&f);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    uint8_t d[3000];
    fx_pattern(d, sizeof(d), 0);
    cr_assert_eq(fx_write(&f, h, d, sizeof(d)), 3000);
    uint32_t lens[16], at = f.t_iss + 1;
    cr_assert_eq(read_run(&f, &at, 1280, lens), 2); /* the 520 left waits (Nagle) */
    cr_assert_eq(lens[0], 1240);
    cr_assert_eq(lens[1], 1240);
    cr_assert_eq(tst(&f, "pmtu_mss_synced"), 0, "the first segments were cut for 1500");
    fx_down(&f);
}
