/* tcp's MSG_ZEROCOPY completions and loans (issue 12.2b, 12.3), black box
 * through l4 with the fixture as peer. Over skb_copy every byte is copied,
 * so a completion comes with the call and has the COPIED code; the _split
 * build (payload in 64-byte pieces) shows that a segment made of several
 * pieces is lent as several loans, each contiguous. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "lyra/l4_zc.h"
#include "tcp_fx.h"

static uint8_t pat[16384];

/* A passive connection; *w0 the window tcp offered in its SYN-ACK. */
static int passive_w(struct fx *f, uint32_t *w0)
{
    fx_pattern(pat, sizeof(pat), 0);
    int l = fx_listen(f, FX_LPORT, 8);
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

/* The peer sends n pattern bytes in segments of at most 1460. */
static void peer_bulk(struct fx *f, uint32_t n)
{
    while (n) {
        uint32_t k = n < 1460 ? n : 1460;
        fx_send(f, TCP_ACK, pat + (f->p_nxt - (f->p_iss + 1)), k);
        n -= k;
    }
}

/* The last segment tcp sends within 200 ms. */
static void last_seg(struct fx *f, struct fx_seg *s)
{
    fx_ms(f, 200);
    cr_assert(fx_next(f, s), "nothing sent within 200 ms");
    struct fx_seg t;
    while (fx_next(f, &t))
        *s = t;
}

static int take(struct fx *f, int h, struct lyra_zc_compl *c)
{
    uint32_t n = sizeof(*c);
    return f->l4->getopt_buf(f->t, h, LYRA_SO_ZC_COMPL, c, &n);
}

Test(tcp_zc, completions_one_id_per_call_coalesced)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    fx_pattern(pat, sizeof(pat), 0);
    cr_assert_eq(fx_getopt(&f, h, LYRA_SO_ZEROCOPY), 0);
    /* off: the flag is ignored */
    cr_assert_eq(f.l4->send(f.t, h, pat, 100, NULL, LYRA_MSG_ZEROCOPY), 100);
    struct lyra_zc_compl c;
    cr_expect_eq(take(&f, h, &c), -EAGAIN);
    cr_assert_eq(fx_setopt(&f, h, LYRA_SO_ZEROCOPY, 1), 0);
    cr_assert_eq(f.l4->send(f.t, h, pat + 100, 100, NULL, LYRA_MSG_ZEROCOPY), 100);
    cr_assert_eq(f.l4->send(f.t, h, pat + 200, 3000, NULL, LYRA_MSG_ZEROCOPY), 3000);
    cr_expect(fx_poll(&f, h) & LYRA_POLL_ERR, "POLLERR while a completion waits");
    cr_assert_eq(take(&f, h, &c), 0);
    cr_expect_eq(c.lo, 0);
    cr_expect_eq(c.hi, 1);
    cr_expect_eq(c.copied, 1, "skb_copy copied");
    cr_expect_eq(take(&f, h, &c), -EAGAIN);
    cr_expect_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    fx_drain(&f);
    fx_down(&f);
}

/* A zero window opens when the buffer is lent away: loans leave the queue
 * as reads do. Every loan is one contiguous piece (over fake_skb_split at
 * most 64 bytes: several per segment). The bound refuses one more. */
Test(tcp_zc, loans_open_the_window_and_are_bounded)
{
    struct fx f;
    fx_up(&f, FX_P("rcv_buf=4096"));
    uint32_t w0;
    int h = passive_w(&f, &w0);
    peer_bulk(&f, w0);
    struct fx_seg s;
    last_seg(&f, &s);
    cr_assert_eq(s.win, 0, "the buffer is full");
    cr_assert_eq(fx_setopt(&f, h, LYRA_SO_LOAN_MAX, 1000), 0);
    static struct lyra_l4_loan ln[1000];
    static uint32_t off[1000];
    uint32_t got = 0;
    unsigned k = 0;
    while (got < w0) {
        cr_assert_lt(k, 1000u);
        long r = f.l4->recv_loan(f.t, h, &ln[k], 0);
        cr_assert_gt(r, 0, "loan %u: %ld", k, r);
        cr_assert_eq((size_t)r, ln[k].len);
        cr_assert_eq(memcmp(ln[k].data, pat + got, ln[k].len), 0, "loan %u's bytes", k);
        if (fx_skb_split)
            cr_assert_leq(r, 64, "one piece per loan");
        else
            cr_assert_leq(r, 1460, "at most a segment per loan");
        off[k] = got;
        got += (uint32_t)r;
        k++;
    }
    cr_expect_eq(f.l4->recv_loan(f.t, h, &ln[k], 0), -EAGAIN);
    last_seg(&f, &s);
    cr_expect_geq(s.win, 1460u, "the window opened as the bytes were lent");
    cr_expect_eq(lt_stat(f.tcp, "rx_loaned_bytes"), w0);
    /* the bound: with k loans out and a limit of k, one more is refused */
    cr_assert_eq(fx_setopt(&f, h, LYRA_SO_LOAN_MAX, (int)k), 0);
    fx_send(&f, TCP_ACK, "more", 4);
    cr_expect_eq(f.l4->recv_loan(f.t, h, &ln[k], 0), -ENOBUFS);
    f.l4->loan_return(f.t, &ln[0]);
    cr_assert_eq(f.l4->recv_loan(f.t, h, &ln[0], 0), 4);
    cr_expect_eq(memcmp(ln[0].data, "more", 4), 0);
    /* closed with the loans out: they stay readable, then go back */
    fx_close(&f, h);
    fx_drain(&f);
    for (unsigned i = 1; i < k; i++)
        cr_assert_eq(memcmp(ln[i].data, pat + off[i], ln[i].len), 0, "loan %u after close", i);
    for (unsigned i = 0; i < k; i++)
        f.l4->loan_return(f.t, &ln[i]);
    fx_down(&f); /* checks that every skb came back */
}
