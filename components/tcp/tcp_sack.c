/* The sender's SACK scoreboard and RFC 6675 loss recovery.
 *
 * The scoreboard lives with the send queue, not in the control block: each
 * payload skb there (at most one MSS, cb[0] its first seq) carries its own
 * marks in cb[1]:
 *   bits 0-15 and 16-31: one SACKed sub-range [lo, hi) as offsets into the
 *     skb (lo == hi: none; 0 and its length: all of it);
 *   SB_RTX: sent again since recovery (or the RTO) began;
 *   SB_LOST: IsLost() held for it at the last scan (RFC 6675 4);
 *   SB_GONE: sent before the last RTO and not SACKed then: counted lost
 *     (as Linux's tcp_enter_loss), so that going back from SND.UNA pipe is
 *     what was sent again since, and SACKed data is skipped.
 * An skb SACKed in part keeps one sub-range rather than being split: a split
 * takes an skb from the pool just when loss makes buffers scarce, and a
 * segment is SACKed in part only when it went out cut short (by the window
 * or by options). A second disjoint sub-range in one skb (rarer still) keeps
 * the larger of the two: a forgotten SACK costs a needless retransmission,
 * never the stream. What RFC 6675 keeps per connection (HighRxt, RescueRxt,
 * pipe, SACKed and lost bytes) is struct tcp_sb, in the endpoint next to the
 * send queue; RecoveryPoint is cc.recover, HighACK snd_una, HighData
 * snd_max. Every walk is over the send queue, once per ACK or output pass;
 * nothing is allocated. */
#include "tcp_priv.h"

#define SB_RANGE 0xffffffffull
#define SB_RTX (1ull << 32)
#define SB_LOST (1ull << 33)
#define SB_GONE (1ull << 34)
#define DUPTHRESH 3u /* RFC 6675 2 (RFC 5681) */

static tcp_seq_t st_of(const struct lyra_skb *s)
{
    return tcp_seq((uint32_t)s->cb[0]);
}

static tcp_seq_t end_of(const struct lyra_skb *s)
{
    return tcp_seq_add(st_of(s), lyra_skb_total(s));
}

static uint32_t lo_of(const struct lyra_skb *s)
{
    return (uint32_t)s->cb[1] & 0xffffu;
}

static uint32_t hi_of(const struct lyra_skb *s)
{
    return (uint32_t)(s->cb[1] >> 16) & 0xffffu;
}

static void set_range(struct lyra_skb *s, uint32_t lo, uint32_t hi)
{
    s->cb[1] = (s->cb[1] & ~SB_RANGE) | lo | (uint64_t)hi << 16;
}

/* Offset of una in s (0 when s starts at or after it). */
static uint32_t acked_of(const struct lyra_skb *s, tcp_seq_t una)
{
    int32_t a = tcp_seq_diff(una, st_of(s));
    return a > 0 ? (uint32_t)a : 0;
}

/* SACKed bytes of s at or after una. */
static uint32_t sacked_of(const struct lyra_skb *s, tcp_seq_t una)
{
    uint32_t lo = lo_of(s), hi = hi_of(s), a = acked_of(s, una);
    if (a > lo)
        lo = a;
    return hi > lo ? hi - lo : 0;
}

void tcp_sack_init_skb(struct lyra_skb *s)
{
    s->cb[1] = 0;
}

void tcp_sack_piece(const struct lyra_skb *s, struct lyra_skb *p, uint32_t n)
{
    uint32_t lo = lo_of(s), hi = hi_of(s);
    if (hi > n)
        hi = n;
    p->cb[1] = s->cb[1] & ~SB_RANGE; /* RTX, LOST, GONE: the piece was sent with s */
    if (hi > lo)
        set_range(p, lo, hi);
}

void tcp_sack_advance(struct lyra_skb *s, uint32_t n)
{
    uint32_t lo = lo_of(s), hi = hi_of(s);
    lo = lo > n ? lo - n : 0;
    hi = hi > n ? hi - n : 0;
    set_range(s, hi > lo ? lo : 0, hi > lo ? hi : 0);
}

void tcp_sack_reset(struct tcp *u, int i)
{
    memset(&u->ep[i].sb, 0, sizeof(u->ep[i].sb));
}

/* ----- Update(): SACK blocks into the scoreboard (RFC 6675 4, RFC 2018) ---------------- */

/* Adds [a, z) (offsets) to s's SACKed sub-range: the bytes newly SACKed. */
static uint32_t merge(struct lyra_skb *s, uint32_t a, uint32_t z)
{
    uint32_t lo = lo_of(s), hi = hi_of(s);
    if (hi <= lo) {
        set_range(s, a, z);
        return z - a;
    }
    if (z < lo || a > hi) {
        /* disjoint: one sub-range per skb, the larger stays (see the top) */
        if (z - a <= hi - lo)
            return 0;
        set_range(s, a, z);
        return (z - a) - (hi - lo);
    }
    uint32_t nlo = a < lo ? a : lo, nhi = z > hi ? z : hi;
    set_range(s, nlo, nhi);
    return (nhi - nlo) - (hi - lo);
}

unsigned tcp_sack_input(struct tcp *u, int i, const struct tcp_repr *r)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    const struct tcp_hdr_opts *o = &r->opt;
    if (!(o->has & TCP_HAS_SACK))
        return 0;
    u->st.sack_blocks_rcvd += o->nsack;
    if (!(c->flags & CB_SACK)) {
        u->st.sack_blocks_bad += o->nsack; /* RFC 2018 2: not without SACK-permitted */
        return 0;
    }
    tcp_seq_t una = c->snd_una, dend = tcp_sndq_end(u, i);
    struct tcp_sack_block b[TCP_SACK_MAX];
    unsigned n = 0;
    for (unsigned k = 0; k < o->nsack; k++) {
        tcp_seq_t l = o->sack[k].left, rt = o->sack[k].right;
        if (!tcp_seq_lt(l, rt) || tcp_seq_gt(rt, c->snd_max)) {
            u->st.sack_blocks_bad++; /* empty, reversed or beyond SND.MAX: bogus */
            continue;
        }
        /* RFC 2883 4: a first block below the cumulative ACK, or inside
         * the second, reports a duplicate: no new SACK information */
        if (k == 0 && (tcp_seq_lt(l, r->ack) ||
                       (o->nsack > 1 && tcp_seq_ge(l, o->sack[1].left) &&
                        tcp_seq_le(rt, o->sack[1].right)))) {
            u->st.dsack_rcvd++;
            continue;
        }
        if (tcp_seq_le(rt, una) || tcp_seq_lt(l, r->ack)) {
            u->st.sack_blocks_bad++; /* RFC 2018 3: SACKs only what is above the ACK */
            continue;
        }
        /* an old ACK's block may reach below SND.UNA; a FIN's byte is no
         * data in the queue */
        l = tcp_seq_max(l, una);
        rt = tcp_seq_min(rt, dend);
        if (!tcp_seq_lt(l, rt))
            continue;
        unsigned p = n++; /* by left edge: one walk marks them all */
        while (p && tcp_seq_lt(l, b[p - 1].left)) {
            b[p] = b[p - 1];
            p--;
        }
        b[p].left = l;
        b[p].right = rt;
    }
    if (n)
        tcp_sndq_fine(u, i); /* marks per segment (tcp_sndq.c) */
    uint32_t fresh = 0;
    unsigned j = 0;
    for (struct lyra_skb *s = e->sndq.head; s && j < n; s = s->next) {
        tcp_seq_t st = st_of(s), en = end_of(s);
        while (j < n && tcp_seq_le(b[j].right, st))
            j++;
        for (unsigned k = j; k < n && tcp_seq_lt(b[k].left, en); k++) {
            if (tcp_seq_le(b[k].right, st))
                continue;
            uint32_t a = (uint32_t)tcp_seq_diff(tcp_seq_max(b[k].left, st), st);
            uint32_t z = (uint32_t)tcp_seq_diff(tcp_seq_min(b[k].right, en), st);
            fresh += merge(s, a, z);
        }
    }
    if (fresh)
        e->sb.marks = 1;
    return fresh;
}

/* ----- SetPipe() and IsLost() (RFC 6675 4) --------------------------------------------- */

void tcp_sack_scan(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    struct tcp_sb *sb = &e->sb;
    uint32_t flight = tcp_flight(c);
    if (!sb->marks) {
        sb->sacked_bytes = sb->lost_bytes = sb->rtx_bytes = 0;
        sb->sacked_segs = 0;
        sb->pipe = flight;
        return;
    }
    tcp_seq_t una = c->snd_una;
    uint32_t tb = 0, ts = 0;
    bool any = false;
    for (struct lyra_skb *s = e->sndq.head; s; s = s->next) {
        uint32_t k = sacked_of(s, una);
        if (k) {
            tb += k;
            ts++;
            sb->high_sacked = tcp_seq_add(st_of(s), hi_of(s));
        }
        any |= k || (s->cb[1] & (SB_RTX | SB_GONE));
    }
    /* IsLost(S): DupThresh SACKed segments above S, or more than
     * (DupThresh - 1) * SMSS SACKed bytes above it; lost segments are then
     * a prefix of the unSACKed ones */
    uint32_t pb = 0, ps = 0, lost = 0, rtx = 0, big = (DUPTHRESH - 1) * c->mss;
    for (struct lyra_skb *s = e->sndq.head; s; s = s->next) {
        uint32_t live = lyra_skb_total(s) - acked_of(s, una);
        uint32_t k = sacked_of(s, una);
        pb += k;
        ps += k ? 1 : 0;
        uint32_t left = live - k;
        bool is_lost =
            left && ((s->cb[1] & SB_GONE) || ts - ps >= DUPTHRESH || tb - pb > big);
        s->cb[1] = is_lost ? s->cb[1] | SB_LOST : s->cb[1] & ~SB_LOST;
        if (is_lost)
            lost += left;
        if (s->cb[1] & SB_RTX)
            rtx += left;
    }
    sb->sacked_bytes = tb;
    sb->sacked_segs = (uint16_t)(ts > UINT16_MAX ? UINT16_MAX : ts);
    sb->lost_bytes = lost;
    sb->rtx_bytes = rtx;
    /* each unSACKed byte: 1 unless lost, 1 more if sent again */
    uint32_t out = tb + lost < flight ? flight - tb - lost : 0;
    sb->pipe = out + rtx;
    sb->marks = any;
}

bool tcp_sack_head_lost(struct tcp *u, int i)
{
    const struct lyra_skb *s = u->ep[i].sndq.head;
    return s && (s->cb[1] & SB_LOST);
}

/* ----- sending: what NextSeg() returns ------------------------------------------------ */

/* The first run of unSACKed bytes of s at or after `from`: false if none. */
static bool unsacked_run(const struct lyra_skb *s, tcp_seq_t from, tcp_seq_t *seq, uint32_t *len)
{
    tcp_seq_t st = st_of(s);
    uint32_t total = lyra_skb_total(s);
    int32_t f = tcp_seq_diff(from, st);
    uint32_t off = f > 0 ? (uint32_t)f : 0;
    if (off >= total)
        return false;
    uint32_t lo = lo_of(s), hi = hi_of(s), stop = total;
    if (hi > lo) {
        if (off >= lo && off < hi)
            off = hi;
        else if (off < lo)
            stop = lo;
    }
    if (off >= stop)
        return false;
    *seq = tcp_seq_add(st, off);
    *len = stop - off;
    return true;
}

/* The unSACKed run that starts at SND.UNA: false if the head is SACKed
 * there (reneged) or the queue is empty. */
static bool una_run(struct tcp *u, int i, tcp_seq_t *seq, uint32_t *len)
{
    const struct lyra_skb *h = u->ep[i].sndq.head;
    tcp_seq_t una = u->cb[i].snd_una;
    return h && unsacked_run(h, una, seq, len) && tcp_seq_eq(*seq, una);
}

void tcp_sack_sent_again(struct tcp *u, int i, struct lyra_skb *s)
{
    s->cb[1] |= SB_RTX;
    u->ep[i].sb.marks = 1;
}

/* Sends [seq, seq+len) again, with the FIN when it ends the data and the
 * FIN was sent: the sequence space it took (0: nothing went). */
static uint32_t resend(struct tcp *u, int i, tcp_seq_t seq, uint32_t len)
{
    struct tcp_cb *c = &u->cb[i];
    tcp_seq_t dend = tcp_sndq_end(u, i);
    bool fin = (c->flags & CB_FIN_SENT) && tcp_seq_eq(tcp_seq_add(seq, len), dend);
    if (len > c->mss)
        len = c->mss;
    int n = tcp_xmit_data(u, i, seq, len, fin, true);
    if (n > 0 && tcp_seq_eq(seq, c->snd_una)) {
        /* the first unacknowledged segment again: its timer starts anew (as
         * Linux's tcp_xmit_retransmit_queue), or a timer started a round trip
         * before the loss showed runs out before the retransmission can be
         * acknowledged, whenever the RTO is near the RTT */
        tcp_timer_set(u, i, TCP_T_RTX, c->rto.rto / 1000);
        struct tcp_sb *sb = &u->ep[i].sb;
        sb->rtx_una = seq;
        sb->rtx_fence = c->snd_max;
        sb->rtx_fence_set = 1;
    }
    return n > 0 ? (uint32_t)n : 0;
}

/* A lost retransmission, which RFC 6675 leaves to the timer: the segment
 * at SND.UNA was sent again (resend) and is still not acknowledged, while
 * DupThresh segments' worth of data sent after it has been SACKed. Sent
 * again at once (as Linux's tcp_mark_lost_retrans did before RACK, with
 * DupThresh for its reordering degree). Under 5% loss one recovery in
 * twenty loses its retransmission; without this each cost an RTO, and 3 s
 * when the handshake gave no RTT sample (RFC 6298 5.7). */
static uint32_t lost_again(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_sb *sb = &u->ep[i].sb;
    if (!sb->rtx_fence_set || !tcp_seq_eq(sb->rtx_una, c->snd_una) || !sb->sacked_segs ||
        tcp_seq_diff(sb->high_sacked, sb->rtx_fence) < (int32_t)(DUPTHRESH * c->mss))
        return 0;
    tcp_seq_t seq;
    uint32_t len;
    if (!una_run(u, i, &seq, &len))
        return 0;
    sb->rtx_fence_set = 0; /* resend sets it again, at today's SND.MAX */
    uint32_t n = resend(u, i, seq, len);
    u->st.sack_lost_rtx += n != 0;
    return n;
}

/* NextSeg() rules 1 and 3 from *cur on: the first unSACKed run above
 * HighRxt and below the highest SACKed byte, only if lost for rule 1. The
 * cursor stays where the search stopped (lost runs are a prefix of the
 * unSACKed ones, so rule 3 goes on from where rule 1 gave up). */
static uint32_t rule_1_3(struct tcp *u, int i, struct lyra_skb **cur, bool lost_only)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_sb *sb = &u->ep[i].sb;
    if (!sb->sacked_segs)
        return 0;
    tcp_seq_t from = tcp_seq_max(sb->high_rxt, c->snd_una);
    for (; *cur; *cur = (*cur)->next) {
        struct lyra_skb *s = *cur;
        tcp_seq_t seq;
        uint32_t len;
        if (!unsacked_run(s, from, &seq, &len))
            continue;
        if (!tcp_seq_lt(seq, sb->high_sacked))
            return 0; /* (1.b), (3.b) */
        if (lost_only && !(s->cb[1] & SB_LOST))
            return 0; /* (1.c) */
        uint32_t n = resend(u, i, seq, len);
        if (n)
            sb->high_rxt = tcp_seq_add(seq, n > len ? len : n); /* (C.2) */
        return n;
    }
    return 0;
}

/* NextSeg() rule 4: the rescue retransmission, once per recovery: up to
 * SMSS ending with the highest unSACKed byte sent (or the FIN alone, when
 * the data's end is SACKed and the FIN is out); HighRxt stays. */
static uint32_t rescue(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    struct tcp_sb *sb = &e->sb;
    if (sb->rescue_set && !tcp_seq_gt(c->snd_una, sb->rescue_rxt))
        return 0;
    tcp_seq_t dend = tcp_sndq_end(u, i);
    bool fin = (c->flags & CB_FIN_SENT) && tcp_seq_gt(c->snd_max, dend);
    tcp_seq_t top = tcp_seq_min(c->snd_max, dend); /* the end of the data sent */
    tcp_seq_t from = top;
    if (sb->sacked_segs && !tcp_seq_lt(sb->high_sacked, top)) {
        if (!fin)
            return 0; /* the highest byte is SACKed: rule 3 had the rest */
    } else {
        /* within the skb holding the last byte (a segment ends at its
         * skb), above what is SACKed, within SMSS */
        for (const struct lyra_skb *s = e->sndq.head; s; s = s->next)
            if (tcp_seq_lt(st_of(s), top))
                from = st_of(s);
            else
                break;
        from = tcp_seq_max(from, c->snd_una);
        if (sb->sacked_segs)
            from = tcp_seq_max(from, sb->high_sacked);
        if ((uint32_t)tcp_seq_diff(top, from) > c->mss)
            from = tcp_seq(top.v - c->mss);
    }
    uint32_t len = (uint32_t)tcp_seq_diff(top, from);
    int n = tcp_xmit_data(u, i, from, len, fin, true);
    if (n <= 0)
        return 0;
    sb->rescue_rxt = tcp_seq(c->cc.recover); /* RescueRxt = RecoveryPoint */
    sb->rescue_set = 1;
    u->st.sack_rescue_rtx++;
    return (uint32_t)n;
}

void tcp_sack_enter_recovery(struct tcp *u, int i, uint32_t flight)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    struct tcp_sb *sb = &e->sb;
    /* (4.1), (4.2): RecoveryPoint = HighData, ssthresh = cwnd = the
     * algorithm's reduction */
    tcp_cc_enter_recovery(&c->cc, c->snd_max.v, flight, tcp_ms(u));
    tcp_sndq_fine(u, i); /* RTX marks per segment (tcp_sndq.c) */
    u->st.sack_recoveries++;
    u->st.fast_retransmits++;
    for (struct lyra_skb *s = e->sndq.head; s; s = s->next)
        s->cb[1] &= ~SB_RTX;
    /* (4.3): the segment at HighACK again; HighRxt and RescueRxt at its end */
    sb->high_rxt = c->snd_una;
    sb->rescue_set = 0;
    struct lyra_skb *h = e->sndq.head;
    tcp_seq_t seq;
    uint32_t len = c->mss, n;
    if (!una_run(u, i, &seq, &len)) {
        seq = c->snd_una; /* SACKed at SND.UNA: reneged; the head goes whole */
        len = h ? lyra_skb_total(h) - acked_of(h, c->snd_una) : 0;
    }
    n = resend(u, i, seq, len);
    uint32_t data = n > len ? len : n;
    sb->high_rxt = tcp_seq_add(c->snd_una, data);
    sb->rescue_rxt = tcp_seq_add(sb->high_rxt, UINT32_MAX);
    sb->rescue_set = 1;
}

void tcp_sack_output(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    struct tcp_sb *sb = &e->sb;
    tcp_sack_scan(u, i); /* (B.2) */
    uint32_t pipe = sb->pipe, smss = c->mss;
    struct lyra_skb *cur = e->sndq.head;
    bool r0 = true, r1 = true, r2 = true, r3 = true;
    /* (C): while cwnd - pipe >= 1 SMSS, NextSeg() and send it (C.4: pipe
     * grows by what went); before its rule 1, a lost retransmission of
     * the segment at HighACK */
    while (c->cc.cwnd > pipe && c->cc.cwnd - pipe >= smss) {
        uint32_t n = 0;
        if (r0 && !(n = lost_again(u, i)))
            r0 = false;
        if (!n && r1 && !(n = rule_1_3(u, i, &cur, true)))
            r1 = false;
        if (!n && r2 && !(n = tcp_output_data(u, i, c->cc.cwnd - pipe, true)))
            r2 = false;
        if (!n && r3 && !(n = rule_1_3(u, i, &cur, false)))
            r3 = false;
        if (!n && !(n = rescue(u, i)))
            break;
        pipe += n;
    }
    sb->pipe = pipe;
}

uint32_t tcp_sack_cwnd_room(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    tcp_sack_scan(u, i);
    uint32_t pipe = u->ep[i].sb.pipe;
    return c->cc.cwnd > pipe ? c->cc.cwnd - pipe : 0;
}

tcp_seq_t tcp_sack_skip(struct tcp *u, int i, tcp_seq_t seq, uint32_t *run)
{
    *run = UINT32_MAX;
    if (!(u->cb[i].flags & CB_SACK) || !u->ep[i].sb.marks)
        return seq;
    for (const struct lyra_skb *s = u->ep[i].sndq.head; s; s = s->next) {
        if (!tcp_seq_lt(seq, end_of(s)))
            continue;
        tcp_seq_t at;
        uint32_t len;
        if (unsacked_run(s, seq, &at, &len)) {
            *run = len;
            return at;
        }
        seq = end_of(s); /* SACKed to its end: on to the next */
    }
    return seq;
}

void tcp_sack_rto(struct tcp *u, int i)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    struct tcp_sb *sb = &e->sb;
    /* RFC 6675 5.1: the scoreboard is kept across the timeout, so that what
     * was SACKed is not sent again; but a SACKed byte at SND.UNA means the
     * receiver dropped what it had SACKed (RFC 2018 8, reneging): then
     * nothing SACKed before counts */
    tcp_sndq_fine(u, i); /* GONE marks per segment (tcp_sndq.c) */
    struct lyra_skb *h = e->sndq.head;
    bool reneged = h && sacked_of(h, c->snd_una) &&
                   lo_of(h) <= acked_of(h, c->snd_una);
    if (reneged)
        u->st.sack_reneging++;
    for (struct lyra_skb *s = e->sndq.head; s; s = s->next) {
        if (reneged)
            set_range(s, 0, 0);
        s->cb[1] &= ~(SB_RTX | SB_LOST);
        if (tcp_seq_lt(st_of(s), c->snd_max))
            s->cb[1] |= SB_GONE;
    }
    sb->marks = 1;
    sb->high_rxt = c->snd_una;
    sb->rescue_set = 0;
    sb->rtx_fence_set = 0; /* the timer's go-back-N: nothing to find lost */
    tcp_sack_scan(u, i);
}
