/* tcp state machine, black box: urgent data (RFC 9293 3.8.5, RFC 6093).
 * Urgent data is accepted, acknowledged and delivered in line, in stream
 * order, as RFC 6093 recommends (no out-of-band byte). The urgent pointer
 * points just after the last urgent byte (RFC 6093 4): that is the mark,
 * where a recv stops (MUST-33) and LYRA_SIOCATMARK says 1; LYRA_POLL_PRI
 * holds from the URG until the application reads past it (MUST-32).
 * Fixture: tcp_fx.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tcp_fx.h"

/* A segment from the peer with URG and the given urgent pointer. */
static void peer_urg(struct fx *f, const char *d, uint16_t ptr)
{
    uint32_t n = (uint32_t)strlen(d);
    struct fx_tx t = {.src = f->peer, .sport = f->pport, .dport = f->lport, .seq = f->p_nxt,
                      .ack = f->p_rcv, .flags = TCP_ACK | TCP_URG | TCP_PSH, .win = 65535,
                      .urg = ptr, .data = d, .len = n};
    f->p_nxt += n;
    fx_tx(f, &t);
}

/* A segment from the peer at seq (the model does not move) with URG. */
static void peer_urg_at(struct fx *f, uint32_t seq, const char *d, uint16_t ptr)
{
    struct fx_tx t = {.src = f->peer, .sport = f->pport, .dport = f->lport, .seq = seq,
                      .ack = f->p_rcv, .flags = TCP_ACK | TCP_URG | TCP_PSH, .win = 65535,
                      .urg = ptr, .data = d, .len = (uint32_t)strlen(d)};
    fx_tx(f, &t);
}

static int atmark(struct fx *f, int h)
{
    return fx_getopt(f, h, LYRA_SIOCATMARK);
}

/* Reads what is there into b (at most cap), recv by recv, stopping at the
 * first recv that returns no byte: the bytes read. */
static long read_all(struct fx *f, int h, char *b, size_t cap)
{
    long n = 0, r;
    while ((size_t)n < cap && (r = fx_read(f, h, b + n, cap - (size_t)n)) > 0)
        n += r;
    return n;
}

/* RFC 9293 3.8.5 (MUST-30: urgent data of any length is accepted), RFC 6093
 * 5 (delivered in line): the urgent bytes come out of recv in order and
 * are acknowledged. */
Test(tcp_urgent, urgent_data_delivered_in_line)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    peer_urg(&f, "abc", 3);
    char b[16];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 3);
    cr_assert_eq(memcmp(b, "abc", 3), 0);
    struct fx_seg s;
    fx_wait(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 4);
    fx_down(&f);
}

/* RFC 6093 5: normal data, then urgent data: one stream, in order. */
Test(tcp_urgent, urgent_after_normal_data_keeps_order)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, "hello", 5);
    peer_urg(&f, "!", 1);
    fx_send(&f, TCP_ACK | TCP_PSH, "world", 5);
    char b[32];
    long n = 0, r;
    while ((r = fx_read(&f, h, b + n, sizeof(b) - (size_t)n)) > 0)
        n += r;
    cr_assert_eq(n, 11);
    cr_assert_eq(memcmp(b, "hello!world", 11), 0);
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 9293 3.8.5 (MUST-31: an urgent pointer past the segment's data is
 * valid; the urgent data continues in later segments): all bytes still
 * arrive in order. */
Test(tcp_urgent, urgent_pointer_beyond_segment)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    peer_urg(&f, "0123456789", 500);
    fx_send(&f, TCP_ACK | TCP_PSH, "abcdefghij", 10);
    char b[32];
    long n = 0, r;
    while ((r = fx_read(&f, h, b + n, sizeof(b) - (size_t)n)) > 0)
        n += r;
    cr_assert_eq(n, 20);
    cr_assert_eq(memcmp(b, "0123456789abcdefghij", 20), 0);
    struct fx_seg s;
    fx_wait(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 21);
    fx_down(&f);
}

/* send with MSG_OOB: bytes taken, or the error. */
static long oob_write(struct fx *f, int h, const char *d)
{
    long r = f->l4->send(f->t, h, d, strlen(d), NULL, LYRA_MSG_OOB);
    fx_run(f);
    return r;
}

/* RFC 9293 3.8.5 (MUST-30, sending; MUST-62: the pointer points just
 * after the urgent data, RFC 6093): MSG_OOB data goes with URG and a
 * pointer past its last byte; data after the urgent data goes without. */
Test(tcp_urgent, oob_send_points_past_urgent_data)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    cr_assert_eq(oob_write(&f, h, "abc"), 3);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK | TCP_URG, f.t_iss + 1, FX_ANY);
    cr_assert_eq(s.len, 3);
    cr_assert_eq(s.r.urg, 3, "urgent pointer %u, expected 3 (just after the urgent data)",
                 s.r.urg);
    fx_ack(&f);
    cr_assert_eq(fx_write(&f, h, "def", 3), 3);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 4, FX_ANY);
    cr_assert_eq(s.len, 3);
    fx_down(&f);
}

/* MUST-62: every segment before the mark carries it, a retransmission and
 * a pure ACK too (the urgent data held back by Nagle), until the urgent
 * data is acknowledged. */
Test(tcp_urgent, urgent_pointer_until_acknowledged)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    cr_assert_eq(fx_write(&f, h, "abcd", 4), 4);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, FX_ANY);
    cr_assert_eq(oob_write(&f, h, "!"), 1); /* Nagle holds it: "abcd" is out */
    fx_expect_none(&f);
    /* "z" from the peer, "abcd" not acknowledged: our ACK points at the mark */
    fx_send_sa(&f, TCP_ACK | TCP_PSH, f.p_nxt, f.t_iss + 1, "z", 1);
    f.p_nxt += 1;
    fx_last(&f, 200, &s);
    cr_assert_eq(s.len, 0);
    cr_assert(s.flags & TCP_URG, "an ACK before the mark without URG");
    cr_assert_eq(s.seq + s.r.urg, f.t_iss + 6);
    fx_ack(&f); /* "abcd" acknowledged: "!" goes */
    fx_expect(&f, &s, TCP_ACK | TCP_URG, f.t_iss + 5, FX_ANY);
    cr_assert_eq(s.len, 1);
    cr_assert_eq(s.r.urg, 1);
    fx_wait(&f, 5000, &s); /* not acknowledged: sent again, with URG */
    cr_assert_eq(s.seq, f.t_iss + 5);
    cr_assert(s.flags & TCP_URG, "a retransmission of urgent data without URG");
    cr_assert_eq(s.r.urg, 1);
    fx_ack(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, "y", 1);
    fx_last(&f, 200, &s);
    cr_assert_eq(s.flags & TCP_URG, 0, "URG after the urgent data was acknowledged");
    fx_down(&f);
}

/* RFC 6093 (no out-of-band byte): recv with MSG_OOB does not take the
 * urgent byte out of the stream. */
Test(tcp_urgent, oob_recv_does_not_remove_urgent_byte)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    peer_urg(&f, "xy", 2);
    char b[8];
    long r = fx_read_flags(&f, h, b, sizeof(b), LYRA_MSG_OOB);
    cr_assert_eq(r, -EINVAL, "MSG_OOB returned %ld: urgent data is in line (EINVAL, as "
                 "Linux with SO_OOBINLINE)", r);
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 2);
    cr_assert_eq(memcmp(b, "xy", 2), 0);
    fx_drain(&f);
    fx_down(&f);
}

/* MUST-32: a URG when no urgent data is pending raises PRI (the user is
 * told at once, poll says so); the same pointer again is no news. */
Test(tcp_urgent, urg_signals_pri_once)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_PRI, 0);
    f.ready_what[h + 1] = 0;
    peer_urg(&f, "abc", 3);
    cr_assert(f.ready_what[h + 1] & LYRA_POLL_PRI, "no PRI event for urgent data");
    cr_assert(fx_poll(&f, h) & LYRA_POLL_PRI);
    /* the same mark again (a segment after the urgent data keeps it) */
    f.ready_what[h + 1] = 0;
    peer_urg(&f, "def", 0);
    cr_assert_eq(f.ready_what[h + 1] & LYRA_POLL_PRI, 0, "PRI raised again for the same mark");
    cr_assert(fx_poll(&f, h) & LYRA_POLL_PRI);
    fx_drain(&f);
    fx_down(&f);
}

/* MUST-32: a pointer that advances (more urgent data) signals again, and
 * recv stops at the new mark, not the old one. */
Test(tcp_urgent, pointer_advance_signals_again)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    peer_urg(&f, "ab", 2);
    f.ready_what[h + 1] = 0;
    peer_urg(&f, "cd", 2);
    cr_assert(f.ready_what[h + 1] & LYRA_POLL_PRI, "no PRI event when the pointer advanced");
    fx_send(&f, TCP_ACK | TCP_PSH, "ef", 2);
    char b[16];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 4);
    cr_assert_eq(memcmp(b, "abcd", 4), 0);
    cr_assert_eq(atmark(&f, h), 1);
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (RCV.UP <- max(RCV.UP, SEG.UP)): an older pointer
 * (a resent segment with URG, its front already in) moves nothing and
 * signals nothing; its pointer counts from its own SEG.SEQ, untrimmed. */
Test(tcp_urgent, older_pointer_changes_nothing)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    uint32_t s0 = f.p_nxt;
    fx_send(&f, TCP_ACK | TCP_PSH, "abc", 3);
    peer_urg(&f, "def", 3); /* mark after "f" */
    f.ready_what[h + 1] = 0;
    peer_urg_at(&f, s0, "abcdefg", 2); /* "abcdef" again and "g", a mark after "b" */
    f.p_nxt = s0 + 7;
    cr_assert_eq(f.ready_what[h + 1] & LYRA_POLL_PRI, 0, "an older pointer signalled");
    char b[16];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 6, "recv stopped elsewhere than at the mark");
    cr_assert_eq(memcmp(b, "abcdef", 6), 0);
    cr_assert_eq(atmark(&f, h), 1);
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 1);
    cr_assert_eq(b[0], 'g');
    fx_drain(&f);
    fx_down(&f);
}

/* MUST-33: recv stops at the mark (just after the urgent byte, RFC 6093),
 * the next recv reads on from it; sockatmark is 0 before the mark, 1 at
 * it, 0 past it; PRI holds until the application reads past the mark. */
Test(tcp_urgent, recv_stops_at_mark)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    cr_assert_eq(atmark(&f, h), 0, "at a mark with no urgent data");
    fx_send(&f, TCP_ACK | TCP_PSH, "abc", 3);
    peer_urg(&f, "!", 1);
    fx_send(&f, TCP_ACK | TCP_PSH, "def", 3);
    cr_assert_eq(atmark(&f, h), 0, "at the mark before reading the urgent data");
    char b[16];
    cr_assert_eq(fx_read(&f, h, b, 2), 2);
    cr_assert_eq(atmark(&f, h), 0);
    cr_assert_eq(fx_read(&f, h, b + 2, sizeof(b) - 2), 2, "recv went past the mark");
    cr_assert_eq(memcmp(b, "abc!", 4), 0);
    cr_assert_eq(atmark(&f, h), 1);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_PRI, "PRI gone before reading past the mark");
    cr_assert(fx_poll(&f, h) & LYRA_POLL_IN);
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 3);
    cr_assert_eq(memcmp(b, "def", 3), 0);
    cr_assert_eq(atmark(&f, h), 0);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_PRI, 0, "PRI after reading past the mark");
    fx_drain(&f);
    fx_down(&f);
}

/* MUST-33: MSG_PEEK stops at the mark too and moves nothing. */
Test(tcp_urgent, peek_stops_at_mark)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    peer_urg(&f, "xy", 1);
    char b[8];
    cr_assert_eq(fx_read_flags(&f, h, b, sizeof(b), LYRA_MSG_PEEK), 1);
    cr_assert_eq(atmark(&f, h), 0);
    cr_assert_eq(read_all(&f, h, b, sizeof(b)), 2);
    cr_assert_eq(memcmp(b, "xy", 2), 0);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_PRI, 0);
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (sixth, CLOSE-WAIT and later: "ignore the URG"): after
 * the peer's FIN a URG is no urgent data. */
Test(tcp_urgent, urg_after_fin_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    fx_send(&f, TCP_ACK | TCP_FIN, NULL, 0);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSE_WAIT);
    f.ready_what[h + 1] = 0;
    peer_urg_at(&f, f.p_nxt, "", 5);
    cr_assert_eq(f.ready_what[h + 1] & LYRA_POLL_PRI, 0, "URG in CLOSE-WAIT signalled");
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_PRI, 0);
    cr_assert_eq(atmark(&f, h), 0);
    fx_drain(&f);
    fx_down(&f);
}

/* MUST-31/32: a URG without data (the urgent data still to come, as a
 * sender with a closed window sends it) signals; the data after it reads
 * up to the mark. */
Test(tcp_urgent, urg_without_data_signals)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    f.ready_what[h + 1] = 0;
    peer_urg(&f, "", 4);
    cr_assert(f.ready_what[h + 1] & LYRA_POLL_PRI, "no PRI for a zero-length URG");
    cr_assert(fx_poll(&f, h) & LYRA_POLL_PRI);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_IN, 0);
    fx_send(&f, TCP_ACK | TCP_PSH, "123456", 6);
    char b[16];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 4);
    cr_assert_eq(memcmp(b, "1234", 4), 0);
    cr_assert_eq(atmark(&f, h), 1);
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 2);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_PRI, 0);
    fx_drain(&f);
    fx_down(&f);
}


/* RFC 9293 3.4 (MUST-66): a URG is processed at a zero window: its data is
 * refused, its pointer still signals. */
Test(tcp_urgent, urg_processed_at_zero_window)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=4096"));
    fx_listen(&f, FX_LPORT, 8);
    struct fx_seg sa;
    fx_syn(&f, &sa);
    fx_ack(&f);
    struct lyra_sockaddr4 pa;
    int h = f.l4->accept(f.t, f.lh, &pa);
    f.l4->set_cookie(f.t, h, (uintptr_t)h + 1);
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
    f.ready_what[h + 1] = 0;
    peer_urg_at(&f, f.p_nxt, "z", 1);
    cr_assert(f.ready_what[h + 1] & LYRA_POLL_PRI, "URG at a zero window not signalled");
    cr_assert(fx_poll(&f, h) & LYRA_POLL_PRI);
    /* the data refused: the answer still acknowledges only the window's
     * bytes, with a zero window, and the reader gets those and no 'z' */
    fx_last(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 1 + sa.win, "the urgent byte beyond the window was taken");
    cr_assert_eq(s.win, 0);
    static uint8_t got[8192];
    long n = 0;
    for (long r; (r = fx_read(&f, h, got + n, sizeof(got) - (size_t)n)) > 0;)
        n += r;
    cr_assert_eq(n, (long)sa.win, "read %ld bytes of the %u the window held", n, sa.win);
    for (long i = 0; i < n; i++)
        cr_assert_eq(got[i], d[i % (long)sizeof(d)], "byte %ld is not what was sent", i);
    fx_drain(&f);
    fx_down(&f);
}
