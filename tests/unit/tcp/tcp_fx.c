/* tcp_fx: the tcp state machine's test fixture (see tcp_fx.h). */
#include "tcp_fx.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_l3.h"
#include "fake_os.h"
#include "lt.h"
#include "lyra/netdev.h"
#include "lyra/skb.h"

extern const struct lyra_component lyra_component_tcp;
#include "lt_skb.h" /* LT_SKB_PROVIDER: skb_copy, or fake_skb_split in the _split builds */

#define MS 1000000ull

const bool fx_skb_split = LT_SKB_SPLIT_ON;

/* FX_TRACE=1 in the environment prints every segment in and out (stderr). */
static void trace(const char *dir, uint64_t now_ns, unsigned flags, uint32_t seq, uint32_t ack,
                  uint32_t len, uint32_t win)
{
    static const char nm[] = "FSRPAUEC";
    char b[9];
    int k = 0;
    for (int i = 0; i < 8; i++)
        if (flags & (1u << i))
            b[k++] = nm[i];
    b[k] = 0;
    fprintf(stderr, "%8.3f %s %-4s seq=%u ack=%u len=%u win=%u\n", (double)now_ns / 1e6, dir, b,
            seq, ack, len, win);
}

static bool tracing(void)
{
    const char *e = getenv("FX_TRACE");
    return e && *e && *e != '0';
}

/* ----- ready events --------------------------------------------------------- */

static void fx_ready(void *user, uintptr_t cookie, unsigned what)
{
    struct fx *f = user;
    f->nready++;
    if (cookie == LYRA_L4_EVERY) {
        for (unsigned i = 0; i <= FX_MAX_EP; i++)
            f->ready_what[i] |= what;
    } else if (cookie >= 1 && cookie <= FX_MAX_EP) {
        f->ready_what[cookie] |= what;
    }
}

static const struct lyra_l4_events fx_events = {
    .hdr = LYRA_OPS_HDR(LYRA_L4_IFACE, LYRA_L4_MAJOR, LYRA_L4_MINOR, struct lyra_l4_events),
    .ready = fx_ready,
};

static void fx_cookie(struct fx *f, int h)
{
    if (h >= 0 && h < FX_MAX_EP && f->l4->set_cookie)
        f->l4->set_cookie(f->t, h, (uintptr_t)h + 1);
}

/* ----- lifecycle ----------------------------------------------------------- */

void fx_up2(struct fx *f, const char *const *tcp_params, const char *const *l3_params)
{
    memset(f, 0, sizeof(*f));
#ifdef FX_NIC_SUMS
    /* the _nicsum builds: writes queued whole (as tcp does by default
     * with TSO or a referencing provider, which fake_l3 and skb_copy are
     * not) */
    const char *tp[32];
    unsigned np = 0;
    for (; tcp_params && tcp_params[np] && np < 30; np++)
        tp[np] = tcp_params[np];
    tp[np++] = "sndq_skb_max=65535";
    tp[np] = NULL;
    tcp_params = tp;
#endif
    for (unsigned k = 0; tcp_params && tcp_params[k]; k++)
        f->sndq_big |= !strncmp(tcp_params[k], "sndq_skb_max=", 13) &&
                       strcmp(tcp_params[k], "sndq_skb_max=0") != 0;
    f->os = lt_create(&lyra_component_fake_os, NULL);
    f->skb = lt_create(&LT_SKB_PROVIDER, FX_P("count=1024", "buf_size=2048", "segs=16384"));
    cr_assert_not_null(f->os);
    cr_assert_not_null(f->skb);
    cr_assert_eq(lt_bind(f->skb, "os", f->os), 0);
    cr_assert_eq(lt_start(f->os), 0);
    cr_assert_eq(lt_start(f->skb), 0);
    f->l3 = lt_create(&lyra_component_fake_l3, l3_params);
    cr_assert_not_null(f->l3);
    cr_assert_eq(lt_bind(f->l3, "skb", f->skb), 0);
    f->tcp = lt_create(&lyra_component_tcp, tcp_params);
    cr_assert_not_null(f->tcp, "tcp refused its parameters");
    cr_assert_eq(lt_bind(f->tcp, "os", f->os), 0);
    cr_assert_eq(lt_bind(f->tcp, "skb", f->skb), 0);
    cr_assert_eq(lt_bind(f->tcp, "l3", f->l3), 0);
    cr_assert_eq(lt_start(f->l3), 0);
    cr_assert_eq(lt_start(f->tcp), 0);
    f->l4 = lt_ops(f->tcp, LYRA_L4_IFACE);
    cr_assert_not_null(f->l4, "tcp provides no l4");
    cr_assert_eq(f->l4->type, LYRA_SOCK_STREAM);
    cr_assert_eq(f->l4->protocol, 6);
    f->t = f->tcp->self;
    f->fl = f->l3->self;
    f->fos = f->os->self;
    f->cfg = fake_l3_cfg(f->fl);
    /* the _split builds: received segments arrive in 64-byte pieces too */
    f->cfg->rx_add_data = LT_SKB_SPLIT_ON;
#ifdef FX_NIC_SUMS
    /* the _nicsum builds: the route's NIC sums TCP (fake_l3 stores the sums
     * as it would), so tcp queues a write as one skb of many segments and
     * cuts it for loss recovery (tcp_sndq.c) */
    f->cfg->csum_tx = LYRA_CSUM_TCP;
    f->cfg->nic_sum = 1;
#endif
    cr_assert(fake_l3_registered(f->fl, 6), "tcp did not register protocol 6");
    /* the test is the l4 user: it records ready events */
    for (unsigned k = 0; k < f->tcp->c->n_provides; k++) {
        const struct lyra_provide *p = &f->tcp->c->provides[k];
        if (!strcmp(p->iface, LYRA_L4_IFACE) && p->attach)
            cr_assert_eq(p->attach(f->t, &fx_events, f), 0);
    }
    f->h = -1;
    f->lh = -1;
    f->peer = FX_PEER;
    f->pport = FX_PPORT;
    f->lport = FX_LPORT;
    f->p_iss = 1000000u;
    f->p_win = 65535;
    f->popt = (struct fx_popt){.mss = 1460, .ws = -1, .sack_perm = false, .ts = false};
    f->p_tsval = 5000;
}

bool fx_sndq_by_write(const struct fx *f)
{
    return f->sndq_big && (f->cfg->csum_tx & LYRA_CSUM_TCP);
}

uint64_t fx_skb_in_use(struct fx *f)
{
    return lt_stat(f->skb, "in_use") + (LT_SKB_SPLIT_ON ? lt_stat(f->skb, "chunk_in_use") : 0);
}

void fx_up(struct fx *f, const char *const *tcp_params)
{
    fx_up2(f, tcp_params, NULL);
}

void fx_down(struct fx *f)
{
    cr_assert_eq(f->cfg->output_err, 0);
    lt_stop(f->tcp);
    lt_destroy(f->tcp);
    lt_destroy(f->l3);
    uint64_t in_use = lt_stat(f->skb, "in_use");
    cr_assert_eq(in_use, 0, "skbs left out of the pool once tcp stopped: %llu",
                 (unsigned long long)in_use);
    cr_assert_eq(lt_stat(f->skb, "bad_free"), 0, "an skb was freed twice");
    lt_stop(f->skb);
    cr_assert_eq(fake_os_mem_in_use(f->fos), 0, "os memory leaked");
    lt_destroy(f->skb);
    lt_destroy(f->os);
}

void fx_run(struct fx *f)
{
    if (f->hold)
        return; /* a batch being built: fx_batch_end runs it */
    /* tcp's poll hook: the receive batch's end (tcp_batch.c) */
    for (int i = 0; i < 1000 && lt_poll(f->tcp, 64) > 0; i++)
        ;
    fake_os_advance(f->fos, 0); /* the timers due now */
}

void fx_batch_begin(struct fx *f)
{
    f->hold = 1;
}

void fx_batch_end(struct fx *f)
{
    f->hold = 0;
    fx_run(f);
}

void fx_ms(struct fx *f, uint64_t ms)
{
    fx_run(f);
    fake_os_advance(f->fos, ms * MS);
    fx_run(f);
}

uint64_t fx_now_ms(struct fx *f)
{
    return fake_os_now(f->fos) / MS;
}

/* ----- what tcp sent ------------------------------------------------------- */

static void parse_out(struct fx *f, const struct fake_l3_out *o, struct fx_seg *s)
{
    cr_assert_eq(o->proto, 6, "tcp output a datagram of protocol %u", o->proto);
    cr_assert_eq(o->len, o->total, "segment of %u bytes did not fit the record", o->total);
    cr_assert(o->src == 0 || o->src == FX_US, "source %08x is not ours", o->src);
    cr_assert(tcp_csum_verify(o->b, o->len, FX_US, o->dst), "tcp sent a bad checksum");
    memset(s, 0, sizeof(*s));
    cr_assert_eq(tcp_repr_parse(o->b, o->len, &s->r), TCP_OK, "tcp sent an unparsable header");
    s->seq = s->r.seq.v;
    s->ack = s->r.ack.v;
    s->flags = s->r.flags;
    s->len = s->r.payload_len;
    s->dst = o->dst;
    s->ttl = o->ttl;
    s->tos = o->tos;
    s->df = o->df;
    s->ip_len = o->total + 20;
    memcpy(s->data, o->b + s->r.payload_off, s->len);
    s->win = s->r.window;
    if (!(s->flags & TCP_SYN) && f->ws_on)
        s->win = (uint32_t)s->r.window << f->t_ws;
    if (tracing())
        trace("tcp ->", fake_os_now(f->fos), s->flags, s->seq, s->ack, s->len, s->win);
    /* the peer's model: in-order data and controls advance what it received */
    if (s->flags & TCP_RST)
        return;
    if (s->r.opt.has & TCP_HAS_TS) {
        f->t_tsval = s->r.opt.tsval;
        f->t_ts_seen = true;
    }
    uint32_t adv = s->len + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN);
    if (s->flags & TCP_SYN)
        f->p_rcv = s->seq + adv;
    else if (s->seq == f->p_rcv)
        f->p_rcv += adv;
    else if (tcp_seq_lt(tcp_seq(s->seq), tcp_seq(f->p_rcv)) &&
             tcp_seq_gt(tcp_seq(s->seq + adv), tcp_seq(f->p_rcv)))
        f->p_rcv = s->seq + adv; /* overlaps what it had: the rest is new */
}

bool fx_next(struct fx *f, struct fx_seg *s)
{
    fx_run(f);
    unsigned n = fake_l3_out_count(f->fl);
    if (f->rd >= n) {
        if (n)
            fake_l3_clear(f->fl);
        f->rd = 0;
        return false;
    }
    cr_assert_lt(f->rd, FAKE_L3_OUT_MAX, "more than %d segments output between two reads",
                 FAKE_L3_OUT_MAX);
    const struct fake_l3_out *o = fake_l3_out(f->fl, f->rd++);
    cr_assert_not_null(o);
    struct fx_seg tmp;
    parse_out(f, o, s ? s : &tmp);
    if (f->rd >= n) {
        fake_l3_clear(f->fl);
        f->rd = 0;
    }
    return true;
}

static const char *flagstr(unsigned fl, char *b)
{
    b[0] = 0;
    static const char *const nm[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    for (int i = 0; i < 8; i++)
        if (fl & (1u << i)) {
            if (b[0])
                strcat(b, "|");
            strcat(b, nm[i]);
        }
    if (!b[0])
        strcpy(b, "none");
    return b;
}

void fx_expect_none_at(struct fx *f, const char *file, int line)
{
    struct fx_seg s;
    char b[64];
    if (fx_next(f, &s))
        cr_assert_fail("%s:%d: tcp sent %s seq=%u ack=%u len=%u, expected nothing", file, line,
                       flagstr(s.flags, b), s.seq, s.ack, s.len);
}

void fx_expect_at(struct fx *f, struct fx_seg *s, unsigned flags, long long seq, long long ack,
                  const char *file, int line)
{
    struct fx_seg tmp;
    if (!s)
        s = &tmp;
    char b1[64], b2[64];
    if (!fx_next(f, s))
        cr_assert_fail("%s:%d: tcp sent nothing, expected %s", file, line, flagstr(flags, b1));
    unsigned mask = ~(unsigned)TCP_PSH & 0xffu;
    cr_assert_eq(s->flags & mask, flags & mask,
                 "%s:%d: flags %s, expected %s (seq=%u ack=%u len=%u)",
                 file, line, flagstr(s->flags, b1), flagstr(flags, b2), s->seq, s->ack, s->len);
    if (seq != FX_ANY)
        cr_assert_eq(s->seq, (uint32_t)seq, "%s:%d: seq %u, expected %u (%s)", file, line,
                     s->seq, (uint32_t)seq, flagstr(s->flags, b1));
    if (ack != FX_ANY && (flags & TCP_ACK))
        cr_assert_eq(s->ack, (uint32_t)ack, "%s:%d: ack %u, expected %u (%s)", file, line,
                     s->ack, (uint32_t)ack, flagstr(s->flags, b1));
}

uint64_t fx_wait_maybe(struct fx *f, uint64_t max_ms, struct fx_seg *s)
{
    struct fx_seg tmp;
    if (!s)
        s = &tmp;
    for (uint64_t t = 0; t <= max_ms; t++) {
        if (t)
            fx_ms(f, 1);
        if (fx_next(f, s))
            return t;
    }
    return UINT64_MAX;
}

uint64_t fx_wait_at(struct fx *f, uint64_t max_ms, struct fx_seg *s, const char *file, int line)
{
    uint64_t t = fx_wait_maybe(f, max_ms, s);
    if (t == UINT64_MAX)
        cr_assert_fail("%s:%d: tcp sent nothing within %llu ms", file, line,
                       (unsigned long long)max_ms);
    return t;
}

void fx_last_at(struct fx *f, uint64_t ms, struct fx_seg *s, const char *file, int line)
{
    fx_ms(f, ms);
    if (!fx_next(f, s))
        cr_assert_fail("%s:%d: tcp sent nothing within %llu ms", file, line,
                       (unsigned long long)ms);
    struct fx_seg t;
    while (fx_next(f, &t))
        *s = t;
}

unsigned fx_drain(struct fx *f)
{
    unsigned n = 0;
    struct fx_seg s;
    while (fx_next(f, &s))
        n++;
    return n;
}

uint32_t fx_collect(struct fx *f, uint8_t *buf, uint32_t cap, unsigned *nseg)
{
    uint32_t got = 0;
    unsigned n = 0;
    struct fx_seg s;
    while (fx_next(f, &s)) {
        n++;
        uint32_t k = s.len < cap - got ? s.len : cap - got;
        if (buf)
            memcpy(buf + got, s.data, k);
        got += k;
    }
    if (nseg)
        *nseg = n;
    return got;
}

/* ----- what the peer sends ------------------------------------------------- */

void fx_tx(struct fx *f, const struct fx_tx *t)
{
    uint8_t b[4096];
    struct tcp_repr r = {0};
    r.sport = t->sport;
    r.dport = t->dport;
    r.seq = tcp_seq(t->seq);
    r.ack = tcp_seq(t->ack);
    r.flags = t->flags;
    r.window = t->win;
    r.urg = t->urg;
    r.opt = t->opt;
    uint32_t hl = tcp_repr_build(b, sizeof(b), &r);
    cr_assert_gt(hl, 0, "the fixture built a bad header");
    if (t->raw_opt_len) {
        cr_assert_eq(t->raw_opt_len % 4, 0);
        cr_assert_leq(hl + t->raw_opt_len, TCP_HDR_MAX);
        memcpy(b + hl, t->raw_opt, t->raw_opt_len);
        hl += t->raw_opt_len;
        b[12] = (uint8_t)((hl / 4) << 4 | (b[12] & 0x0f));
    }
    cr_assert_leq(hl + t->len, sizeof(b));
    if (t->len)
        memcpy(b + hl, t->data, t->len);
    uint32_t src = t->src ? t->src : FX_PEER, dst = t->dst ? t->dst : FX_US;
    tcp_csum_fill(b, hl + t->len, src, dst);
    if (t->bad_csum)
        b[TCP_CSUM_OFF] ^= 0x5a;
    if (tracing())
        trace("-> tcp", fake_os_now(f->fos), t->flags, t->seq, t->ack, t->len, t->win);
    struct lyra_l3_rxinfo info = {.src = src, .dst = dst, .proto = 6, .ttl = 64,
                                  .flags = t->l3_flags};
    cr_assert_eq(fake_l3_rx(f->fl, b, hl + t->len, &info), 0, "fake_l3_rx refused the segment");
    fx_run(f);
}

void fx_send_opt(struct fx *f, unsigned flags, uint32_t seq, uint32_t ack, const void *data,
                 uint32_t len, const struct tcp_hdr_opts *extra)
{
    fx_send_raw_opt(f, flags, seq, ack, data, len, extra, NULL, 0);
}

void fx_send_raw_opt(struct fx *f, unsigned flags, uint32_t seq, uint32_t ack, const void *data,
                     uint32_t len, const struct tcp_hdr_opts *extra, const uint8_t *raw,
                     uint8_t raw_len)
{
    struct fx_tx t = {
        .src = f->peer,
        .sport = f->pport,
        .dport = f->lport,
        .seq = seq,
        .ack = (flags & TCP_ACK) ? ack : 0,
        .flags = (uint8_t)flags,
        .data = data,
        .len = len,
        .raw_opt = raw,
        .raw_opt_len = raw_len,
    };
    uint32_t w = f->p_win;
    if (!(flags & TCP_SYN) && f->ws_on)
        w >>= f->popt.ws;
    t.win = w > 65535 ? 65535 : (uint16_t)w;
    if (extra)
        t.opt = *extra;
    if (f->ts_on && !(flags & TCP_RST) && !(t.opt.has & TCP_HAS_TS)) {
        t.opt.has |= TCP_HAS_TS;
        t.opt.tsval = ++f->p_tsval;
        t.opt.tsecr = f->t_tsval;
    }
    fx_tx(f, &t);
}

void fx_send_run(struct fx *f, uint32_t seq, const uint8_t *data, uint32_t seglen, unsigned n)
{
    static uint8_t b[FX_RUN_MAX][TCP_HDR_MAX + 1460];
    const uint8_t *l4[FX_RUN_MAX];
    uint32_t len[FX_RUN_MAX];
    cr_assert(n >= 1 && n <= FX_RUN_MAX && seglen <= 1460);
    struct tcp_repr r = {0};
    r.sport = f->pport;
    r.dport = f->lport;
    r.ack = tcp_seq(f->p_rcv);
    r.flags = TCP_ACK;
    uint32_t w = f->p_win;
    if (f->ws_on)
        w >>= f->popt.ws;
    r.window = w > 65535 ? 65535 : (uint16_t)w;
    if (f->ts_on) { /* one timestamp for the run: the headers are equal */
        r.opt.has |= TCP_HAS_TS;
        r.opt.tsval = ++f->p_tsval;
        r.opt.tsecr = f->t_tsval;
    }
    for (unsigned k = 0; k < n; k++) {
        r.seq = tcp_seq(seq + k * seglen);
        uint32_t hl = tcp_repr_build(b[k], sizeof(b[k]), &r);
        cr_assert_gt(hl, 0, "the fixture built a bad header");
        memcpy(b[k] + hl, data + k * seglen, seglen);
        tcp_csum_fill(b[k], hl + seglen, f->peer, FX_US);
        l4[k] = b[k];
        len[k] = hl + seglen;
    }
    if (tcp_seq_gt(tcp_seq(seq + n * seglen), tcp_seq(f->p_nxt)))
        f->p_nxt = seq + n * seglen;
    struct lyra_l3_rxinfo info = {.src = f->peer, .dst = FX_US, .proto = 6, .ttl = 64,
                                  .flags = LYRA_L3_F_CSUM_OK};
    cr_assert_eq(fake_l3_rx_run(f->fl, l4, len, n, &info), 0, "fake_l3_rx_run refused the run");
    fx_run(f);
}

void fx_send_sa(struct fx *f, unsigned flags, uint32_t seq, uint32_t ack, const void *data,
                uint32_t len)
{
    fx_send_opt(f, flags, seq, ack, data, len, NULL);
}

void fx_send(struct fx *f, unsigned flags, const void *data, uint32_t len)
{
    uint32_t seq = f->p_nxt;
    f->p_nxt += len + !!(flags & TCP_SYN) + !!(flags & TCP_FIN);
    fx_send_opt(f, flags, seq, f->p_rcv, data, len, NULL);
}

void fx_ack(struct fx *f)
{
    fx_send(f, TCP_ACK, NULL, 0);
}

void fx_ack_to(struct fx *f, uint32_t ack)
{
    fx_send_sa(f, TCP_ACK, f->p_nxt, ack, NULL, 0);
}

void fx_ack_win(struct fx *f, uint32_t ack, uint32_t win)
{
    f->p_win = win;
    fx_ack_to(f, ack);
}

/* ----- connections ------------------------------------------------------- */

static void syn_opts(struct fx *f, struct tcp_hdr_opts *o)
{
    memset(o, 0, sizeof(*o));
    if (f->popt.mss) {
        o->has |= TCP_HAS_MSS;
        o->mss = f->popt.mss;
    }
    if (f->popt.ws >= 0) {
        o->has |= TCP_HAS_WS;
        o->ws = (uint8_t)f->popt.ws;
    }
    if (f->popt.sack_perm)
        o->has |= TCP_HAS_SACK_PERM;
    if (f->popt.ts) {
        o->has |= TCP_HAS_TS;
        o->tsval = ++f->p_tsval;
        o->tsecr = (f->t_ts_seen) ? f->t_tsval : 0;
    }
}

/* What tcp's SYN or SYN-ACK said about options. */
static void record_syn(struct fx *f, const struct fx_seg *s)
{
    f->t_iss = s->seq;
    f->t_sent_ws = s->r.opt.has & TCP_HAS_WS;
    f->t_ws = f->t_sent_ws ? s->r.opt.ws : 0;
    f->t_sent_ts = s->r.opt.has & TCP_HAS_TS;
    f->t_sent_sackp = s->r.opt.has & TCP_HAS_SACK_PERM;
    f->t_mss = (s->r.opt.has & TCP_HAS_MSS) ? s->r.opt.mss : 0;
    f->t_syn_wnd = s->win; /* never scaled in a SYN (RFC 7323 2.2) */
}

static void negotiate(struct fx *f)
{
    f->ws_on = f->t_sent_ws && f->popt.ws >= 0;
    if (!f->ws_on)
        f->t_ws = 0;
    f->ts_on = f->t_sent_ts && f->popt.ts;
    f->sack_on = f->t_sent_sackp && f->popt.sack_perm;
}

int fx_open(struct fx *f)
{
    int h = f->l4->open(f->t);
    cr_assert_geq(h, 0, "open: %d", h);
    fx_cookie(f, h);
    return h;
}

int fx_connect(struct fx *f, struct fx_seg *syn)
{
    struct fx_seg tmp;
    if (!syn)
        syn = &tmp;
    int h = fx_open(f);
    struct lyra_sockaddr4 a = {.addr = f->peer, .port = FX_RPORT};
    int r = f->l4->connect(f->t, h, &a);
    cr_assert_eq(r, -EINPROGRESS, "connect: %d, expected -EINPROGRESS", r);
    fx_expect(f, syn, TCP_SYN, FX_ANY, FX_ANY);
    cr_assert_eq(syn->dst, f->peer);
    cr_assert_eq(syn->r.dport, FX_RPORT);
    f->lport = syn->r.sport;
    f->pport = FX_RPORT;
    record_syn(f, syn);
    f->p_rcv = f->t_iss + 1;
    f->h = h;
    return h;
}

void fx_synack(struct fx *f)
{
    struct tcp_hdr_opts o;
    syn_opts(f, &o);
    negotiate(f);
    f->p_nxt = f->p_iss;
    uint32_t seq = f->p_nxt++;
    fx_send_opt(f, TCP_SYN | TCP_ACK, seq, f->t_iss + 1, NULL, 0, &o);
}

int fx_active(struct fx *f)
{
    return fx_active_rtt(f, 0);
}

int fx_active_rtt(struct fx *f, uint64_t rtt_ms)
{
    int h = fx_connect(f, NULL);
    if (rtt_ms)
        fx_ms(f, rtt_ms);
    fx_synack(f);
    struct fx_seg s;
    fx_expect(f, &s, TCP_ACK, f->t_iss + 1, f->p_iss + 1);
    cr_assert_eq(s.len, 0);
    cr_assert(fx_poll(f, h) & LYRA_POLL_OUT, "connected endpoint not writable");
    return h;
}

int fx_listen(struct fx *f, uint16_t port, int backlog)
{
    int h = fx_open(f);
    struct lyra_sockaddr4 a = {.addr = 0, .port = port};
    cr_assert_eq(f->l4->bind(f->t, h, &a), 0);
    cr_assert_eq(f->l4->listen(f->t, h, backlog), 0);
    f->lh = h;
    f->lport = port;
    return h;
}

void fx_syn(struct fx *f, struct fx_seg *synack)
{
    struct fx_seg tmp;
    if (!synack)
        synack = &tmp;
    struct tcp_hdr_opts o;
    f->t_ts_seen = false;
    syn_opts(f, &o);
    f->p_nxt = f->p_iss;
    uint32_t seq = f->p_nxt++;
    fx_send_opt(f, TCP_SYN, seq, 0, NULL, 0, &o);
    fx_expect(f, synack, TCP_SYN | TCP_ACK, FX_ANY, f->p_iss + 1);
    cr_assert_eq(synack->dst, f->peer);
    cr_assert_eq(synack->r.sport, f->lport);
    cr_assert_eq(synack->r.dport, f->pport);
    record_syn(f, synack);
    negotiate(f);
    f->p_rcv = f->t_iss + 1;
}

int fx_passive(struct fx *f)
{
    if (f->lh < 0)
        fx_listen(f, FX_LPORT, 8);
    fx_syn(f, NULL);
    fx_ack(f);
    fx_expect_none(f);
    struct lyra_sockaddr4 peer = {0};
    int h = f->l4->accept(f->t, f->lh, &peer);
    cr_assert_geq(h, 0, "accept: %d", h);
    fx_cookie(f, h);
    cr_assert_eq(peer.addr, f->peer);
    cr_assert_eq(peer.port, f->pport);
    f->h = h;
    return h;
}

/* ----- l4 calls ------------------------------------------------------------ */

long fx_write(struct fx *f, int h, const void *buf, size_t len)
{
    long r = f->l4->send(f->t, h, buf, len, NULL, 0);
    fx_run(f);
    return r;
}

long fx_read_flags(struct fx *f, int h, void *buf, size_t cap, int flags)
{
    struct lyra_iov iov = {buf, cap};
    long r = f->l4->recv(f->t, h, &iov, 1, NULL, NULL, flags);
    fx_run(f);
    return r;
}

long fx_read(struct fx *f, int h, void *buf, size_t cap)
{
    return fx_read_flags(f, h, buf, cap, 0);
}

unsigned fx_poll(struct fx *f, int h)
{
    return f->l4->poll(f->t, h);
}

int fx_setopt(struct fx *f, int h, int opt, int val)
{
    return f->l4->setopt(f->t, h, opt, val);
}

int fx_getopt(struct fx *f, int h, int opt)
{
    int v = -12345;
    int r = f->l4->getopt(f->t, h, opt, &v);
    cr_assert_eq(r, 0, "getopt(%d): %d", opt, r);
    return v;
}

int fx_soerror(struct fx *f, int h)
{
    return fx_getopt(f, h, LYRA_SO_ERROR);
}

void fx_info(struct fx *f, int h, struct lyra_tcp_info *ti)
{
    cr_assert_not_null(f->l4->getopt_buf, "tcp has no getopt_buf");
    memset(ti, 0, sizeof(*ti));
    uint32_t len = sizeof(*ti);
    int r = f->l4->getopt_buf(f->t, h, LYRA_TCP_INFO, ti, &len);
    cr_assert_eq(r, 0, "TCP_INFO: %d", r);
    cr_assert_eq(len, sizeof(*ti));
}

int fx_state(struct fx *f, int h)
{
    struct lyra_tcp_info ti;
    fx_info(f, h, &ti);
    return ti.state;
}

int fx_shutdown(struct fx *f, int h, int how)
{
    int r = f->l4->shutdown(f->t, h, how);
    fx_run(f);
    return r;
}

void fx_close(struct fx *f, int h)
{
    f->l4->close(f->t, h);
    fx_run(f);
}

void fx_pattern(uint8_t *b, uint32_t n, uint32_t off)
{
    for (uint32_t i = 0; i < n; i++)
        b[i] = (uint8_t)((off + i) * 7u + ((off + i) >> 8));
}

void fx_expect_gone_at(struct fx *f, const char *file, int line)
{
    fx_expect_none_at(f, file, line);
    fx_send_sa(f, TCP_ACK, f->p_nxt, f->p_rcv, NULL, 0);
    fx_expect_at(f, NULL, TCP_RST, f->p_rcv, FX_ANY, file, line);
}
