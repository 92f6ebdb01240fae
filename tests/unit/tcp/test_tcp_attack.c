/* tcp state machine, black box: attacks by an off-path host that cannot
 * see the connection and guesses its numbers (RFC 5961: blind RST, SYN and
 * data injection, the challenge ACK's rate limit), SYN floods (SYN cookies,
 * the listener's two queues, half-open connections giving way) and initial
 * sequence numbers (RFC 6528). Fixture: tcp_fx.h; counters by name. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tcp_fx.h"

static uint64_t st(struct fx *f, const char *name)
{
    return lt_stat(f->tcp, name);
}

/* The ACK RFC 5961 asks for: <SEQ=SND.NXT><ACK=RCV.NXT>, nothing else. */
static void expect_challenge(struct fx *f, uint32_t snd_nxt, uint32_t rcv_nxt)
{
    struct fx_seg s;
    fx_expect(f, &s, TCP_ACK, snd_nxt, rcv_nxt);
    cr_assert_eq(s.len, 0);
}

/* The connection still carries data both ways. */
static void still_works(struct fx *f, int h)
{
    fx_send(f, TCP_ACK | TCP_PSH, "ping", 4);
    char b[8];
    cr_assert_eq(fx_read(f, h, b, sizeof(b)), 4);
    cr_assert_eq(memcmp(b, "ping", 4), 0);
    cr_assert_eq(fx_write(f, h, "pong", 4), 4);
    uint8_t out[8];
    unsigned n;
    fx_ms(f, 50);
    cr_assert_eq(fx_collect(f, out, sizeof(out), &n), 4);
    cr_assert_eq(memcmp(out, "pong", 4), 0);
    cr_assert_eq(fx_state(f, h), LYRA_TCPS_ESTABLISHED);
}

/* ----- RFC 5961 3: blind RST ----------------------------------------------- */

/* 3.2: in the window but not at RCV.NXT: a challenge ACK, no reset; the
 * peer (who knows RCV.NXT) could then reset with it, a blind attacker
 * cannot. */
Test(tcp_attack, blind_rst_in_window_challenged_not_reset)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_send_sa(&f, TCP_RST, f.p_nxt + 1, 0, NULL, 0);
    expect_challenge(&f, f.t_iss + 1, f.p_nxt);
    fx_ms(&f, 1000);
    fx_send_sa(&f, TCP_RST | TCP_ACK, f.p_nxt + 30000, f.t_iss + 1, NULL, 0);
    expect_challenge(&f, f.t_iss + 1, f.p_nxt);
    fx_expect_none(&f);
    cr_assert_eq(st(&f, "challenge_acks"), 2);
    cr_assert_eq(st(&f, "rst_rcvd"), 0);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    still_works(&f, h);
    /* the peer answers the challenge with a RST at the number it carried */
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    cr_assert_eq(fx_soerror(&f, h), ECONNRESET);
    fx_down(&f);
}

/* 3.2: exactly RCV.NXT: reset. */
Test(tcp_attack, blind_rst_exact_resets)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSED);
    cr_assert_eq(fx_soerror(&f, h), ECONNRESET);
    cr_assert_eq(st(&f, "challenge_acks"), 0);
    fx_down(&f);
}

/* 3.2: outside the window, before or beyond it: silently dropped, no
 * challenge (so no ACK storm from guesses). */
Test(tcp_attack, blind_rst_out_of_window_dropped)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_send_sa(&f, TCP_RST, f.p_nxt + 65535 + 1, 0, NULL, 0);
    fx_send_sa(&f, TCP_RST, f.p_nxt + 2000000000u, 0, NULL, 0);
    fx_send_sa(&f, TCP_RST, f.p_nxt - 1, 0, NULL, 0);
    fx_send_sa(&f, TCP_RST | TCP_ACK, f.p_nxt - 100000, f.t_iss + 1, NULL, 0);
    fx_expect_none(&f);
    cr_assert_eq(st(&f, "rst_ignored"), 4);
    cr_assert_eq(st(&f, "challenge_acks"), 0);
    still_works(&f, h);
    fx_down(&f);
}

/* ----- RFC 5961 4: blind SYN ----------------------------------------------- */

/* 4.2: a SYN in a synchronized state, in the window or not: a challenge
 * ACK, never a reset, nothing new opened; the connection carries on. */
Test(tcp_attack, blind_syn_established_challenged)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1460};
    fx_send_opt(&f, TCP_SYN, f.p_nxt + 5, 0, NULL, 0, &o);
    expect_challenge(&f, f.t_iss + 1, f.p_nxt);
    fx_ms(&f, 1000);
    fx_send_opt(&f, TCP_SYN, f.p_nxt + 3000000000u, 0, NULL, 0, &o);
    expect_challenge(&f, f.t_iss + 1, f.p_nxt);
    fx_ms(&f, 1000);
    fx_send_opt(&f, TCP_SYN, f.p_iss, 0, NULL, 0, &o); /* the old SYN again */
    expect_challenge(&f, f.t_iss + 1, f.p_nxt);
    fx_expect_none(&f);
    cr_assert_eq(st(&f, "challenge_acks"), 3);
    cr_assert_eq(st(&f, "conns_opened"), 1);
    still_works(&f, h);
    fx_down(&f);
}

/* ----- RFC 5961 5: blind data injection ------------------------------------ */

/* 5.2: SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT, else the segment is
 * dropped (its data with it) and a challenge ACK sent. The peer's window
 * is 65535 (MAX.SND.WND); tcp has sent and had acknowledged 1000 bytes. */
Test(tcp_attack, blind_data_with_unacceptable_ack_dropped)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    uint8_t d[1000];
    fx_pattern(d, sizeof(d), 0);
    cr_assert_eq(fx_write(&f, h, d, sizeof(d)), 1000);
    fx_drain(&f);
    fx_ack(&f);
    uint32_t una = f.t_iss + 1 + 1000;
    /* beyond SND.NXT, and older than any window the peer could have seen */
    fx_send_sa(&f, TCP_ACK | TCP_PSH, f.p_nxt, una + 1, "EVIL", 4);
    expect_challenge(&f, una, f.p_nxt);
    fx_send_sa(&f, TCP_ACK | TCP_PSH, f.p_nxt, una - 65535 - 1, "EVIL", 4);
    expect_challenge(&f, una, f.p_nxt);
    fx_send_sa(&f, TCP_ACK | TCP_PSH | TCP_FIN, f.p_nxt, una + 0x40000000u, "EVIL", 4);
    fx_expect_none(&f); /* this second's budget (2) is spent */
    cr_assert_eq(st(&f, "rx_bad_ack"), 3);
    char b[16];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), -EAGAIN, "injected data delivered");
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED, "injected FIN taken");
    /* the edges of the range are acceptable: an old ACK within
     * MAX.SND.WND is a duplicate, its data taken */
    fx_send_sa(&f, TCP_ACK | TCP_PSH, f.p_nxt, una - 65535, "ok", 2);
    f.p_nxt += 2;
    fx_send_sa(&f, TCP_ACK | TCP_PSH, f.p_nxt, una, "!!", 2);
    f.p_nxt += 2;
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 4);
    cr_assert_eq(memcmp(b, "ok!!", 4), 0);
    fx_drain(&f);
    still_works(&f, h);
    fx_down(&f);
}

/* ----- RFC 5961 7: the rate limit ------------------------------------------ */

/* At most challenge_ack_limit (2) challenge ACKs per second per
 * connection, whatever provokes them; the next second has a new budget.
 * The budget is the connection's own (the lesson of CVE-2016-5696, where
 * Linux's host-wide counter let an attacker count, on a connection of its
 * own, what its spoofed segments had spent): a connection whose budget is
 * gone does not silence another's challenge. */
Test(tcp_attack, challenge_acks_rate_limited_per_connection)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_passive(&f);
    uint16_t a_port = f.pport;
    uint32_t a_seq = f.p_nxt, a_iss = f.t_iss;
    f.pport = FX_PPORT + 1;
    int hb = fx_passive(&f);
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1460};
    /* ten in-window RSTs and SYNs at connection A within one ms */
    for (unsigned k = 0; k < 10; k++) {
        struct fx_tx t = {.sport = a_port, .dport = FX_LPORT, .seq = a_seq + 1 + k,
                          .flags = (k & 1) ? TCP_SYN : TCP_RST, .win = 1000,
                          .opt = (k & 1) ? o : (struct tcp_hdr_opts){0}};
        fx_tx(&f, &t);
    }
    unsigned acks = 0;
    struct fx_seg s;
    while (fx_next(&f, &s)) {
        cr_assert_eq(s.flags & ~TCP_PSH, TCP_ACK);
        cr_assert_eq(s.r.dport, a_port);
        cr_assert_eq(s.seq, a_iss + 1);
        acks++;
    }
    cr_assert_eq(acks, 2, "%u challenge ACKs in one second", acks);
    cr_assert_eq(st(&f, "challenge_acks_limited"), 8);
    /* B's budget is untouched */
    fx_send_sa(&f, TCP_RST, f.p_nxt + 10, 0, NULL, 0);
    expect_challenge(&f, f.t_iss + 1, f.p_nxt);
    /* a second later A may challenge again */
    fx_ms(&f, 1000);
    struct fx_tx t = {.sport = a_port, .dport = FX_LPORT, .seq = a_seq + 7, .flags = TCP_RST,
                      .win = 1000};
    fx_tx(&f, &t);
    cr_assert(fx_next(&f, &s));
    cr_assert_eq(s.r.dport, a_port);
    cr_assert_eq(st(&f, "challenge_acks"), 4);
    still_works(&f, hb);
    fx_down(&f);
}

/* challenge_ack_limit sets the budget. */
Test(tcp_attack, challenge_ack_limit_param)
{
    struct fx f;
    fx_up(&f, FX_P("challenge_ack_limit=5"));
    fx_active(&f);
    for (unsigned k = 0; k < 9; k++)
        fx_send_sa(&f, TCP_RST, f.p_nxt + 1 + k, 0, NULL, 0);
    cr_assert_eq(fx_drain(&f), 5);
    cr_assert_eq(st(&f, "challenge_acks"), 5);
    cr_assert_eq(st(&f, "challenge_acks_limited"), 4);
    fx_down(&f);
}

/* ----- SYN cookies ---------------------------------------------------------- */

/* Fills listener l's SYN queue (backlog 1) with one half-open connection
 * from port FX_PPORT + 100, leaving the fixture's model as it was. */
static void fill_synq(struct fx *f)
{
    uint16_t p = f->pport;
    struct fx_popt po = f->popt;
    f->pport = FX_PPORT + 100;
    f->popt = (struct fx_popt){.mss = 1460, .ws = -1};
    fx_syn(f, NULL);
    f->pport = p;
    f->popt = po;
}

/* The SYN queue full: the SYN-ACK carries a cookie (MSS, window scale,
 * SACK-permitted and timestamps as a child's would), nothing is kept, and
 * the final ACK makes the connection, with its data, and the options the
 * SYN had. */
Test(tcp_attack, cookie_round_trip)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 1);
    fill_synq(&f);
    uint64_t conns = st(&f, "conns");
    f.popt = (struct fx_popt){.mss = 1460, .ws = 7, .sack_perm = true, .ts = true};
    struct fx_seg sa;
    fx_syn(&f, &sa);
    cr_assert_eq(st(&f, "syncookies_sent"), 1);
    cr_assert_eq(st(&f, "conns"), conns, "a cookie SYN-ACK kept a slot");
    cr_assert_eq(sa.r.opt.has, TCP_HAS_MSS | TCP_HAS_WS | TCP_HAS_SACK_PERM | TCP_HAS_TS);
    cr_assert_eq(sa.r.opt.mss, 1460);
    cr_assert_eq(sa.r.opt.ws, 1, "our shift for a 64k buffer");
    cr_assert_eq(sa.r.opt.tsecr, f.p_tsval);
    cr_assert_eq(sa.win, 65535);
    /* no state, so no SYN-ACK sent again: only the half-open one resends */
    fx_ms(&f, 1500);
    struct fx_seg s;
    unsigned resent = 0;
    while (fx_next(&f, &s)) {
        cr_assert_eq(s.r.dport, FX_PPORT + 100);
        resent++;
    }
    cr_assert_eq(resent, 1);
    f.p_rcv = sa.seq + 1; /* the model took that SYN-ACK for ours */
    f.t_tsval = sa.r.opt.tsval;
    f.p_win = 1000u << 7;
    fx_send(&f, TCP_ACK | TCP_PSH, "hello", 5);
    cr_assert_eq(st(&f, "syncookies_ok"), 1);
    struct lyra_sockaddr4 pa;
    int h = f.l4->accept(f.t, l, &pa);
    cr_assert_geq(h, 0, "accept: %d", h);
    cr_assert_eq(pa.port, FX_PPORT);
    f.h = h;
    char b[8];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 5);
    cr_assert_eq(memcmp(b, "hello", 5), 0);
    struct lyra_tcp_info ti;
    fx_info(&f, h, &ti);
    cr_assert_eq(ti.state, LYRA_TCPS_ESTABLISHED);
    cr_assert_eq(ti.options, LYRA_TCPI_OPT_TIMESTAMPS | LYRA_TCPI_OPT_SACK | LYRA_TCPI_OPT_WSCALE);
    cr_assert_eq(ti.snd_wscale, 7);
    cr_assert_eq(ti.rcv_wscale, 1);
    cr_assert_eq(ti.snd_mss, 1460 - 12);
    cr_assert_eq(ti.snd_wnd, 1000u << 7);
    /* our TSval goes on from the SYN-ACK's clock: the peer's PAWS holds */
    fx_last(&f, 100, &s);
    cr_assert(f.t_tsval - sa.r.opt.tsval < 10000u, "TSval jumped from %u to %u",
              sa.r.opt.tsval, f.t_tsval);
    cr_assert_eq(fx_write(&f, h, "world", 5), 5);
    fx_expect(&f, &s, TCP_ACK | TCP_PSH, sa.seq + 1, f.p_nxt);
    cr_assert_eq(s.len, 5);
    cr_assert(s.r.opt.has & TCP_HAS_TS);
    fx_down(&f);
}

/* Without timestamps the cookie still keeps window scale and SACK (it has
 * bits for them); the MSS is rounded down to Linux's table (1400: 1300). */
Test(tcp_attack, cookie_without_timestamps_keeps_ws_and_sack)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 1);
    fill_synq(&f);
    f.popt = (struct fx_popt){.mss = 1400, .ws = 3, .sack_perm = true, .ts = false};
    struct fx_seg sa;
    fx_syn(&f, &sa);
    cr_assert_eq(st(&f, "syncookies_sent"), 1);
    cr_assert_eq(sa.r.opt.has & TCP_HAS_TS, 0);
    f.p_win = 4000u << 3;
    fx_ack(&f);
    struct lyra_sockaddr4 pa;
    int h = f.l4->accept(f.t, l, &pa);
    cr_assert_geq(h, 0);
    struct lyra_tcp_info ti;
    fx_info(&f, h, &ti);
    cr_assert_eq(ti.options, LYRA_TCPI_OPT_SACK | LYRA_TCPI_OPT_WSCALE);
    cr_assert_eq(ti.snd_wscale, 3);
    cr_assert_eq(ti.snd_mss, 1300);
    cr_assert_eq(ti.snd_wnd, 4000u << 3);
    fx_down(&f);
}

/* An ACK with a cookie not ours (a guess), or ours for another ISN or
 * port, makes nothing and gets no answer (as Linux: the peer's first
 * segment sent again may still carry a good one); the genuine one then
 * works. */
Test(tcp_attack, forged_cookie_ack_rejected)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 1);
    fill_synq(&f);
    struct fx_seg sa;
    fx_syn(&f, &sa); /* a cookie: cookies are checked from now on */
    struct fx_tx t = {.sport = FX_PPORT + 7, .dport = FX_LPORT, .seq = 5551, .ack = 0x600dc0deu,
                      .flags = TCP_ACK, .win = 1000};
    for (unsigned k = 0; k < 100; k++, t.ack += 0x01000193u)
        fx_tx(&f, &t);
    /* the genuine cookie, from another port or with another ISN */
    t.ack = sa.seq + 1;
    t.seq = f.p_iss + 1;
    fx_tx(&f, &t);
    t.sport = FX_PPORT;
    t.seq = f.p_iss + 2;
    fx_tx(&f, &t);
    t.seq = f.p_iss + 1;
    t.ack = sa.seq + 2;
    fx_tx(&f, &t);
    fx_expect_none(&f);
    cr_assert_eq(st(&f, "syncookies_failed"), 103);
    cr_assert_eq(st(&f, "syncookies_ok"), 0);
    struct lyra_sockaddr4 pa;
    cr_assert_eq(f.l4->accept(f.t, l, &pa), -EAGAIN);
    fx_ack(&f);
    cr_assert_eq(st(&f, "syncookies_ok"), 1);
    cr_assert_geq(f.l4->accept(f.t, l, &pa), 0);
    fx_down(&f);
}

/* A cookie lives 64 to 128 s: at 60 s it is good, at 130 s it fails (the
 * listener sending cookies meanwhile, so they are checked). */
Test(tcp_attack, cookie_too_old_rejected)
{
    struct fx f;
    fx_up(&f, FX_P("synack_retries=127"));
    int l = fx_listen(&f, FX_LPORT, 1);
    fill_synq(&f);
    f.pport = FX_PPORT + 1;
    fx_syn(&f, NULL);
    uint32_t fresh_iss = f.t_iss;
    f.pport = FX_PPORT + 2;
    fx_syn(&f, NULL);
    uint32_t old_iss = f.t_iss;
    fx_ms(&f, 60000);
    fx_drain(&f);
    /* at 60 s the first is good */
    struct fx_tx t = {.sport = FX_PPORT + 1, .dport = FX_LPORT, .seq = f.p_iss + 1,
                      .ack = fresh_iss + 1, .flags = TCP_ACK, .win = 1000};
    fx_tx(&f, &t);
    cr_assert_eq(st(&f, "syncookies_ok"), 1);
    struct lyra_sockaddr4 pa;
    cr_assert_geq(f.l4->accept(f.t, l, &pa), 0);
    fx_ms(&f, 70000);
    fx_drain(&f);
    /* a new cookie, so cookies are still checked at 130 s */
    f.pport = FX_PPORT + 3;
    fx_syn(&f, NULL);
    cr_assert_eq(st(&f, "syncookies_sent"), 3);
    fx_drain(&f);
    t.sport = FX_PPORT + 2;
    t.ack = old_iss + 1;
    fx_tx(&f, &t);
    fx_expect_none(&f);
    cr_assert_eq(st(&f, "syncookies_failed"), 1);
    cr_assert_eq(f.l4->accept(f.t, l, &pa), -EAGAIN);
    fx_down(&f);
}

/* A SYN when the table is full (max_conns) gets a cookie too; the ACK
 * makes the connection once a slot is free. */
Test(tcp_attack, table_full_syn_gets_cookie)
{
    struct fx f;
    fx_up(&f, FX_P("max_conns=2"));
    int l = fx_listen(&f, FX_LPORT, 8);
    int x = fx_open(&f);
    fx_syn(&f, NULL);
    cr_assert_eq(st(&f, "syncookies_sent"), 1);
    fx_ack(&f);
    cr_assert_eq(st(&f, "syn_no_mem"), 1, "no slot for the cookie's connection");
    fx_close(&f, x);
    fx_ack(&f);
    cr_assert_eq(st(&f, "syncookies_ok"), 1);
    struct lyra_sockaddr4 pa;
    cr_assert_geq(f.l4->accept(f.t, l, &pa), 0);
    fx_down(&f);
}

/* A table full of half-open connections (a SYN flood) gives way: a
 * cookie's ACK takes the oldest one's slot, and so does a new socket. */
Test(tcp_attack, half_open_connections_give_way)
{
    struct fx f;
    fx_up(&f, FX_P("max_conns=4"));
    int l = fx_listen(&f, FX_LPORT, 8);
    uint32_t oldest_iss = 0;
    for (unsigned k = 0; k < 3; k++) {
        f.pport = (uint16_t)(FX_PPORT + 10 + k);
        fx_syn(&f, NULL);
        if (!k)
            oldest_iss = f.t_iss;
        fx_ms(&f, 10);
    }
    cr_assert_eq(st(&f, "conns"), 4);
    f.pport = FX_PPORT;
    fx_syn(&f, NULL);
    cr_assert_eq(st(&f, "syncookies_sent"), 1);
    fx_ack(&f);
    cr_assert_eq(st(&f, "syncookies_ok"), 1);
    cr_assert_eq(st(&f, "syn_evicted"), 1);
    struct lyra_sockaddr4 pa;
    cr_assert_geq(f.l4->accept(f.t, l, &pa), 0);
    /* the oldest (port +10) went: its ACK finds no connection, only a
     * cookie check that fails */
    struct fx_tx t = {.sport = FX_PPORT + 10, .dport = FX_LPORT, .seq = f.p_iss + 1,
                      .ack = oldest_iss + 1, .flags = TCP_ACK, .win = 1000};
    fx_tx(&f, &t);
    fx_expect_none(&f);
    cr_assert_eq(st(&f, "syncookies_failed"), 1);
    int h = f.l4->open(f.t);
    cr_assert_geq(h, 0, "open with the table full of half-open connections: %d", h);
    cr_assert_eq(st(&f, "syn_evicted"), 2);
    f.l4->close(f.t, h);
    fx_drain(&f);
    fx_down(&f);
}

/* syncookies=off: a full SYN queue drops SYNs, as before cookies. */
Test(tcp_attack, syncookies_off_drops)
{
    struct fx f;
    fx_up(&f, FX_P("syncookies=off"));
    fx_listen(&f, FX_LPORT, 1);
    fill_synq(&f);
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1460};
    fx_send_opt(&f, TCP_SYN, 42, 0, NULL, 0, &o);
    fx_expect_none(&f);
    cr_assert_eq(st(&f, "syn_backlog_drops"), 1);
    cr_assert_eq(st(&f, "syncookies_sent"), 0);
    fx_down(&f);
}

/* ----- RFC 6528: initial sequence numbers, through the component ----------- */

/* Each 4-tuple has its own sequence space (another peer port at the same
 * instant: unrelated numbers); one 4-tuple's ISN moves with the 4 us
 * clock (exactly 250,000 a second). */
Test(tcp_attack, isn_differs_per_tuple_and_advances_with_time)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_listen(&f, FX_LPORT, 8);
    fx_syn(&f, NULL);
    uint32_t a0 = f.t_iss;
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0); /* back to LISTEN */
    f.pport = FX_PPORT + 1;
    fx_syn(&f, NULL);
    uint32_t b0 = f.t_iss;
    fx_send_sa(&f, TCP_RST, f.p_nxt, 0, NULL, 0);
    uint32_t d = b0 - a0;
    cr_assert(d > 1000 && d < 0u - 1000u, "neighbouring 4-tuples' ISNs %u and %u", a0, b0);
    fx_ms(&f, 1000);
    f.pport = FX_PPORT;
    fx_syn(&f, NULL);
    cr_assert_eq(f.t_iss - a0, 250000u);
    fx_down(&f);
}
