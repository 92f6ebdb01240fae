/* libFuzzer entry for the tcp component's input path, state by state: the
 * state machine behind the header parser (fuzz_tcp_wire.c has the parser).
 *
 * One tcp instance wired to fake_l3 (it plays ip: records what tcp
 * outputs, delivers what the input injects), fake_os (a manual clock) and
 * skb_copy (or fake_skb_split), driven only through its l4 ops, all made
 * anew for every input so that an input replays alone and the same way.
 * The harness plays the peer, 192.0.2.1:40000, and keeps a small model of
 * it: its own next sequence number, what it received from tcp in order,
 * tcp's ISN (read from tcp's SYN or SYN-ACK, never assumed), tcp's last
 * TSval. Segments are built with tcp_wire.h (tcp_repr_build,
 * tcp_csum_fill).
 *
 * Input byte 0: the starting state (low nibble) and the setup (high bits).
 *   state  0 LISTEN       1 SYN_SENT    2 SYN_RCVD    3 ESTABLISHED
 *          4 FIN_WAIT_1   5 FIN_WAIT_2  6 CLOSE_WAIT  7 CLOSING
 *          8 LAST_ACK     9 TIME_WAIT
 *         10-14: FIN_WAIT_1, FIN_WAIT_2, CLOSING, LAST_ACK, TIME_WAIT with
 *            the handle closed (an orphan finishing alone) instead of shut
 *         15 ESTABLISHED with out-of-order data held (a hole at RCV.NXT)
 *   bit 4: the peer offers no options (no MSS, WS, SACK-permitted, TS)
 *   bit 5: small buffers (snd_buf, rcv_buf 4096; a pool of 40 skbs)
 *   bit 6: synchronized states reached by an active open (else passive)
 *   bit 7: skbs from fake_skb_split (received payload in 64-byte pieces)
 * Every setup reaches ESTABLISHED (where it goes that far) with data queued
 * both ways: bytes tcp sent and the peer has not acknowledged, bytes the
 * peer sent and the application has not read.
 *
 * The rest: operations, one opcode byte (% 14; 0xf0 and above: a run)
 * then its arguments (see run_ops); a truncated operation ends the input.
 *
 * Checked, abort() otherwise so that the fuzzer keeps the input:
 *  - every segment tcp sends is TCP from our address, parses, carries a
 *    right checksum, and its payload on the connection under test is the
 *    bytes the application wrote at that stream offset;
 *  - what recv returns on a connection of the 4-tuple under test (on its
 *    handle, also once the connection has ended) is the bytes the peer
 *    sent at those sequence numbers (the peer's payload is a function of
 *    its sequence number, so overlapping retransmissions agree);
 *  - send and recv never return more than asked;
 *  - after the input, once tcp has stopped: no skb out of the pool, none
 *    freed twice, no os memory held. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_l3.h"
#include "fake_os.h"
#include "lt.h"
#include "lyra/l3.h"
#include "lyra/l4.h"
#include "lyra/netdev.h"
#include "lyra/skb.h"
#include "tcp_wire.h"

extern const struct lyra_component lyra_component_tcp;
extern const struct lyra_component lyra_component_skb_copy;
extern const struct lyra_component lyra_component_fake_skb_split;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define US 0xc0000202u    /* 192.0.2.2: tcp's address */
#define PEER 0xc0000201u  /* 192.0.2.1: the peer the harness plays */
#define PEER2 0xc0000203u /* another host */
#define LPORT 80u
#define PPORT 40000u
#define P_ISS 1000000u
#define MAX_CONNS 8
#define HOLD_MAX 300
#define MS 1000000ull
#define PAYLOAD_MAX 4096u

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_tcp_input: %s\n", what);
        abort();
    }
}

/* TCPF_TRACE=1 in the environment prints every segment in and out and
 * the state reached by the setup (stderr), for writing up a finding. */
static int tracing = -1;

/* The application's bytes at stream offset k (every handle writes this
 * pattern from its offset 0). */
static uint8_t app_byte(uint32_t k)
{
    return (uint8_t)(k % 251u);
}

/* The peer's payload byte at sequence number s. */
static uint8_t peer_byte(uint32_t s)
{
    return (uint8_t)((s * 2654435761u) >> 24);
}

struct h {
    struct lt_inst *os, *skb, *l3, *tcp;
    const struct lyra_l4_ops *l4;
    const struct lyra_skb_ops *so;
    void *t, *fl, *fos;
    struct fake_l3_cfg *cfg;
    int split;

    /* the connection under test, from the peer's side */
    int ch;            /* tcp's handle for it (-1: none, or closed) */
    int lh;            /* the listener (-1: none) */
    uint16_t lport;    /* tcp's port (learned from its SYN in an active open) */
    uint32_t p_nxt;    /* the peer's next sequence number */
    uint32_t t_iss;    /* tcp's ISN, from its SYN or SYN-ACK */
    bool iss_known;
    uint32_t t_rcv;    /* what the peer received from tcp in order */
    uint32_t t_max;    /* the highest sequence number tcp sent (end) */
    bool irs_known;    /* tcp's IRS on the 4-tuple now is known (see rd_*) */
    uint32_t irs;
    /* what the peer sent on the 4-tuple, seen from each of its last SYNs'
     * sequence numbers: nothing beyond base + maxd */
    struct {
        uint32_t base;
        int32_t maxd;
        int ws; /* the SYN's window shift, -1: none */
        int mss; /* the SYN's MSS, -1: none */
    } pb[8];
    /* since tcp's SYN, from t_iss: the largest ACK and the largest window
     * (scaled by the shift of the SYN tcp took, or 14 before that is known)
     * the peer sent; tcp sends nothing beyond their sum, but one byte of a
     * window probe */
    bool wedge_known;
    int32_t wedge, amax;
    int64_t wmax;
    /* the handle of the connection on the 4-tuple when last seen (-1: none,
     * ended, or closed by the application): a handle where there was none
     * or another one is another connection, even when its SYN never made
     * it out (no route) */
    int last_k;
    bool mtu_changed; /* the route's MTU was ever other than 1500 */
    unsigned npb, pb_next;
    /* what tcp sent on the 4-tuple since its last SYN */
    bool t_ack_known, t_fin_known;
    uint32_t t_last_ack, t_fin_seq;
    uint32_t t_tsval;  /* the last TSval tcp sent (the peer echoes it) */
    bool syn_pending;  /* the peer sent a SYN on the 4-tuple: seq, payload length */
    uint32_t syn_seq, syn_len;
    uint8_t t_ws;      /* the shift tcp announced */
    bool ws_on, ts_on; /* negotiated, as the peer saw it */
    bool popts;        /* the peer offers options */

    /* per handle: bytes written (the pattern's offset), bytes read */
    uint32_t written[MAX_CONNS];
    /* per handle: the IRS of the connection it holds, when known (a
     * handle keeps its connection's unread bytes after the connection
     * ended, while a new one on the same 4-tuple has another handle) */
    bool rd_known[MAX_CONNS];
    uint32_t rd_irs[MAX_CONNS];
    uint32_t nread[MAX_CONNS]; /* bytes read since */

    unsigned nready;
    struct lyra_skb *held[HOLD_MAX];
    unsigned nheld;
};

static uint8_t app_pat[70000 + 251];

/* ----- ready events (l4 1.1) --------------------------------------------- */

static void on_ready(void *user, uintptr_t cookie, unsigned what)
{
    struct h *x = user;
    (void)cookie;
    (void)what;
    x->nready++;
}

static const struct lyra_l4_events events = {
    .hdr = LYRA_OPS_HDR(LYRA_L4_IFACE, LYRA_L4_MAJOR, LYRA_L4_MINOR, struct lyra_l4_events),
    .ready = on_ready,
};

static void cookie(struct h *x, int hd)
{
    if (hd >= 0)
        x->l4->set_cookie(x->t, hd, (uintptr_t)hd + 1);
}

static void trace(struct h *x, const char *dir, const struct tcp_repr *r, uint32_t len)
{
    if (tracing <= 0)
        return;
    static const char nm[] = "FSRPAUEC";
    char b[9];
    int k = 0;
    for (int i = 0; i < 8; i++)
        if (r->flags & (1u << i))
            b[k++] = nm[i];
    b[k] = 0;
    fprintf(stderr, "%9.3f %s %u>%u %-4s seq=%u(+%d) ack=%u(+%d) len=%u win=%u opt=%02x",
            (double)fake_os_now(x->fos) / 1e6, dir, r->sport, r->dport, b, r->seq.v,
            (int)(r->seq.v - (dir[0] == 't' ? x->t_iss : P_ISS)), r->ack.v,
            (int)(r->ack.v - (dir[0] == 't' ? P_ISS : x->t_iss)), len, r->window, r->opt.has);
    if (r->opt.has & TCP_HAS_TS)
        fprintf(stderr, " ts=%u/%u", r->opt.tsval, r->opt.tsecr);
    for (unsigned i = 0; (r->opt.has & TCP_HAS_SACK) && i < r->opt.nsack; i++)
        fprintf(stderr, " sack=%u-%u", r->opt.sack[i].left.v, r->opt.sack[i].right.v);
    fprintf(stderr, "\n");
}

/* ----- what tcp sent -------------------------------------------------------- */

/* Is a segment from tcp on the connection under test? */
static bool ours(const struct h *x, const struct tcp_repr *r, uint32_t dst)
{
    return dst == PEER && r->dport == PPORT && r->sport == x->lport;
}

/* The handle of the live connection on the 4-tuple under test (name()
 * answers ENOTCONN for a CLOSED one), or -1. */
static int tuple_handle(struct h *x)
{
    for (int k = 0; k < MAX_CONNS; k++) {
        struct lyra_sockaddr4 a, b;
        if (x->l4->name(x->t, k, 0, &a) == 0 && a.port == x->lport &&
            x->l4->name(x->t, k, 1, &b) == 0 && b.addr == PEER && b.port == PPORT)
            return k;
    }
    return -1;
}

/* Checks every segment tcp output since the last call and feeds the peer
 * model; clears the record. */
static void outputs(struct h *x)
{
    int kk = tuple_handle(x);
    if (kk >= 0 && kk != x->last_k) {
        /* a new connection: nothing known of it until its SYN */
        x->iss_known = x->irs_known = false;
        x->t_ack_known = x->t_fin_known = x->wedge_known = false;
    }
    x->last_k = kk; /* -1: ended, closed or orphaned (name() refuses them) */
    unsigned n = fake_l3_out_count(x->fl);
    for (unsigned i = 0; i < n && i < FAKE_L3_OUT_MAX; i++) {
        const struct fake_l3_out *o = fake_l3_out(x->fl, i);
        must(o->proto == 6, "tcp output a datagram that is not TCP");
        must(o->src == 0 || o->src == US, "tcp sent from an address not ours");
        must(o->total >= TCP_HDR_LEN, "tcp sent less than a header");
        if (o->len != o->total)
            continue; /* larger than the record: not checked */
        /* with csum_tx offered fake_l3 stores the sum as the NIC would
         * (nic_sum), but not a TSO frame's (the NIC sums each segment) */
        must((o->gso_size && (o->skb_flags & LYRA_SKB_F_CSUM_TX)) ||
                 tcp_csum_verify(o->b, o->len, US, o->dst),
             "tcp sent a bad checksum");
        struct tcp_repr r;
        must(tcp_repr_parse(o->b, o->len, &r) == TCP_OK, "tcp sent a header it cannot parse");
        if (!x->mtu_changed && o->total + 20 > 1500) {
            fprintf(stderr, "fuzz_tcp_input: %u bytes of TCP\n", o->total);
            must(0, "tcp sent a segment over the route's MTU");
        }
        must(!(r.flags & TCP_RST) || r.payload_len == 0, "tcp sent a RST with data");
        trace(x, "tcp ->", &r, r.payload_len);
        if (!ours(x, &r, o->dst)) {
            if (x->lport == 0 && o->dst == PEER && r.dport == PPORT && (r.flags & TCP_SYN) &&
                !(r.flags & TCP_ACK))
                x->lport = r.sport; /* an active open's port */
            else
                continue;
        }
        if (r.opt.has & TCP_HAS_TS)
            x->t_tsval = r.opt.tsval;
        if (r.flags & TCP_RST)
            continue;
        uint32_t seq = r.seq.v;
        if (r.flags & TCP_SYN) {
            /* a new connection on the 4-tuple (or its SYN again) */
            if (!x->iss_known || seq != x->t_iss)
                x->wedge_known = false;
            x->t_iss = seq;
            x->iss_known = true;
            x->t_rcv = x->t_max = seq + 1;
            x->t_ws = (r.opt.has & TCP_HAS_WS) ? r.opt.ws : 0;
            x->ws_on = x->popts && (r.opt.has & TCP_HAS_WS);
            x->ts_on = x->popts && (r.opt.has & TCP_HAS_TS);
            x->irs_known = false;
            x->t_ack_known = x->t_fin_known = false;
            must(r.payload_len == 0, "tcp sent data on its SYN");
            /* the handle that holds it writes from stream offset 0 */
            int k = tuple_handle(x);
            if (k >= 0) {
                x->written[k] = 0;
                x->rd_known[k] = false;
                x->last_k = k;
            }
        }
        /* tcp's IRS: the peer's last SYN, once tcp acknowledges it */
        if ((r.flags & TCP_ACK) && !x->irs_known && x->syn_pending &&
            (r.ack.v == x->syn_seq + 1 || r.ack.v == x->syn_seq + 1 + x->syn_len)) {
            x->irs_known = true;
            x->irs = x->syn_seq;
            int k = tuple_handle(x);
            if (k >= 0) {
                x->rd_known[k] = true;
                x->rd_irs[k] = x->syn_seq;
                x->nread[k] = 0;
            }
            x->syn_pending = false;
        }
        if ((r.flags & TCP_ACK) && x->irs_known) {
            /* RFC 9293 3.10.7.4: RCV.NXT only moves forward, over bytes received */
            for (unsigned k = 0; k < x->npb; k++)
                if (x->pb[k].base == x->irs && (int32_t)(r.ack.v - x->irs) > x->pb[k].maxd) {
                    fprintf(stderr, "fuzz_tcp_input: ACK %u is IRS+%d, the peer sent up to "
                            "IRS+%d\n", r.ack.v, (int)(r.ack.v - x->irs), (int)x->pb[k].maxd);
                    must(0, "tcp acknowledged bytes the peer never sent");
                }
            if (x->t_ack_known && tcp_seq_lt(r.ack, tcp_seq(x->t_last_ack))) {
                fprintf(stderr, "fuzz_tcp_input: ACK %u after ACK %u\n", r.ack.v, x->t_last_ack);
                must(0, "tcp's acknowledgment went backwards");
            }
            x->t_ack_known = true;
            x->t_last_ack = r.ack.v;
        }
        if (r.flags & TCP_SYN)
            continue;
        for (unsigned k = 0; x->irs_known && k < x->npb; k++) {
            /* RFC 9293 3.7.1, RFC 6691: data and options within the peer's MSS
             * (536 without the option; tiny ones are floored: not checked) */
            int m = x->pb[k].mss < 0 ? 536 : x->pb[k].mss;
            if (x->pb[k].base == x->irs && m >= 128 && r.payload_len &&
                r.payload_len + (r.hlen - TCP_HDR_LEN) > (uint32_t)m) {
                fprintf(stderr, "fuzz_tcp_input: %u data + %u option bytes, the peer's MSS %d\n",
                        r.payload_len, r.hlen - TCP_HDR_LEN, m);
                must(0, "tcp sent a segment over the peer's MSS (RFC 9293 3.7.1, RFC 6691)");
            }
        }
        if (r.payload_len && x->wedge_known &&
            (int64_t)(int32_t)(seq + r.payload_len - x->t_iss) > (int64_t)x->wedge + 1) {
            fprintf(stderr, "fuzz_tcp_input: data to ISS+%d, the peer's largest ACK + window: ISS+%d\n",
                    (int)(seq + r.payload_len - x->t_iss), (int)x->wedge);
            must(0, "tcp sent beyond the largest ACK + window the peer sent (RFC 9293 3.8.6)");
        }
        {
            /* nothing after the FIN, and the FIN always at one place */
            uint32_t dend = seq + r.payload_len;
            if (x->t_fin_known) {
                if ((r.payload_len && tcp_seq_gt(tcp_seq(dend), tcp_seq(x->t_fin_seq))) ||
                    tcp_seq_gt(tcp_seq(seq), tcp_seq(x->t_fin_seq + 1)) ||
                    ((r.flags & TCP_FIN) && dend != x->t_fin_seq)) {
                    fprintf(stderr, "fuzz_tcp_input: seq %u len %u%s after a FIN at %u\n", seq,
                            r.payload_len, (r.flags & TCP_FIN) ? " FIN" : "", x->t_fin_seq);
                    must(0, "tcp sent data or a FIN beyond its FIN");
                }
            } else if (r.flags & TCP_FIN) {
                x->t_fin_known = true;
                x->t_fin_seq = dend;
            }
        }
        if (!x->iss_known)
            continue;
        /* data: the application's bytes at that stream offset */
        uint32_t off = seq - (x->t_iss + 1);
        for (uint32_t k = 0; k < r.payload_len; k++)
            if (o->b[r.payload_off + k] != app_byte(off + k)) {
                fprintf(stderr, "fuzz_tcp_input: seq %u (stream offset %u) byte %u: %u, "
                        "written %u\n", seq, off, k, o->b[r.payload_off + k],
                        app_byte(off + k));
                must(0, "tcp sent bytes the application did not write there");
            }
        uint32_t end = seq + r.payload_len + !!(r.flags & TCP_FIN);
        if (tcp_seq_le(tcp_seq(seq), tcp_seq(x->t_rcv)) && tcp_seq_gt(tcp_seq(end), tcp_seq(x->t_rcv)))
            x->t_rcv = end;
        if (tcp_seq_gt(tcp_seq(end), tcp_seq(x->t_max)))
            x->t_max = end;
    }
    fake_l3_clear(x->fl);
}

/* ----- what the peer sends -------------------------------------------------- */

struct seg {
    uint32_t src;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win, urg;
    struct tcp_hdr_opts opt;
    uint32_t len; /* payload: peer_byte(seq + k) */
    bool bad_csum;
};

/* The peer model's record of a segment it sends: every segment toward
 * the 4-tuple counts as sent, checksum right or not (the bound only gets
 * looser). */
static void note_sent(struct h *x, const uint8_t *b, uint32_t len, uint32_t src)
{
    struct tcp_repr r;
    if (src == PEER && tcp_repr_parse(b, len, &r) == TCP_OK && r.sport == PPORT &&
        r.dport == (x->lport ? x->lport : LPORT)) {
        uint32_t adv = r.payload_len + !!(r.flags & TCP_SYN) + !!(r.flags & TCP_FIN);
        bool have = false;
        for (unsigned k = 0; k < x->npb; k++) {
            int32_t d = (int32_t)(r.seq.v + adv - x->pb[k].base);
            if (x->pb[k].base == r.seq.v && (r.flags & TCP_SYN)) {
                /* Another SYN from the same ISN, with other options: tcp may
                 * have taken either (it drops a SYN+RST, takes a SYN later),
                 * so the bounds become the looser of the two: the larger MSS
                 * (536 without one) and the larger window shift. */
                int mss = (r.opt.has & TCP_HAS_MSS) ? r.opt.mss : -1;
                int ws = (r.opt.has & TCP_HAS_WS) ? r.opt.ws : -1;
                int m0 = x->pb[k].mss < 0 ? 536 : x->pb[k].mss, m1 = mss < 0 ? 536 : mss;
                if (m1 > m0)
                    x->pb[k].mss = mss;
                if (ws > x->pb[k].ws)
                    x->pb[k].ws = ws;
            }
            have |= x->pb[k].base == r.seq.v;
            if (d > x->pb[k].maxd)
                x->pb[k].maxd = d;
        }
        if ((r.flags & TCP_SYN) && !have) {
            /* a ring, but never over the record of the connection tcp holds
             * (its IRS) nor of the SYN it may take next: a SYN from that ISN
             * again would start a new record, tighter than what the peer sent
             * from it, and tcp's correct segments would fail against it.
             * Bases are distinct (have), so at most two of the eight slots
             * are kept: the loop ends */
            unsigned k;
            if (x->npb < 8)
                k = x->npb++;
            else
                do
                    k = x->pb_next++ % 8;
                while ((x->irs_known && x->pb[k].base == x->irs) ||
                       (x->syn_pending && x->pb[k].base == x->syn_seq));
            x->pb[k].base = r.seq.v;
            x->pb[k].maxd = (int32_t)adv;
            x->pb[k].ws = (r.opt.has & TCP_HAS_WS) ? r.opt.ws : -1;
            x->pb[k].mss = (r.opt.has & TCP_HAS_MSS) ? r.opt.mss : -1;
        }
        if ((r.flags & TCP_ACK) && x->iss_known) {
            unsigned sh = 14;
            if (r.flags & TCP_SYN) {
                sh = 0; /* RFC 7323 2.2 */
            } else if (x->irs_known) {
                for (unsigned k = 0; k < x->npb; k++)
                    if (x->pb[k].base == x->irs)
                        sh = x->pb[k].ws < 0 ? 0u : (unsigned)x->pb[k].ws;
            }
            /* RFC 9293 3.10.7.4: SND.UNA moves with any acceptable ACK but
             * SND.WND only with a segment that passes the SND.WL1/WL2 test, so
             * the usable edge is bounded by the largest ACK plus the largest
             * window, not by the edges the peer offered */
            int32_t a = (int32_t)(r.ack.v - x->t_iss);
            int64_t w = (int64_t)r.window << sh;
            if (!x->wedge_known || a > x->amax)
                x->amax = a;
            if (!x->wedge_known || w > x->wmax)
                x->wmax = w;
            int64_t e = (int64_t)x->amax + x->wmax;
            x->wedge = e > INT32_MAX ? INT32_MAX : (int32_t)e;
            x->wedge_known = true;
        }
    }
}

static void inject(struct h *x, const uint8_t *b, uint32_t len, uint32_t src)
{
    note_sent(x, b, len, src);
    struct lyra_l3_rxinfo info = {.src = src, .dst = US, .proto = 6, .ttl = 64};
    fake_l3_rx(x->fl, b, len, &info);
    fake_os_advance(x->fos, 0); /* the end of the receive batch: tcp answers (MUST-59) */
    outputs(x);
}

/* s's TCP header in b (without its options when they do not fit); its
 * length. */
static uint32_t seg_hdr(const struct seg *s, uint8_t *b, struct tcp_repr *rr)
{
    struct tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.sport = s->sport;
    r.dport = s->dport;
    r.seq = tcp_seq(s->seq);
    r.ack = tcp_seq(s->ack);
    r.flags = s->flags;
    r.window = s->win;
    r.urg = s->urg;
    r.opt = s->opt;
    uint32_t hl = tcp_repr_build(b, TCP_HDR_MAX, &r);
    if (!hl) { /* options that do not fit: without them */
        r.opt.has = 0;
        hl = tcp_repr_build(b, TCP_HDR_MAX, &r);
    }
    must(hl != 0, "tcp_repr_build refused a header without options");
    *rr = r;
    return hl;
}

/* The peer sends a SYN on the 4-tuple: tcp's IRS once acknowledged. */
static void note_syn(struct h *x, const struct seg *s, uint32_t len)
{
    if ((s->flags & TCP_SYN) && !s->bad_csum && s->src == PEER && s->sport == PPORT &&
        s->dport == x->lport) {
        x->syn_pending = true;
        x->syn_seq = s->seq;
        x->syn_len = len;
    }
}

static void tx(struct h *x, const struct seg *s)
{
    static uint8_t b[TCP_HDR_MAX + PAYLOAD_MAX];
    struct tcp_repr r;
    uint32_t hl = seg_hdr(s, b, &r);
    uint32_t len = s->len > PAYLOAD_MAX ? PAYLOAD_MAX : s->len;
    for (uint32_t k = 0; k < len; k++)
        b[hl + k] = peer_byte(s->seq + k);
    tcp_csum_fill(b, hl + len, s->src, US);
    trace(x, s->bad_csum ? "peer-> (bad csum)" : "peer->", &r, len);
    note_syn(x, s, len);
    if (s->bad_csum)
        b[TCP_CSUM_OFF] ^= 0x5a;
    inject(x, b, hl + len, s->src);
}

#define RUN_MAX 17
#define RUN_SEG 1480u /* a TCP segment in a 1500-byte IPv4 datagram */

/* A run as a coalescing NIC hands it up (skb 2.6 LYRA_SKB_F_GRO, through
 * fake_l3_rx_run): s first, then n - 1 segments that continue it, each
 * with s's header but for the sequence number and PSH (on the last one
 * when psh), all verified by the card: the driver's promise, which tcp
 * believes without looking (it checks flags itself), so the harness keeps
 * it and the fuzzer varies the first header and the lengths. Each carries
 * 1 + lens[k] % room bytes, within RUN_SEG; s->len and s->bad_csum are
 * not used, nor L3's rx_split (a run's skbs are linear). Returns the
 * sequence number after the last byte. */
static uint32_t tx_run(struct h *x, const struct seg *s, const uint16_t *lens, unsigned n,
                       bool psh)
{
    static uint8_t b[RUN_MAX][RUN_SEG];
    const uint8_t *segs[RUN_MAX];
    uint32_t len[RUN_MAX];
    struct tcp_repr r;
    uint32_t hl = seg_hdr(s, b[0], &r);
    uint32_t seq = s->seq;
    for (unsigned k = 0; k < n; k++) {
        uint32_t pay = 1 + lens[k] % (RUN_SEG - hl);
        if (k) {
            memcpy(b[k], b[0], hl);
            tcp_st32(b[k] + 4, seq);
            b[k][13] = (uint8_t)((b[0][13] & ~TCP_PSH) | (psh && k + 1 == n ? TCP_PSH : 0));
        }
        for (uint32_t j = 0; j < pay; j++)
            b[k][hl + j] = peer_byte(seq + j);
        tcp_csum_fill(b[k], hl + pay, s->src, US);
        r.seq = tcp_seq(seq);
        r.flags = b[k][13];
        trace(x, k ? "peer-> (run)" : "peer-> (run head)", &r, pay);
        if (!k)
            note_syn(x, s, pay);
        note_sent(x, b[k], hl + pay, s->src);
        segs[k] = b[k];
        len[k] = hl + pay;
        seq += pay;
    }
    struct lyra_l3_rxinfo info = {.src = s->src, .dst = US, .proto = 6, .ttl = 64};
    fake_l3_rx_run(x->fl, segs, len, n, &info);
    fake_os_advance(x->fos, 0); /* the end of the receive batch, as inject */
    outputs(x);
    return seq;
}

static uint32_t p_ts(struct h *x)
{
    return 5000u + (uint32_t)(fake_os_now(x->fos) / MS);
}

/* A segment on the connection under test from the model: seq p_nxt, ack
 * t_rcv, a full window, the timestamps when negotiated; p_nxt moves. */
static void psend_ack(struct h *x, uint8_t flags, uint32_t len, uint32_t ack)
{
    struct seg s = {.src = PEER, .sport = PPORT, .dport = x->lport, .seq = x->p_nxt,
                    .ack = ack, .flags = flags, .win = 65535, .len = len};
    if ((flags & TCP_SYN) && x->popts) {
        s.opt.has = TCP_HAS_MSS | TCP_HAS_WS | TCP_HAS_SACK_PERM | TCP_HAS_TS;
        s.opt.mss = 1460;
        s.opt.ws = 7;
        s.opt.tsval = p_ts(x);
        s.opt.tsecr = (flags & TCP_ACK) ? x->t_tsval : 0;
    } else if (x->ts_on) {
        s.opt.has = TCP_HAS_TS;
        s.opt.tsval = p_ts(x);
        s.opt.tsecr = x->t_tsval;
    }
    if (!(flags & TCP_SYN) && x->ws_on)
        s.win = 65535 >> 7 > 512 ? 65535 >> 7 : 512; /* 512 << 7: 64 KiB */
    tx(x, &s);
    x->p_nxt += len + !!(flags & TCP_SYN) + !!(flags & TCP_FIN);
}

static void psend(struct h *x, uint8_t flags, uint32_t len)
{
    psend_ack(x, flags, len, x->t_rcv);
}

/* ----- l4 calls with checks ----------------------------------------------- */

static long app_send(struct h *x, int hd, uint32_t len, int flags)
{
    uint32_t w = hd >= 0 && hd < MAX_CONNS ? x->written[hd] : 0;
    if (len > 70000)
        len = 70000;
    long r = x->l4->send(x->t, hd, app_pat + w % 251u, len, NULL, flags);
    must(r <= (long)len, "send took more than it was given");
    if (r > 0 && hd >= 0 && hd < MAX_CONNS)
        x->written[hd] += (uint32_t)r;
    outputs(x);
    return r;
}

static long app_recv(struct h *x, int hd, uint32_t cap, int flags, unsigned iovcnt, bool nobuf)
{
    static uint8_t buf[70000];
    if (cap > sizeof(buf))
        cap = sizeof(buf);
    uint32_t first = iovcnt > 1 ? cap / 3 : cap;
    struct lyra_iov v[2] = {{nobuf ? NULL : buf, first}, {nobuf ? NULL : buf + first, cap - first}};
    struct lyra_sockaddr4 from;
    long r = x->l4->recv(x->t, hd, v, iovcnt > 1 ? 2 : 1, &from, NULL, flags);
    must(r <= (long)cap, "recv returned more than the buffer holds");
    if (r > 0 && hd >= 0 && hd < MAX_CONNS && x->rd_known[hd]) {
        uint32_t s0 = x->rd_irs[hd] + 1 + x->nread[hd];
        for (long k = 0; k < r; k++)
            if (buf[k] != peer_byte(s0 + (uint32_t)k)) {
                fprintf(stderr, "fuzz_tcp_input: recv byte %ld (seq %u): %u, the peer sent %u\n",
                        k, s0 + (uint32_t)k, buf[k], peer_byte(s0 + (uint32_t)k));
                must(0, "recv returned bytes the peer did not send there");
            }
        if (!(flags & LYRA_MSG_PEEK))
            x->nread[hd] += (uint32_t)r;
    }
    outputs(x);
    return r;
}

static int tcp_state(struct h *x, int hd)
{
    struct lyra_tcp_info ti;
    uint32_t len = sizeof(ti);
    if (x->l4->getopt_buf(x->t, hd, LYRA_TCP_INFO, &ti, &len))
        return -1;
    return ti.state;
}

static void advance(struct h *x, uint64_t ns)
{
    while (ns) {
        uint64_t step = ns > 10000 * MS ? 10000 * MS : ns;
        fake_os_advance(x->fos, step);
        ns -= step;
        outputs(x);
    }
}

/* ----- setup ---------------------------------------------------------------- */

static void up(struct h *x, uint8_t b0)
{
    memset(x, 0, sizeof(*x));
    bool small = b0 & 0x20;
    x->split = (b0 & 0x80) != 0;
    x->popts = !(b0 & 0x10);
    x->os = lt_create(&lyra_component_fake_os, NULL);
    x->skb = lt_create(x->split ? &lyra_component_fake_skb_split : &lyra_component_skb_copy,
                       small ? (const char *const[]){"count=40", "buf_size=2048", "segs=2048",
                                                     "big_count=2", "big_size=16k", NULL}
                             : (const char *const[]){"count=128", "buf_size=2048",
                                                     "segs=2048", "big_count=2",
                                                     "big_size=16k", NULL});
    must(x->os && x->skb, "create os, skb");
    must(!lt_bind(x->skb, "os", x->os) && !lt_start(x->os) && !lt_start(x->skb), "start skb");
    x->l3 = lt_create(&lyra_component_fake_l3, NULL);
    x->tcp = lt_create(&lyra_component_tcp,
                       small ? (const char *const[]){"max_conns=8", "backlog_max=4",
                                                     "snd_buf=4096", "rcv_buf=4096",
                                                     "ooo_ranges=3", "time_wait_ms=60000", NULL}
                             : (const char *const[]){"max_conns=8", "backlog_max=4",
                                                     "time_wait_ms=60000", NULL});
    must(x->l3 && x->tcp, "create l3, tcp");
    must(!lt_bind(x->l3, "skb", x->skb) && !lt_bind(x->tcp, "os", x->os) &&
             !lt_bind(x->tcp, "skb", x->skb) && !lt_bind(x->tcp, "l3", x->l3),
         "bind");
    must(!lt_start(x->l3) && !lt_start(x->tcp), "start l3, tcp");
    x->l4 = lt_ops(x->tcp, LYRA_L4_IFACE);
    x->so = lt_ops(x->skb, "skb");
    must(x->l4 && x->so, "ops");
    x->t = x->tcp->self;
    x->fl = x->l3->self;
    x->fos = x->os->self;
    x->cfg = fake_l3_cfg(x->fl);
    x->cfg->rx_add_data = x->split;
    x->cfg->nic_sum = 1; /* when an op offers csum_tx: every sum checked */
    for (unsigned k = 0; k < x->tcp->c->n_provides; k++) {
        const struct lyra_provide *p = &x->tcp->c->provides[k];
        if (!strcmp(p->iface, LYRA_L4_IFACE) && p->attach)
            must(p->attach(x->t, &events, x) == 0, "attach");
    }
    x->ch = -1;
    x->lh = -1;
    x->last_k = -1;
    x->p_nxt = P_ISS;
}

static void print_stat(struct lyra_stats_sink *sk, const char *name, uint64_t v)
{
    (void)sk;
    if (v)
        fprintf(stderr, " %s=%llu", name, (unsigned long long)v);
}

static void down(struct h *x)
{
    if (tracing > 0) {
        struct lyra_stats_sink sk = {print_stat, NULL};
        fprintf(stderr, "-- tcp counters:");
        x->tcp->c->stats(x->t, &sk);
        fprintf(stderr, "\n");
    }
    while (x->nheld)
        lyra_skb_free(x->held[--x->nheld]);
    x->cfg->output_err = 0;
    lt_stop(x->tcp);
    uint64_t in_use = lt_stat(x->skb, "in_use");
    if (in_use) {
        fprintf(stderr, "fuzz_tcp_input: %llu skbs left out of the pool\n",
                (unsigned long long)in_use);
        must(0, "skb leak: skbs out of the pool once tcp stopped");
    }
    must(lt_stat(x->skb, "bad_free") == 0, "an skb was freed twice");
    lt_destroy(x->tcp);
    lt_destroy(x->l3);
    lt_stop(x->skb);
    must(fake_os_mem_in_use(x->fos) == 0, "os memory held once tcp and skb stopped");
    lt_destroy(x->skb);
    lt_destroy(x->os);
}

static void listen80(struct h *x)
{
    x->lh = x->l4->open(x->t);
    must(x->lh >= 0, "open");
    cookie(x, x->lh);
    must(x->l4->bind(x->t, x->lh, &(struct lyra_sockaddr4){0, LPORT}) == 0, "bind 80");
    must(x->l4->listen(x->t, x->lh, 4) == 0, "listen");
    x->lport = LPORT;
}

static void expect_state(struct h *x, int st, const char *what)
{
    if (x->ch < 0)
        return;
    int s = tcp_state(x, x->ch);
    if (s != st) {
        fprintf(stderr, "fuzz_tcp_input: setup %s: state %d, expected %d\n", what, s, st);
        must(0, "the scripted exchange did not reach its state");
    }
}

/* Reads everything the application has to read (a close with unread data
 * is an abort). */
static void drain(struct h *x)
{
    while (app_recv(x, x->ch, 65536, 0, 1, false) > 0)
        ;
}

static void setup(struct h *x, uint8_t b0)
{
    unsigned st = b0 & 15;
    bool active = b0 & 0x40;
    bool orphan = st >= 10 && st <= 14;
    static const unsigned as[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 4, 5, 7, 8, 9, 3};
    unsigned s = as[st];
    if (s == 0) {
        listen80(x);
        return;
    }
    if (s == 1 || (s >= 3 && active)) {
        x->ch = x->l4->open(x->t);
        must(x->ch >= 0, "open");
        cookie(x, x->ch);
        must(x->l4->connect(x->t, x->ch, &(struct lyra_sockaddr4){PEER, PPORT}) == -EINPROGRESS,
             "connect");
        outputs(x);
        must(x->lport && x->iss_known, "no SYN from connect");
        expect_state(x, LYRA_TCPS_SYN_SENT, "SYN_SENT");
        if (s == 1)
            return;
        advance(x, 20 * MS);
        psend(x, TCP_SYN | TCP_ACK, 0);
    } else {
        listen80(x);
        psend(x, TCP_SYN, 0);
        must(x->iss_known, "no SYN-ACK");
        if (s == 2)
            return;
        advance(x, 20 * MS);
        psend(x, TCP_ACK, 0);
        struct lyra_sockaddr4 pa;
        x->ch = x->l4->accept(x->t, x->lh, &pa);
        must(x->ch >= 0, "accept");
        cookie(x, x->ch);
    }
    expect_state(x, LYRA_TCPS_ESTABLISHED, "ESTABLISHED");
    /* data both ways: 3000 bytes from tcp (unacknowledged), 700 from the
     * peer (unread); the peer acknowledges the first 1000 */
    app_send(x, x->ch, 3000, 0);
    advance(x, 5 * MS);
    psend_ack(x, TCP_ACK | TCP_PSH, 700, x->t_iss + 1 + 1000);
    advance(x, 5 * MS);
    if (st == 15) {
        /* 300 bytes beyond a hole of 200 */
        uint32_t save = x->p_nxt;
        x->p_nxt += 200;
        psend(x, TCP_ACK, 300);
        x->p_nxt = save;
        return;
    }
    if (s == 3)
        return;
    if (s == 4 || s == 5 || s == 7 || s == 9) {
        /* our FIN after the data */
        if (orphan) {
            drain(x);
            x->l4->close(x->t, x->ch);
            x->last_k = -1;
            x->ch = -1;
            outputs(x);
        } else {
            must(x->l4->shutdown(x->t, x->ch, 1) == 0, "shutdown");
            outputs(x);
        }
        expect_state(x, LYRA_TCPS_FIN_WAIT_1, "FIN_WAIT_1");
        if (s == 4)
            return;
        advance(x, 5 * MS);
        if (s == 7) {
            /* the peer's FIN crosses ours: it acknowledges the data, not the FIN */
            psend_ack(x, TCP_ACK | TCP_FIN, 0, x->t_max - 1);
            expect_state(x, LYRA_TCPS_CLOSING, "CLOSING");
            return;
        }
        psend(x, TCP_ACK, 0); /* acknowledges all, FIN included */
        expect_state(x, LYRA_TCPS_FIN_WAIT_2, "FIN_WAIT_2");
        if (s == 5)
            return;
        advance(x, 5 * MS);
        psend(x, TCP_ACK | TCP_FIN, 0);
        expect_state(x, LYRA_TCPS_TIME_WAIT, "TIME_WAIT");
        return;
    }
    /* CLOSE_WAIT, LAST_ACK: the peer's FIN first */
    psend(x, TCP_ACK | TCP_FIN, 0);
    advance(x, 5 * MS);
    expect_state(x, LYRA_TCPS_CLOSE_WAIT, "CLOSE_WAIT");
    if (s == 6)
        return;
    if (orphan) {
        drain(x);
        x->l4->close(x->t, x->ch);
        x->last_k = -1;
        x->ch = -1;
        outputs(x);
    } else {
        must(x->l4->shutdown(x->t, x->ch, 1) == 0, "shutdown");
        outputs(x);
    }
    expect_state(x, LYRA_TCPS_LAST_ACK, "LAST_ACK");
}

/* ----- operations -------------------------------------------------------------- */

static uint16_t ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* A handle byte: 0 the connection under test (the listener when there is
 * none), 1 the listener, else a raw handle (some never valid). */
static int handle(struct h *x, uint8_t b)
{
    switch (b % 12) {
    case 0:
        return x->ch >= 0 ? x->ch : x->lh;
    case 1:
        return x->lh;
    default:
        return (int)(b % 12) - 3; /* -1 .. 8: 8 is past max_conns */
    }
}

static const uint32_t mtus[4] = {1500, 576, 68, 9000};

/* SEG's arguments at p[*pi] (see run_ops) into *s; *sel the selector
 * byte. false: cut short. */
static bool seg_args(struct h *x, const uint8_t *p, size_t n, size_t *pi, struct seg *s,
                     uint8_t *sel_out)
{
    if (n - *pi < 10)
        return false;
    uint8_t flags = p[*pi], sel = p[*pi + 1], ob = p[*pi + 8];
    int32_t so = (int16_t)ld16(p + *pi + 2), ao = (int16_t)ld16(p + *pi + 4);
    uint16_t win = ld16(p + *pi + 6);
    *pi += 9;
    if (sel & 0x40)
        so *= 256;
    if (sel & 0x80)
        ao *= 256;
    uint32_t sb[4] = {x->p_nxt, x->p_nxt, P_ISS, x->p_nxt + 0x80000000u};
    uint32_t ab[4] = {x->t_rcv, x->t_max, x->t_iss, x->t_rcv + 0x80000000u};
    *s = (struct seg){.src = PEER, .sport = (sel & 0x10) ? PPORT + 1 : PPORT,
                      .dport = x->lport ? x->lport : LPORT,
                      .seq = sb[sel & 3] + (uint32_t)so, .ack = ab[(sel >> 2) & 3] + (uint32_t)ao,
                      .flags = flags, .win = win, .bad_csum = (sel & 0x20) != 0};
    size_t need = (ob & 1 ? 2 : 0) + (ob & 2 ? 1 : 0) + (ob & 8 ? 1 : 0) +
                  ((ob >> 4) & 7) % 5 * 4 + (ob & 0x80 ? 2 : 0) + 2;
    if (n - *pi < need)
        return false;
    if (ob & 1) {
        s->opt.has |= TCP_HAS_MSS;
        s->opt.mss = ld16(p + *pi);
        *pi += 2;
    }
    if (ob & 2) {
        s->opt.has |= TCP_HAS_WS;
        s->opt.ws = p[(*pi)++];
    }
    if (ob & 4)
        s->opt.has |= TCP_HAS_SACK_PERM;
    if (ob & 8) {
        uint8_t m = p[(*pi)++];
        s->opt.has |= TCP_HAS_TS;
        s->opt.tsval = p_ts(x) - (m < 128 ? 0u : (uint32_t)(m - 127) * 100000u);
        s->opt.tsecr = m == 255 ? 0 : x->t_tsval;
    }
    unsigned ns = ((ob >> 4) & 7) % 5;
    if (ns) {
        s->opt.has |= TCP_HAS_SACK;
        s->opt.nsack = (uint8_t)ns;
        for (unsigned k = 0; k < ns; k++) {
            s->opt.sack[k].left = tcp_seq(x->t_max + (uint32_t)(int16_t)ld16(p + *pi));
            s->opt.sack[k].right = tcp_seq(x->t_max + (uint32_t)(int16_t)ld16(p + *pi + 2));
            *pi += 4;
        }
    }
    if (ob & 0x80) {
        s->urg = ld16(p + *pi);
        *pi += 2;
    }
    s->len = ld16(p + *pi) % (PAYLOAD_MAX + 1);
    *pi += 2;
    *sel_out = sel;
    return true;
}

/* Operations (opcode % 14):
 *  0 SEG  flags sel seq_off(2) ack_off(2) win(2) opts [opt args] len(2)
 *     sel: bits 0-1 seq base (0 p_nxt, 1 p_nxt and the model moves past
 *     the segment, 2 the peer's ISS, 3 p_nxt + 2^31); bits 2-3 ack base
 *     (0 what the peer received in order, 1 the highest tcp sent, 2 tcp's
 *     ISS, 3 + 2^31); bit 4 from another port (40001: a new connection,
 *     or none); bit 5 a bad checksum; bits 6, 7: seq_off, ack_off * 256.
 *     opts: bit 0 MSS (2 bytes), bit 1 WS (1), bit 2 SACK-permitted,
 *     bit 3 TS (1: 0-127 right, TSval = clock; else TSval older by
 *     (b - 127) * 100000, TSecr 0 when b == 255), bits 4-6 SACK blocks
 *     (% 5, each left_off(2) right_off(2) from the highest tcp sent),
 *     bit 7 urgent pointer (2).
 *  1 RAW  len(2) fix [len bytes]: fix bit 0 checksum right, bit 1 ports
 *     of the connection under test, bit 2 from another host
 *  2 CLOCK unit count: unit % 4 of 1 ms, 10 ms, 1 s, 60 s
 *  3 SEND h len(2)     4 RECV h len(2) fl (PEEK, TRUNC, OOB, two pieces,
 *     no buffer, WAITALL)
 *  5 SHUTDOWN h how    6 CLOSE h
 *  7 SETOPT h opt val(2) (opt % 20; 17 TCP_CONGESTION by name, 18
 *     SO_LINGER, 19 getopt)
 *  8 MISC h what: accept, poll, names, SO_ERROR, TCP_INFO, open,
 *     connect to the peer, listen, bind
 *  9 L3 c: bit 0 no route, bits 1-2 output refused (-EAGAIN, -ENOBUFS,
 *     -EHOSTUNREACH), bits 3-4 mtu, bit 5 checksum offload, bits 6-7
 *     received segments split after 20, 41 or 64 bytes
 * 10 HOLD k: take k * 2 skbs from the pool   11 RELEASE them
 * 12 ICMP type code mtu(2): an ICMP error quoting the connection's seq
 * 13 TX_READY
 * 14 RUN (opcode bytes 0xf0-0xff, which no seed used before) SEG's
 *     arguments, c, then 1 + c % 16 times len(2): a run (tx_run) of SEG's
 *     segment and 1 + c % 16 more that continue it, the k-th with payload
 *     1 + len % room (SEG's len for the first); bit 7 of c: PSH on the
 *     last; SEG's bad checksum bit unused (the card verified them) */
static void run_ops(struct h *x, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t op = p[i] >= 0xf0 ? 14 : p[i] % 14;
        i++;
        size_t left = n - i;
        switch (op) {
        case 0: {
            struct seg s;
            uint8_t sel;
            if (!seg_args(x, p, n, &i, &s, &sel))
                return;
            tx(x, &s);
            if ((sel & 3) == 1)
                x->p_nxt = s.seq + s.len + !!(s.flags & TCP_SYN) + !!(s.flags & TCP_FIN);
            break;
        }
        case 1: {
            if (left < 3)
                return;
            uint32_t len = ld16(p + i) % 1600;
            uint8_t fix = p[i + 2];
            i += 3;
            if (len > n - i)
                len = (uint32_t)(n - i);
            uint8_t b[1600];
            memcpy(b, p + i, len);
            i += len;
            uint32_t src = (fix & 4) ? PEER2 : PEER;
            if ((fix & 2) && len >= 4) {
                tcp_st16(b, PPORT);
                tcp_st16(b + 2, x->lport ? x->lport : LPORT);
            }
            if ((fix & 1) && len >= TCP_HDR_LEN)
                tcp_csum_fill(b, len, src, US);
            if (len >= TCP_HDR_LEN && tracing > 0)
                fprintf(stderr, "peer-> raw %u bytes\n", len);
            inject(x, b, len, src);
            break;
        }
        case 2: {
            if (left < 2)
                return;
            static const uint64_t unit[4] = {MS, 10 * MS, 1000 * MS, 60000 * MS};
            advance(x, unit[p[i] % 4] * p[i + 1]);
            i += 2;
            break;
        }
        case 3: {
            if (left < 3)
                return;
            int hd = handle(x, p[i]);
            app_send(x, hd, ld16(p + i + 1), (p[i] & 0x80) ? LYRA_MSG_OOB : 0);
            i += 3;
            break;
        }
        case 4: {
            if (left < 4)
                return;
            int hd = handle(x, p[i]);
            uint8_t fl = p[i + 3];
            int flags = ((fl & 1) ? LYRA_MSG_PEEK : 0) | ((fl & 2) ? LYRA_MSG_TRUNC : 0) |
                        ((fl & 4) ? LYRA_MSG_OOB : 0) | ((fl & 32) ? LYRA_MSG_WAITALL : 0);
            app_recv(x, hd, ld16(p + i + 1), flags, (fl & 8) ? 2 : 1, (fl & 16) != 0);
            i += 4;
            break;
        }
        case 5: {
            if (left < 2)
                return;
            x->l4->shutdown(x->t, handle(x, p[i]), p[i + 1] % 4);
            outputs(x);
            i += 2;
            break;
        }
        case 6: {
            if (left < 1)
                return;
            int hd = handle(x, p[i]);
            x->l4->close(x->t, hd);
            if (hd == x->last_k)
                x->last_k = -1;
            if (hd == x->ch && hd >= 0)
                x->ch = -1;
            if (hd == x->lh && hd >= 0)
                x->lh = -1;
            if (hd >= 0 && hd < MAX_CONNS) {
                x->written[hd] = 0;
                x->rd_known[hd] = false;
            }
            outputs(x);
            i += 1;
            break;
        }
        case 7: {
            if (left < 4)
                return;
            int hd = handle(x, p[i]);
            unsigned opt = p[i + 1] % 20;
            int v = (int16_t)ld16(p + i + 2);
            i += 4;
            if (opt == 17) {
                const char *nm = (v & 1) ? "newreno" : "cubic";
                x->l4->setopt_buf(x->t, hd, LYRA_TCP_CONGESTION, nm, (uint32_t)strlen(nm));
            } else if (opt == 18) {
                x->l4->setopt(x->t, hd, LYRA_SO_LINGER, v % 3 - 1);
            } else if (opt == 19) {
                int val;
                x->l4->getopt(x->t, hd, (v & 0xff) % 20, &val);
            } else {
                x->l4->setopt(x->t, hd, (int)opt, v);
            }
            outputs(x);
            break;
        }
        case 8: {
            if (left < 2)
                return;
            int hd = handle(x, p[i]);
            uint8_t w = p[i + 1];
            i += 2;
            struct lyra_sockaddr4 sa;
            switch (w % 9) {
            case 0: {
                int a = x->l4->accept(x->t, hd, &sa);
                if (a >= 0) {
                    cookie(x, a);
                    if (x->ch < 0 && sa.addr == PEER && sa.port == PPORT) {
                        x->ch = a; /* the connection under test has a handle again */
                    }
                }
                break;
            }
            case 1:
                x->l4->poll(x->t, hd);
                break;
            case 2:
                x->l4->name(x->t, hd, 0, &sa);
                x->l4->name(x->t, hd, 1, &sa);
                break;
            case 3: {
                int v;
                x->l4->getopt(x->t, hd, LYRA_SO_ERROR, &v);
                break;
            }
            case 4:
                tcp_state(x, hd);
                break;
            case 5: {
                int o = x->l4->open(x->t);
                cookie(x, o);
                if (o >= 0 && o < MAX_CONNS) {
                    x->written[o] = 0;
                    x->rd_known[o] = false;
                }
                break;
            }
            case 6:
                /* another connection toward the peer (not the one under test) */
                x->l4->connect(x->t, hd, &(struct lyra_sockaddr4){(w & 0x80) ? PEER2 : PEER,
                                                                  (uint16_t)(PPORT + 2 + (w >> 4 & 3))});
                break;
            case 7:
                x->l4->listen(x->t, hd, w >> 4);
                break;
            case 8:
                x->l4->bind(x->t, hd, &(struct lyra_sockaddr4){(w & 0x80) ? US : 0,
                                                               (uint16_t)((w & 0x40) ? LPORT : 0)});
                break;
            }
            outputs(x);
            break;
        }
        case 9: {
            if (left < 1)
                return;
            uint8_t c = p[i++];
            static const int oerr[4] = {0, -EAGAIN, -ENOBUFS, -EHOSTUNREACH};
            static const uint32_t split[4] = {0, 20, 41, 64};
            x->cfg->route_err = (c & 1) ? -ENETUNREACH : 0;
            x->cfg->output_err = oerr[(c >> 1) & 3];
            x->cfg->mtu = mtus[(c >> 3) & 3];
            x->mtu_changed |= x->cfg->mtu != 1500;
            x->cfg->csum_tx = (c & 0x20) ? LYRA_CSUM_TCP : 0;
            x->cfg->rx_split = x->split ? 0 : split[c >> 6];
            break;
        }
        case 10: {
            if (left < 1)
                return;
            unsigned k = p[i++] * 2u;
            while (k-- && x->nheld < HOLD_MAX) {
                struct lyra_skb *s = x->so->alloc(x->skb->self, 0, 16);
                if (!s)
                    break;
                x->held[x->nheld++] = s;
            }
            break;
        }
        case 11:
            while (x->nheld)
                lyra_skb_free(x->held[--x->nheld]);
            break;
        case 12: {
            if (left < 4)
                return;
            struct lyra_l3_icmp_err e = {.type = p[i], .code = p[i + 1], .src = US, .dst = PEER,
                                         .proto = 6, .mtu = ld16(p + i + 2)};
            tcp_st16(e.l4, x->lport);
            tcp_st16(e.l4 + 2, PPORT);
            tcp_st32(e.l4 + 4, x->t_rcv);
            i += 4;
            fake_l3_icmp_error(x->fl, &e);
            outputs(x);
            break;
        }
        case 13:
            fake_l3_tx_ready(x->fl);
            outputs(x);
            break;
        case 14: {
            struct seg s;
            uint8_t sel;
            uint16_t lens[RUN_MAX];
            if (!seg_args(x, p, n, &i, &s, &sel) || i >= n)
                return;
            uint8_t c = p[i++];
            unsigned m = 2 + c % 16u;
            if (n - i < 2 * (size_t)(m - 1))
                return;
            lens[0] = (uint16_t)s.len;
            for (unsigned k = 1; k < m; k++, i += 2)
                lens[k] = ld16(p + i);
            uint32_t end = tx_run(x, &s, lens, m, (c & 0x80) != 0);
            if ((sel & 3) == 1)
                x->p_nxt = end + !!(s.flags & TCP_SYN) + !!(s.flags & TCP_FIN);
            break;
        }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct h x;
    if (size < 1)
        return 0;
    if (tracing < 0) {
        const char *e = getenv("TCPF_TRACE");
        tracing = e && *e && *e != '0';
    }
    if (!app_pat[1])
        for (uint32_t k = 0; k < sizeof(app_pat); k++)
            app_pat[k] = app_byte(k);
    up(&x, data[0]);
    setup(&x, data[0]);
    if (tracing > 0)
        fprintf(stderr, "-- setup %u done: state %d\n", data[0], x.ch >= 0 ? tcp_state(&x, x.ch) : -1);
    run_ops(&x, data + 1, size - 1);
    down(&x);
    return 0;
}
