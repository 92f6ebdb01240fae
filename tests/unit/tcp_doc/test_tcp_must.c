/* tcp state machine, black box: RFC 9293 MUSTs that docs/tcp.md's table
 * found without a test among the topic files of tests/unit/tcp (same
 * fixture, tcp_fx.h). Each test names its MUST. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "fake_l3.h"
#include "tcp_fx.h"

static uint8_t pat[12000];

/* The last datagram tcp handed to l3 (before the fixture reads it). */
static const struct fake_l3_out *last_out(struct fx *f)
{
    fx_run(f);
    unsigned n = fake_l3_out_count(f->fl);
    cr_assert_gt(n, 0, "tcp sent nothing");
    return fake_l3_out(f->fl, n - 1);
}

/* MUST-28 (3.8.4): with SO_KEEPALIVE on and nothing else set, the first
 * probe waits two hours of idleness (keep_idle_s 7200), not less. */
Test(tcp_must, keepalive_default_idle_is_two_hours)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_SO_KEEPALIVE, 1), 0);
    cr_assert_eq(fx_getopt(&f, h, LYRA_TCP_KEEPIDLE), 7200);
    fx_ms(&f, 7199 * 1000ull);
    fx_expect_none(&f);
    struct fx_seg s;
    fx_wait(&f, 2000, &s);
    cr_assert_eq(s.seq, f.t_iss, "keepalive seq %u, want SND.NXT-1 %u", s.seq, f.t_iss);
    fx_down(&f);
}

/* MUST-34 (3.8.6): the peer moves its right edge left of SND.NXT. tcp
 * sends no new data into the negative usable window, retransmits only
 * within SND.UNA+SND.WND (SHLD-16), and resumes, byte-exact, when the
 * window opens. */
Test(tcp_must, shrunk_window_survived)
{
    fx_pattern(pat, sizeof(pat), 0);
    struct fx f;
    fx_up(&f, NULL);
    f.p_win = 2920;
    int h = fx_active(&f);
    fx_ack_win(&f, f.t_iss + 1, 2920);
    cr_assert_eq(fx_write(&f, h, pat, 10000), 10000);
    struct fx_seg s;
    uint32_t sent = 0;
    while (fx_next(&f, &s))
        sent += s.len;
    cr_assert_eq(sent, 2920, "sent %u bytes into a 2920-byte window", sent);
    /* acknowledges nothing new, offers 1000: the edge moves 1920 left */
    fx_ack_win(&f, f.t_iss + 1, 1000);
    while (fx_next(&f, &s))
        cr_assert_eq(s.len, 0, "%u bytes at %u after the window shrank", s.len, s.seq);
    fx_wait(&f, 5000, &s);
    cr_assert_eq(s.seq, f.t_iss + 1, "the retransmission starts at %u", s.seq);
    cr_assert(s.len > 0 && s.len <= 1000, "a %u-byte retransmission into 1000 bytes", s.len);
    cr_assert_eq(memcmp(s.data, pat, s.len), 0);
    fx_drain(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    /* everything sent so far arrives, and the window opens again */
    fx_ack_win(&f, f.t_iss + 1 + 2920, 65535);
    static uint8_t got[10000];
    uint32_t n = 2920;
    memcpy(got, pat, n);
    for (int round = 0; n < 10000 && round < 40; round++) {
        while (fx_next(&f, &s)) {
            uint32_t off = s.seq - (f.t_iss + 1);
            cr_assert_leq(off + s.len, 10000u);
            memcpy(got + off, s.data, s.len);
            if (off + s.len > n)
                n = off + s.len;
        }
        fx_ack(&f);
        fx_ms(&f, 50);
    }
    cr_assert_eq(n, 10000u, "%u of 10000 bytes sent after the window reopened", n);
    cr_assert_eq(memcmp(got, pat, 10000), 0);
    fx_down(&f);
}

/* MUST-48 (3.9.1.9) and MUST-49 (3.9.2): IP_TOS and IP_TTL reach ip with
 * every segment of the connection; before they are set, ip's own TTL (0
 * asks for it) and TOS 0. */
Test(tcp_must, ip_ttl_and_tos_go_with_every_segment)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_write(&f, h, "a", 1), 1);
    const struct fake_l3_out *o = last_out(&f);
    cr_assert_eq(o->ttl, 0);
    cr_assert_eq(o->tos, 0);
    fx_drain(&f);
    fx_ack(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_IP_TTL, 7), 0);
    cr_assert_eq(fx_setopt(&f, h, LYRA_IP_TOS, 0x28), 0);
    cr_assert_eq(fx_write(&f, h, "b", 1), 1);
    o = last_out(&f);
    cr_assert_eq(o->ttl, 7);
    cr_assert_eq(o->tos, 0x28);
    fx_drain(&f);
    /* a pure ACK of the peer's data too */
    fx_send(&f, TCP_ACK | TCP_PSH, "x", 1);
    fx_ms(&f, 300);
    o = last_out(&f);
    cr_assert_eq(o->ttl, 7);
    cr_assert_eq(o->tos, 0x28);
    fx_drain(&f);
    fx_down(&f);
}

/* MUST-47 (3.9.1.8) for ICMP, MUST-55 and MUST-56 (3.9.2.2): a soft error
 * (host unreachable) reaches the application as SO_ERROR with POLLERR and
 * the connection stays; a Source Quench changes nothing at all. */
static void icmp(struct fx *f, uint8_t type, uint8_t code, uint32_t seq)
{
    struct lyra_l3_icmp_err e = {.type = type, .code = code, .src = FX_US, .dst = f->peer,
                                 .proto = 6};
    tcp_st16(e.l4, f->lport);
    tcp_st16(e.l4 + 2, f->pport);
    tcp_st32(e.l4 + 4, seq);
    cr_assert_eq(fake_l3_icmp_error(f->fl, &e), 0);
    fx_run(f);
}

Test(tcp_must, soft_icmp_error_reported_connection_kept)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    icmp(&f, 3, 1, f.t_iss + 1);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR, "no POLLERR after host unreachable");
    cr_assert_eq(fx_soerror(&f, h), EHOSTUNREACH);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    cr_assert_eq(fx_write(&f, h, "ok", 2), 2);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, FX_ANY);
    cr_assert_eq(s.len, 2);
    fx_down(&f);
}

Test(tcp_must, source_quench_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_write(&f, h, "data", 4), 4);
    fx_drain(&f);
    icmp(&f, 4, 0, f.t_iss + 1);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    cr_assert_eq(fx_soerror(&f, h), 0);
    fx_expect_none(&f);
    fx_ack(&f);
    cr_assert_eq(fx_write(&f, h, "more", 4), 4);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 5, FX_ANY);
    cr_assert_eq(s.len, 4, "a Source Quench shrank the next segment to %u bytes", s.len);
    fx_down(&f);
}

/* MUST-57 (3.9.2.3): a SYN (or anything) addressed to a broadcast or
 * multicast address is dropped without an answer, to a listener's port
 * or to a closed one. */
static void to_bcast(struct fx *f, uint32_t dst, uint32_t l3flags, uint16_t dport)
{
    uint8_t b[TCP_HDR_MAX];
    struct tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.sport = FX_PPORT;
    r.dport = dport;
    r.seq = tcp_seq(1000);
    r.flags = TCP_SYN;
    r.window = 65535;
    r.opt.has = TCP_HAS_MSS;
    r.opt.mss = 1460;
    uint32_t n = tcp_repr_build(b, sizeof(b), &r);
    cr_assert_gt(n, 0);
    tcp_csum_fill(b, n, FX_PEER, dst);
    struct lyra_l3_rxinfo info = {.src = FX_PEER, .dst = dst, .proto = 6, .ttl = 64,
                                  .flags = l3flags};
    cr_assert_eq(fake_l3_rx(f->fl, b, n, &info), 0);
    fx_run(f);
}

Test(tcp_must, syn_to_broadcast_or_multicast_dropped_silently)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    to_bcast(&f, 0xC00002FFu, LYRA_L3_F_BCAST, FX_LPORT); /* 192.0.2.255 */
    to_bcast(&f, 0xFFFFFFFFu, LYRA_L3_F_BCAST, FX_LPORT);
    to_bcast(&f, 0xE0000001u, LYRA_L3_F_MCAST, FX_LPORT); /* 224.0.0.1 */
    to_bcast(&f, 0xC00002FFu, LYRA_L3_F_BCAST, 9);        /* closed: no RST either */
    fx_expect_none(&f);
    struct lyra_sockaddr4 pa;
    cr_assert_eq(f.l4->accept(f.t, l, &pa), -EAGAIN);
    /* the listener still answers a unicast SYN */
    fx_syn(&f, NULL);
    fx_down(&f);
}

/* MUST-61 (3.9.1.2): the segment that empties the send queue carries PSH. */
Test(tcp_must, psh_on_the_last_queued_segment)
{
    fx_pattern(pat, sizeof(pat), 0);
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_write(&f, h, pat, 4000), 4000);
    struct fx_seg s;
    uint32_t got = 0;
    uint8_t last_flags = 0;
    for (int round = 0; got < 4000 && round < 10; round++) {
        while (fx_next(&f, &s)) {
            got += s.len;
            last_flags = s.flags;
        }
        if (got < 4000)
            fx_ack(&f);
    }
    cr_assert_eq(got, 4000);
    cr_assert(last_flags & TCP_PSH, "the last segment's flags 0x%x lack PSH", last_flags);
    fx_down(&f);
}

/* MUST-65 (3.2): the MSS option goes in SYN and SYN-ACK only, never in
 * data, ACKs or FINs, with every option negotiated. */
Test(tcp_must, mss_option_only_in_syns)
{
    fx_pattern(pat, sizeof(pat), 0);
    struct fx f;
    fx_up(&f, NULL);
    f.popt.ts = true;
    f.popt.sack_perm = true;
    f.popt.ws = 2;
    int h = fx_active(&f);
    cr_assert_eq(fx_write(&f, h, pat, 3000), 3000);
    fx_send(&f, TCP_ACK | TCP_PSH, pat, 100);
    fx_shutdown(&f, h, 1);
    unsigned n = 0, fins = 0;
    struct fx_seg s;
    for (int round = 0; round < 5; round++) {
        fx_ms(&f, 50);
        while (fx_next(&f, &s)) {
            n++;
            fins += !!(s.flags & TCP_FIN);
            cr_assert_eq(s.flags & TCP_SYN, 0);
            cr_assert_eq(s.r.opt.has & TCP_HAS_MSS, 0, "MSS option in a segment with flags 0x%x",
                         s.flags);
        }
        fx_ack(&f);
    }
    cr_assert_geq(n, 3, "only %u segments looked at", n);
    cr_assert_geq(fins, 1, "no FIN among them");
    fx_down(&f);
}

/* MUST-66 (3.4): with tcp's receive window at zero, a RST at RCV.NXT still
 * resets the connection. */
Test(tcp_must, rst_processed_at_zero_window)
{
    fx_pattern(pat, sizeof(pat), 0);
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=4096"));
    int h = fx_passive(&f);
    fx_send(&f, TCP_ACK, pat, 1460);
    fx_send(&f, TCP_ACK, pat + 1460, 1460);
    fx_send(&f, TCP_ACK | TCP_PSH, pat + 2920, 1176);
    struct fx_seg s;
    fx_last(&f, 300, &s);
    cr_assert_eq(s.ack, f.p_nxt);
    cr_assert_eq(s.win, 0, "window %u after 4096 bytes into 4096", s.win);
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR);
    cr_assert_eq(fx_soerror(&f, h), ECONNRESET);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    fx_expect_none(&f);
    fx_down(&f);
}

/* MUST-42 (3.9.1.1): a LISTEN on a port while a connection from that port
 * is in SYN-SENT (SO_REUSEADDR on both, as BSD and Linux ask); both work. */
Test(tcp_must, listen_while_connecting_from_the_same_port)
{
    struct fx f;
    fx_up(&f, NULL);
    int a = fx_open(&f);
    cr_assert_eq(fx_setopt(&f, a, LYRA_SO_REUSEADDR, 1), 0);
    struct lyra_sockaddr4 me = {.addr = 0, .port = 5000};
    cr_assert_eq(f.l4->bind(f.t, a, &me), 0);
    struct lyra_sockaddr4 peer = {.addr = FX_PEER, .port = FX_RPORT};
    cr_assert_eq(f.l4->connect(f.t, a, &peer), -EINPROGRESS);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_SYN, FX_ANY, FX_ANY);
    cr_assert_eq(s.r.sport, 5000);
    int l = fx_open(&f);
    cr_assert_eq(fx_setopt(&f, l, LYRA_SO_REUSEADDR, 1), 0);
    cr_assert_eq(f.l4->bind(f.t, l, &me), 0);
    cr_assert_eq(f.l4->listen(f.t, l, 4), 0);
    cr_assert_eq(fx_state(&f, a), LYRA_TCPS_SYN_SENT);
    cr_assert_eq(fx_state(&f, l), LYRA_TCPS_LISTEN);
    /* another peer's SYN to 5000 reaches the listener */
    struct fx_tx t = {.src = FX_PEER2, .sport = 41000, .dport = 5000, .seq = 777,
                      .flags = TCP_SYN, .win = 65535};
    fx_tx(&f, &t);
    fx_expect(&f, &s, TCP_SYN | TCP_ACK, FX_ANY, 778);
    cr_assert_eq(s.dst, FX_PEER2);
    cr_assert_eq(fx_state(&f, a), LYRA_TCPS_SYN_SENT);
    fx_down(&f);
}

/* MUST-43 (3.9.1.1): bind takes a local address: ours is used as the
 * source of the connection, one that is not ours is refused. */
Test(tcp_must, bind_to_a_local_address)
{
    struct fx f;
    fx_up(&f, NULL);
    int x = fx_open(&f);
    struct lyra_sockaddr4 other = {.addr = 0xC0000209u, .port = 0}; /* 192.0.2.9 */
    cr_assert_eq(f.l4->bind(f.t, x, &other), -EADDRNOTAVAIL);
    int h = fx_open(&f);
    struct lyra_sockaddr4 me = {.addr = FX_US, .port = 0};
    cr_assert_eq(f.l4->bind(f.t, h, &me), 0);
    struct lyra_sockaddr4 name;
    cr_assert_eq(f.l4->name(f.t, h, 0, &name), 0);
    cr_assert_eq(name.addr, FX_US);
    struct lyra_sockaddr4 peer = {.addr = FX_PEER, .port = FX_RPORT};
    cr_assert_eq(f.l4->connect(f.t, h, &peer), -EINPROGRESS);
    const struct fake_l3_out *o = last_out(&f);
    cr_assert_eq(o->src, FX_US, "SYN from %08x", o->src);
    fx_drain(&f);
    fx_down(&f);
}
