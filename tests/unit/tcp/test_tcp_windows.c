/* tcp state machine, black box: flow control windows (RFC 9293 3.8.6,
 * 3.10.7.4; RFC 1122 4.2.3.3, 4.2.3.4). The receive window shrinks as data
 * queues and opens on recv, SO_RCVBUF and rcv_buf set it, a zero window and
 * its update, silly window syndrome avoidance on both sides, stale window
 * updates ignored. Fixture: tcp_fx.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tcp_fx.h"

static uint8_t pat[20000];

/* Passive open; returns the accepted endpoint and the SYN-ACK's window. */
static int passive_w(struct fx *f, uint32_t *w0)
{
    fx_pattern(pat, sizeof(pat), 0);
    int l = f->lh >= 0 ? f->lh : fx_listen(f, FX_LPORT, 8);
    struct fx_seg sa;
    fx_syn(f, &sa);
    *w0 = sa.win;
    fx_ack(f);
    struct lyra_sockaddr4 pa;
    int h = f->l4->accept(f->t, l, &pa);
    cr_assert_geq(h, 0);
    f->h = h;
    return h;
}

/* The peer sends n pattern bytes (stream offsets from its current
 * position) in segments of at most 1460. */
static void peer_bulk(struct fx *f, uint32_t n)
{
    while (n) {
        uint32_t k = n < 1460 ? n : 1460;
        uint32_t off = f->p_nxt - (f->p_iss + 1);
        fx_send(f, TCP_ACK, pat + off, k);
        n -= k;
    }
}

/* The last segment tcp sends within the next 200 ms (acknowledgments may
 * be delayed up to delack_ms). */
static void last_ack(struct fx *f, struct fx_seg *s)
{
    fx_ms(f, 200);
    cr_assert(fx_next(f, s), "no acknowledgment within 200 ms");
    struct fx_seg t;
    while (fx_next(f, &t))
        *s = t;
}

/* RFC 9293 3.8.6.2.2 (the window offered is the room left; the right edge
 * does not move left, "shrinking" is discouraged): 1000 bytes queued unread
 * take 1000 off the window. */
Test(tcp_windows, window_shrinks_as_data_queues)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=8192"));
    uint32_t w0;
    passive_w(&f, &w0);
    uint32_t edge0 = f.p_iss + 1 + w0;
    peer_bulk(&f, 1000);
    struct fx_seg s;
    last_ack(&f, &s);
    cr_assert_eq(s.ack, f.p_iss + 1001);
    cr_assert_leq(s.win, 8192u - 1000u, "window %u with 1000 of 8192 bytes queued", s.win);
    cr_assert_geq(s.ack + s.win, edge0, "the right edge moved left (%u < %u)", s.ack + s.win,
                  edge0);
    fx_down(&f);
}

/* RFC 9293 3.8.6.2.2: once the application reads, the room comes back and
 * the next acknowledgment offers it. */
Test(tcp_windows, window_opens_on_recv)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=8192"));
    uint32_t w0;
    int h = passive_w(&f, &w0);
    peer_bulk(&f, 4000);
    struct fx_seg s;
    last_ack(&f, &s);
    uint32_t shut = s.win;
    cr_assert_leq(shut, 8192u - 4000u);
    uint8_t b[8192];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 4000);
    fx_drain(&f);
    peer_bulk(&f, 1);
    last_ack(&f, &s);
    cr_assert_gt(s.win, shut);
    cr_assert_geq(s.win, 8192u - 1460u, "window %u with 1 of 8192 bytes queued", s.win);
    fx_down(&f);
}

/* rcv_buf (contract: the receive buffer, hence the window offered). */
Test(tcp_windows, rcv_buf_param_sets_window)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=10000"));
    uint32_t w0;
    passive_w(&f, &w0);
    cr_assert(w0 <= 10000 && w0 >= 10000 - 1460, "SYN-ACK window %u with rcv_buf=10000", w0);
    fx_down(&f);
}

/* SO_RCVBUF (issue 10.3: sets the advertised window), set on the listener
 * before the SYN: the SYN-ACK offers it and later windows never exceed it. */
Test(tcp_windows, so_rcvbuf_sets_advertised_window)
{
    struct fx f;
    fx_up(&f, NULL);
    int l = fx_listen(&f, FX_LPORT, 8);
    cr_assert_eq(fx_setopt(&f, l, LYRA_SO_RCVBUF, 4000), 0);
    uint32_t w0;
    int h = passive_w(&f, &w0);
    cr_assert(w0 <= 4000 && w0 >= 4000 - 1460, "SYN-ACK window %u with SO_RCVBUF 4000", w0);
    peer_bulk(&f, 100);
    struct fx_seg s;
    last_ack(&f, &s);
    cr_assert_leq(s.win, 4000u);
    (void)h;
    fx_down(&f);
}

/* SO_RCVBUF on a connected endpoint: windows offered afterwards follow it,
 * without the right edge moving left (RFC 9293 3.8.6.2.2): an 8192-byte
 * buffer cut to 2048, the peer fills the 8192 offered before and the
 * application reads it all: the window then is at most 2048. */
Test(tcp_windows, so_rcvbuf_on_connection_bounds_window)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=8192"));
    int h = fx_active(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_SO_RCVBUF, 2048), 0);
    fx_pattern(pat, sizeof(pat), 0);
    uint32_t edge = f.p_iss + 1 + 8192; /* offered before the cut */
    peer_bulk(&f, 4000);
    struct fx_seg s;
    last_ack(&f, &s);
    cr_assert_geq(s.ack + s.win, edge, "the right edge moved left: %u, was %u", s.ack + s.win,
                  edge);
    peer_bulk(&f, 8192 - 4000);
    static uint8_t got[8192];
    long n = 0;
    for (long r; n < 8192 && (r = fx_read(&f, h, got + n, sizeof(got) - (size_t)n)) > 0;)
        n += r;
    cr_assert_eq(n, 8192);
    cr_assert_arr_eq(got, pat, 8192);
    last_ack(&f, &s);
    cr_assert_eq(s.ack, edge);
    cr_assert_gt(s.win, 0u);
    cr_assert_leq(s.win, 2048u, "window %u after SO_RCVBUF 2048", s.win);
    fx_down(&f);
}

/* Fills the receive buffer: the peer sends exactly the window offered. */
static int full(struct fx *f, uint32_t *w0)
{
    int h = passive_w(f, w0);
    peer_bulk(f, *w0);
    struct fx_seg s;
    last_ack(f, &s);
    cr_assert_eq(s.ack, f->p_iss + 1 + *w0);
    cr_assert_eq(s.win, 0, "window %u with the buffer full", s.win);
    return h;
}

/* RFC 9293 3.8.6 (a zero window when the buffer is full). */
Test(tcp_windows, zero_window_when_buffer_full)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=4096"));
    uint32_t w0;
    int h = full(&f, &w0);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_IN, LYRA_POLL_IN);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (first check with RCV.WND = 0: no data is acceptable;
 * the segment is answered with an ACK, <ACK=RCV.NXT>, and dropped) and
 * 3.8.6.1 (the receiver answers probes): the byte is not taken. */
Test(tcp_windows, data_into_zero_window_acked_and_dropped)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=4096"));
    uint32_t w0;
    int h = full(&f, &w0);
    fx_send_sa(&f, TCP_ACK, f.p_nxt, f.p_rcv, "Z", 1);
    struct fx_seg s;
    fx_wait(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 1 + w0, "a byte beyond a zero window was acknowledged");
    cr_assert_eq(s.win, 0);
    static uint8_t b[8192];
    long n = 0, r;
    while ((r = fx_read(&f, h, b + n, sizeof(b) - (size_t)n)) > 0)
        n += r;
    cr_assert_eq(n, (long)w0);
    cr_assert_eq(memcmp(b, pat, w0), 0);
    fx_drain(&f);
    fx_down(&f);
}

/* A read that leaves the peer more than half the buffer is not answered
 * by a window update of its own (as Linux): the next ACK carries the new
 * edge. Without this a reader that keeps up sends an ACK per segment. */
Test(tcp_windows, read_of_a_roomy_window_sends_no_update)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=16384"));
    uint32_t w0;
    int h = passive_w(&f, &w0);
    peer_bulk(&f, 1460);
    fx_expect_none(&f); /* one segment: the ACK is delayed */
    uint8_t b[4096];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 1460);
    fx_expect_none(&f);
    peer_bulk(&f, 1460);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 2920);
    cr_assert_geq(s.win, 16384u - 1460u, "window %u: the read's room was not offered", s.win);
    fx_down(&f);
}

/* The other side of that rule: when the peer's room was at most half the
 * buffer and a read at least doubles it, the update goes at once. */
Test(tcp_windows, read_that_doubles_a_small_window_sends_update)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=16384"));
    uint32_t w0;
    int h = passive_w(&f, &w0);
    peer_bulk(&f, 6 * 1460);
    uint32_t left = 16384u - 6 * 1460u; /* 7,624 of 16,384: under half */
    struct fx_seg s;
    last_ack(&f, &s);
    cr_assert_eq(s.win, left);
    static uint8_t b[16384];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 6 * 1460);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 6 * 1460);
    cr_assert_eq(s.win, 16384u);
    cr_assert_eq(memcmp(b, pat, 6 * 1460), 0);
    fx_down(&f);
}

/* The "zero window then update" (RFC 9293 3.8.6.2.2, RFC 1122
 * 4.2.3.3): once the application drains the buffer, tcp offers the window
 * again on its own, without waiting for a probe. */
Test(tcp_windows, window_update_after_zero_window_drained)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=4096"));
    uint32_t w0;
    int h = full(&f, &w0);
    static uint8_t b[8192];
    long n = 0, r;
    while ((r = fx_read(&f, h, b + n, sizeof(b) - (size_t)n)) > 0)
        n += r;
    struct fx_seg s;
    fx_wait(&f, 200, &s);
    cr_assert_eq(s.flags & ~TCP_PSH, TCP_ACK);
    cr_assert_eq(s.ack, f.p_iss + 1 + w0);
    cr_assert_geq(s.win, 1460u, "window update offers only %u", s.win);
    fx_down(&f);
}

/* RFC 1122 4.2.3.3 (a receiver MUST avoid the silly window syndrome: no
 * window increments smaller than min(RCV.BUFF/2, MSS)): after a 100-byte
 * read of a full buffer no window of 1..MSS-1 bytes is offered. */
Test(tcp_windows, receiver_sws_no_tiny_window)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=4096"));
    uint32_t w0;
    int h = full(&f, &w0);
    uint8_t b[100];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 100);
    fx_ms(&f, 500);
    struct fx_seg s;
    while (fx_next(&f, &s))
        cr_assert(s.win == 0 || s.win >= 1460, "a silly window of %u bytes", s.win);
    fx_send_sa(&f, TCP_ACK, f.p_nxt, f.p_rcv, "Z", 1); /* a probe */
    fx_wait(&f, 200, &s);
    cr_assert(s.win == 0 || s.win >= 1460, "a silly window of %u bytes", s.win);
    fx_down(&f);
}

/* RFC 9293 3.8.6.2.1 (sender SWS avoidance: with the offered window below
 * both the MSS and half the largest window seen, and more data queued than
 * fits, nothing is sent at once). */
Test(tcp_windows, sender_sws_no_tiny_segment)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_pattern(pat, sizeof(pat), 0);
    fx_ack_win(&f, f.t_iss + 1, 100);
    cr_assert_eq(fx_write(&f, h, pat, 3000), 3000);
    struct fx_seg s;
    while (fx_next(&f, &s))
        cr_assert_eq(s.len, 0, "a %u-byte segment into a 100-byte window", s.len);
    fx_ack_win(&f, f.t_iss + 1, 65535);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, FX_ANY);
    cr_assert_eq(s.len, 1460);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (fifth: the window is taken only from a segment newer
 * than SND.WL1/SND.WL2; an ACK below SND.UNA is a duplicate to ignore): a
 * reordered old ACK offering a zero window does not stop sending. */
Test(tcp_windows, stale_window_update_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_pattern(pat, sizeof(pat), 0);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_NODELAY, 1), 0);
    cr_assert_eq(fx_write(&f, h, pat, 2000), 2000);
    while (f.p_rcv != f.t_iss + 2001) {
        cr_assert_gt(fx_drain(&f), 0);
        fx_ack(&f);
    }
    fx_drain(&f);
    uint32_t w = f.p_win;
    fx_ack_win(&f, f.t_iss + 1001, 0); /* old: SEG.ACK < SND.UNA */
    f.p_win = w;
    cr_assert_eq(fx_write(&f, h, pat, 500), 500);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 2001, FX_ANY);
    cr_assert_eq(s.len, 500);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (fifth: a window update with the same ACK moves
 * SND.WND): the peer reopening its window with a pure ACK lets data go. */
Test(tcp_windows, window_update_reopens_sending)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_pattern(pat, sizeof(pat), 0);
    fx_ack_win(&f, f.t_iss + 1, 0);
    cr_assert_eq(fx_write(&f, h, pat, 1000), 1000);
    fx_expect_none(&f);
    fx_ack_win(&f, f.t_iss + 1, 65535);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, FX_ANY);
    cr_assert_eq(s.len, 1000);
    fx_down(&f);
}

/* RFC 7323 2.2 (without window scaling the field is the window, at most
 * 65535): a 128 KB buffer offers 65535 when the peer did not scale. */
Test(tcp_windows, unscaled_window_clamped_to_65535)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=128k"));
    uint32_t w0;
    passive_w(&f, &w0);
    cr_assert_eq(w0, 65535u);
    peer_bulk(&f, 10);
    struct fx_seg s;
    last_ack(&f, &s);
    cr_assert_leq(s.win, 65535u);
    cr_assert_geq(s.win, 65535u - 10u);
    fx_down(&f);
}

/* RFC 7323 2.3 (the window field is the window >> Rcv.Wind.Shift): with
 * window scaling, 100 KB queued unread take about 100 KB off the scaled
 * window offered, within one unit of the shift. */
Test(tcp_windows, scaled_window_shrinks_as_data_queues)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=256k"));
    fx_pattern(pat, sizeof(pat), 0);
    f.popt.ws = 7;
    fx_active(&f);
    cr_assert(f.ws_on);
    struct fx_seg s;
    peer_bulk(&f, 1000);
    last_ack(&f, &s);
    uint32_t w1 = s.win;
    struct fx_seg t;
    for (uint32_t n = 0; n < 100000; n += 1000) { /* content does not matter here */
        fx_send(&f, TCP_ACK, pat, 1000);
        while (fx_next(&f, &t))
            s = t;
    }
    fx_ms(&f, 200);
    while (fx_next(&f, &t))
        s = t;
    cr_assert_eq(s.ack, f.p_iss + 1 + 101000);
    uint32_t unit = 1u << f.t_ws;
    cr_assert(s.win + 100000 <= w1 + unit && s.win + 100000 + unit >= w1,
              "window %u after 100000 more bytes queued, %u before (shift %u)", s.win, w1, f.t_ws);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (segments are trimmed to the window: "trimming off any
 * portions that lie outside the window (including SYN and FIN)"): a segment
 * straddling the right edge gives only the bytes inside; its FIN is not
 * taken. */
Test(tcp_windows, segment_beyond_window_trimmed)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=4096"));
    uint32_t w0;
    int h = passive_w(&f, &w0);
    uint32_t first = w0 - 1000;
    peer_bulk(&f, first);
    fx_send(&f, TCP_ACK | TCP_FIN, pat + first, 1460); /* ends 460 past the edge */
    struct fx_seg s;
    last_ack(&f, &s);
    cr_assert_eq(s.ack, f.p_iss + 1 + w0, "ack %u, the window ended at %u", s.ack,
                 f.p_iss + 1 + w0);
    cr_assert_eq(s.win, 0);
    static uint8_t b[8192];
    long n = 0, r;
    while ((r = fx_read(&f, h, b + n, sizeof(b) - (size_t)n)) > 0)
        n += r;
    cr_assert_eq(n, (long)w0, "read %ld bytes of a %u-byte window", n, w0);
    cr_assert_eq(memcmp(b, pat, w0), 0);
    cr_assert_eq(r, -EAGAIN, "the FIN beyond the window ended the stream");
    fx_drain(&f);
    fx_down(&f);
}
