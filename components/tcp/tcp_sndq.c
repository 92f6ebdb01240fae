/* The send queue: the application's bytes from snd_una on, as payload
 * skbs (skb->cb[0]: the sequence number of the first byte). A segment is a
 * clone of (part of) one of them, or a TSO frame of a run of them, with
 * its own header buffer: the payload is never copied again for a
 * transmission or a retransmission (issue 10: a referencing buffer manager
 * fills these skbs with the application's memory, skb_zc's job).
 *
 * Where TSO frames show runs of skbs or the provider references payload,
 * one skb holds up to a write's worth of whole segments (sndq_cap: the
 * most whole segments within 64 KB; the sndq_skb_max parameter), not one
 * segment: every skb costs an allocation, a provider call, a descriptor in
 * each frame that shows it and a free, so an 8 KB write as one skb
 * instead of six cuts both stacks' instructions a segment by 3.6% on
 * copy-dma and 20% on zc-dma with MSG_ZEROCOPY (bench/results/ipb.md and
 * zc.md, 2026-12-07). A segment sent alone ends at its skb, so the unsent
 * tail of the last skb grows to a whole number of segments before another
 * skb starts (Nagle's coalescing). cb[1] holds the skb's SACK scoreboard
 * marks (tcp_sack.c), which are per segment only while an skb holds at
 * most one: when loss recovery needs them, tcp_sndq_fine cuts longer
 * skbs into one-segment pieces (clones showing part of the original;
 * neither grows again). A clean path never pays for that. */
#include "tcp_priv.h"

static uint32_t seq_of(const struct lyra_skb *s)
{
    return (uint32_t)s->cb[0];
}

/* cb[2] of a send-queue skb: a piece tcp_sndq_fine cut off (its
 * descriptors show its original's bytes), and the original cut; neither
 * grows again (a trimmed skb's room behind its bytes holds what its pieces
 * show) */
#define SNDQ_PIECE 1u
#define SNDQ_CUT 2u

/* The most one skb holds: whole segments, within the scoreboard's 16-bit
 * offsets into an skb (tcp_sack.c) and a TSO frame (64 KB). */
static uint32_t sndq_cap(uint32_t mss)
{
    uint32_t n = mss ? 65535u / mss : 0;
    return n ? n * mss : 65535u;
}

uint32_t tcp_sndq_space(struct tcp *u, int i)
{
    const struct tcp_ep *e = &u->ep[i];
    return e->snd_bytes >= e->sndbuf ? 0 : e->sndbuf - e->snd_bytes;
}

/* add_data's flags: the bytes are the application's; and unless the NIC
 * sums our segments, the provider sums them in the copy (skb 2.2), so the
 * checksum of a segment never reads its payload again (issue 11.4). */
static uint32_t add_flags(struct tcp *u, int i)
{
    /* TSO on the route as of the last segment sent (emit): the NIC sums
     * TCP too, without a route lookup per write. Should the route have
     * changed since, emit sums in software what has no kept sum. */
    if (u->cb[i].gso_segs)
        return LYRA_SEG_F_USER;
    struct lyra_l3_route rt;
    memset(&rt, 0, sizeof(rt));
    if (!u->l3->route(u->l3_self, u->cb[i].raddr, &rt) && (rt.csum_tx & LYRA_CSUM_TCP))
        return LYRA_SEG_F_USER;
    return LYRA_SEG_F_USER | LYRA_SEG_F_CSUM;
}

/* After add_data put took bytes of a MSG_ZEROCOPY call (record zr) in s:
 * s holds zr until done when some were referenced (lyra/l4_zc.h). */
static void zc_note(struct lyra_zc_rec *zr, struct lyra_skb *s, int took, uint32_t copied)
{
    if (!zr || took <= 0)
        return;
    if (copied)
        zr->copied = 1;
    if ((uint32_t)took > copied)
        lyra_zc_attach(zr, s); /* s holds no other record: checked before adding */
}

/* Takes up to len bytes (what the send buffer and the pool allow): the
 * count, or -EAGAIN when none could be taken. zr: a MSG_ZEROCOPY call's
 * record (the provider may reference the bytes unprotected until the
 * skbs' `done`, LYRA_SEG_F_REF); NULL: an ordinary send. */
long tcp_sndq_append(struct tcp *u, int i, const uint8_t *buf, uint32_t len,
                     struct lyra_zc_rec *zr)
{
    struct tcp_cb *c = &u->cb[i];
    struct tcp_ep *e = &u->ep[i];
    uint32_t room = tcp_sndq_space(u, i);
    if (len > room)
        len = room;
    uint32_t mss = c->mss;
    uint32_t done = 0;
    uint32_t fl = add_flags(u, i) | (zr ? LYRA_SEG_F_REF : 0);
    /* a MSG_ZEROCOPY call's bytes checked readable once here, not once per
     * segment by the provider (skb 2.4); where the check fails the provider
     * checks each piece, and what came before the bad part is still sent */
    const struct lyra_os_ops *o = u->os.ops;
    if (zr && len && LYRA_OS_HAS(o, 2, mem_check) && !o->mem_check(u->os.self, buf, len))
        fl |= LYRA_SEG_F_CHECKED;
    /* sndq_skb_max, or by default skbs of many segments where an skb saved
     * is worth more than the pieces a segment then crosses: a TSO frame
     * shows a run of them, or the provider references the bytes (pkt_alloc:
     * a zero-copy one) or is asked to (MSG_ZEROCOPY). A copying provider's
     * buffers hold one segment each otherwise, one piece a segment
     * (copy-pio: 0.5% more instructions as whole writes). Payload summed in
     * the copy (no NIC sums it): one segment an skb, so that segments cut
     * no piece and no sum is taken again (11.4). */
    uint32_t cap = mss, want = u->cfg.sndq_skb_max;
    if (!(fl & LYRA_SEG_F_CSUM)) {
        /* (and the provider shows part of an skb: before skb 2.8 each
         * segment would drag every other piece of it along, empty) */
        if (!want && LYRA_SKB_HAS(u->skb, 8, clone_add_range) &&
            (c->gso_segs > 1 || zr || LYRA_SKB_HAS(u->skb, 3, pkt_alloc)))
            want = 65535u;
        if (want > mss) {
            cap = want / mss * mss; /* whole segments, within what one skb may hold */
            if (cap > sndq_cap(mss))
                cap = sndq_cap(mss);
        }
    }
    /* the tail's unsent bytes grow to whole segments first: a segment
     * sent alone ends at its skb (flags: the bytes are the application's:
     * a referencing provider may keep them) */
    struct lyra_skb *t = e->sndq.tail;
    /* an skb holds one record at most: a call joins one holding another
     * only when it references nothing (Linux starts a new skb too) */
    bool may_join = !zr || !t || !t->done || lyra_zc_of(t) == zr;
    /* (not a piece or a cut skb, whose room holds what pieces show; not
     * one with scoreboard marks, which new bytes would inherit) */
    if (t && len && may_join && !t->cb[2] && !t->cb[1]) {
        tcp_seq_t st = tcp_seq(seq_of(t)), end = tcp_seq_add(st, lyra_skb_total(t));
        int32_t unsent = tcp_seq_diff(end, tcp_seq_max(st, c->snd_max));
        uint32_t k = unsent > 0 ? (mss - (uint32_t)unsent % mss) % mss : 0;
        if (lyra_skb_total(t) + k > cap)
            k = 0; /* within one skb's most (one segment, or 64 KB) */
        if (k > len)
            k = len;
        uint32_t copied = 0;
        int took = k ? u->skb->add_data(u->skb_self, t, buf, k, fl, &copied) : 0;
        if (took == -EFAULT)
            return -EFAULT; /* memory a referencing provider cannot read (skb 2.3) */
        if (took > 0) {
            done += (uint32_t)took;
            u->copy_bytes += copied;
            zc_note(zr, t, took, copied);
            e->sndq_coarse |= lyra_skb_total(t) > mss;
        }
    }
    while (done < len) {
        uint32_t k = len - done < cap ? len - done : cap;
        /* a linear part of one segment at most: a bigger one could take
         * one of the provider's few big buffers (skb_copy big_count) */
        uint32_t lin = k < mss ? k : mss;
        if (lin > lyra_skb_max_alloc(u->skb, u->skb_self, 0))
            lin = 0;
        struct lyra_skb *s = u->skb->alloc(u->skb_self, 0, lin);
        if (!s) {
            u->st.tx_nobuf++;
            break;
        }
        uint32_t copied = 0;
        int took = u->skb->add_data(u->skb_self, s, buf + done, k, fl, &copied);
        if (took == -EMSGSIZE && cap > mss) {
            /* more than the provider could chain behind one skb (a small
             * pool): a segment's worth at a time, for the rest of the call */
            lyra_skb_free(s);
            cap = mss;
            continue;
        }
        if (took <= 0) {
            lyra_skb_free(s);
            if (took == -EFAULT) {
                if (!done)
                    return -EFAULT; /* as Linux: what was taken before it counts */
                break;
            }
            u->st.tx_nobuf++;
            break;
        }
        u->copy_bytes += copied;
        zc_note(zr, s, took, copied);
        s->cb[0] = tcp_seq_add(c->snd_una, e->snd_bytes + done).v;
        s->cb[2] = 0;
        tcp_sack_init_skb(s);
        lyra_skbq_push(&e->sndq, s);
        e->sndq_coarse |= (uint32_t)took > mss;
        done += (uint32_t)took;
        if ((uint32_t)took < k)
            break;
    }
    e->snd_bytes += done;
    return done ? (long)done : -EAGAIN;
}

void tcp_sndq_acked(struct tcp *u, int i, tcp_seq_t una)
{
    struct tcp_ep *e = &u->ep[i];
    struct tcp_cb *c = &u->cb[i];
    /* bytes of data acknowledged (una may also cover our SYN or FIN) */
    tcp_seq_t data_end = tcp_sndq_end(u, i);
    tcp_seq_t upto = tcp_seq_min(una, data_end);
    int32_t acked = tcp_seq_diff(upto, c->snd_una);
    if (acked <= 0)
        return;
    e->snd_bytes -= (uint32_t)acked;
    struct lyra_skb *s;
    while ((s = e->sndq.head)) {
        tcp_seq_t end = tcp_seq_add(tcp_seq(seq_of(s)), lyra_skb_total(s));
        if (tcp_seq_gt(end, upto))
            break;
        if (s == e->snd_hint)
            e->snd_hint = NULL;
        lyra_skb_free(lyra_skbq_pop(&e->sndq)); /* clones in flight keep the bytes */
    }
}

uint32_t tcp_q_bufs(const struct lyra_skb *s)
{
    uint32_t n = 1;
    const struct lyra_skb_seg *g;
    LYRA_SKB_FOR_EACH_SEG(s, g)
        n += g->ref != NULL;
    return n;
}

uint32_t tcp_sndq_bufs(const struct tcp_ep *e)
{
    /* a piece holds its original (its first descriptor's reference), which
     * stays after its own bytes were acknowledged and it left the queue:
     * each original counted once (its pieces and it are neighbours) */
    uint32_t n = 0;
    const struct lyra_skb *orig = NULL;
    for (const struct lyra_skb *s = e->sndq.head; s; s = s->next) {
        const struct lyra_skb *o = s;
        if (s->cb[2] & SNDQ_PIECE) {
            n++; /* the piece's own header buffer */
            o = s->seg ? s->seg->ref : NULL;
        }
        if (o && o != orig)
            n += tcp_q_bufs(o);
        orig = o ? o : orig;
    }
    return n;
}

void tcp_sndq_purge(struct tcp *u, int i)
{
    u->ep[i].snd_hint = NULL;
    u->ep[i].sndq_coarse = 0;
    lyra_skbq_purge(&u->ep[i].sndq);
}

/* A new skb with hr bytes of headroom showing [off, off + n) of s (one
 * instance of the inline helper, for the two callers). */
static struct lyra_skb *show_range(struct tcp *u, struct lyra_skb *s, uint32_t hr, uint32_t off,
                                   uint32_t n)
{
    return lyra_skb_clone_range(u->skb, u->skb_self, s, hr, off, n);
}

/* s's first n bytes leave its view (its buffer keeps them: pieces may show
 * them), with their scoreboard marks; s never grows again. */
static void skip_front(struct lyra_skb *s, uint32_t n)
{
    lyra_skb_advance(s, n);
    s->cb[0] = tcp_seq_add(tcp_seq(seq_of(s)), n).v;
    tcp_sack_advance(s, n);
    s->cb[2] = SNDQ_CUT;
}

/* Cuts the first n bytes of s off as a piece: a clone of s showing them,
 * queued in front of s (after prev, NULL: at the head) with their
 * scoreboard marks; s goes on from there. */
static struct lyra_skb *cut_front(struct tcp *u, struct tcp_ep *e, struct lyra_skb *prev,
                                  struct lyra_skb *s, uint32_t n)
{
    struct lyra_skb *p = show_range(u, s, 0, 0, n);
    if (!p)
        return NULL;
    p->cb[0] = s->cb[0];
    tcp_sack_piece(s, p, n);
    p->cb[2] = SNDQ_PIECE;
    p->next = s;
    if (prev)
        prev->next = p;
    else
        e->sndq.head = p;
    e->sndq.len++;
    skip_front(s, n);
    return p;
}

void tcp_sndq_fine(struct tcp *u, int i)
{
    struct tcp_ep *e = &u->ep[i];
    if (!e->sndq_coarse)
        return;
    const struct tcp_cb *c = &u->cb[i];
    uint32_t mss = c->mss;
    bool coarse = false;
    struct lyra_skb *prev = NULL;
    for (struct lyra_skb *s = e->sndq.head; s; prev = s, s = s->next) {
        /* a piece is never cut again (after a smaller path MTU): its own
         * pieces would hold it, not the original (bufs_held) */
        if (s->cb[2] & SNDQ_PIECE)
            continue;
        if (!tcp_seq_lt(tcp_seq(seq_of(s)), c->snd_max)) {
            coarse |= lyra_skb_total(s) > mss;
            continue; /* nothing sent: no marks yet, cut when it is */
        }
        /* acknowledged bytes in front (a head acknowledged in part) leave
         * its view: no piece for them */
        int32_t a = tcp_seq_diff(c->snd_una, tcp_seq(seq_of(s)));
        if (a > 0 && (uint32_t)a < lyra_skb_total(s))
            skip_front(s, (uint32_t)a);
        /* front to back over what was sent (SND.UNA's segment first), the
         * unsent rest left whole; a buffer left for the retransmission
         * this is for: without one the rest stays coarse, tried again at
         * the next mark (sndq_split_fail) */
        while (lyra_skb_total(s) > mss && tcp_seq_lt(tcp_seq(seq_of(s)), c->snd_max)) {
            struct lyra_skb *p = NULL;
            if (lyra_skb_tx_avail(u->skb, u->skb_self, LYRA_SKB_DATA, 0) > 1)
                p = cut_front(u, e, prev, s, mss);
            if (!p) {
                u->st.sndq_split_fail++;
                break;
            }
            u->st.sndq_splits++;
            prev = p;
        }
        coarse |= lyra_skb_total(s) > mss;
    }
    e->sndq_coarse = coarse;
}

/* How much of [off, off + n) of s shows through at most max pieces (its
 * linear part and segments: a descriptor each), at least the first's. */
static uint32_t fit_pieces(const struct lyra_skb *s, uint32_t off, uint32_t n, uint32_t max)
{
    uint32_t at = 0, end = off + n, k = 0;
    const struct lyra_skb_seg *g = NULL;
    for (uint32_t len = s->len;; len = g->len) {
        if (len && at < end && at + len > off && ++k > max && at > off)
            return at - off; /* up to this piece */
        at += len;
        g = g ? g->next : s->seg;
        if (!g)
            return n;
    }
}

/* tcp_sndq_clone, its frame in at most max pieces. */
static struct lyra_skb *clone_at(struct tcp *u, int i, tcp_seq_t seq, uint32_t *len,
                                 struct lyra_skb **from, uint32_t max)
{
    struct tcp_ep *e = &u->ep[i];
    /* the queue is in sequence order: a search may start at any skb at or
     * before seq; the last one used is usually it (a walk from the head
     * costs a step per skb in flight, per segment) */
    struct lyra_skb *s = e->snd_hint;
    if (!s || tcp_seq_lt(seq, tcp_seq(seq_of(s))))
        s = e->sndq.head;
    for (; s; s = s->next) {
        tcp_seq_t start = tcp_seq(seq_of(s));
        uint32_t total = lyra_skb_total(s);
        tcp_seq_t end = tcp_seq_add(start, total);
        if (!tcp_seq_lt(seq, end))
            continue;
        if (tcp_seq_lt(seq, start))
            return NULL;
        uint32_t off = (uint32_t)tcp_seq_diff(seq, start);
        uint32_t n = total - off;
        if (n > *len)
            n = *len;
        if (max < UINT32_MAX)
            n = fit_pieces(s, off, n, max);
        uint32_t hr = u->l3->headroom(u->l3_self) + TCP_HDR_MAX;
        struct lyra_skb *cl = show_range(u, s, hr, off, n);
        if (!cl)
            return NULL;
        *len = n;
        if (from)
            *from = s;
        e->snd_hint = s;
        return cl;
    }
    return NULL;
}

struct lyra_skb *tcp_sndq_clone(struct tcp *u, int i, tcp_seq_t seq, uint32_t *len,
                                struct lyra_skb **from)
{
    return clone_at(u, i, seq, len, from, UINT32_MAX);
}

struct lyra_skb *tcp_sndq_clone_run(struct tcp *u, int i, tcp_seq_t seq, uint32_t *len,
                                    uint32_t max_segs)
{
    uint32_t want = *len;
    struct lyra_skb *from = NULL;
    /* the first skb in at most max_segs pieces too: one skb of a write
     * queued whole may hold more (a copy's chained buffers) */
    struct lyra_skb *cl = clone_at(u, i, seq, len, &from, max_segs ? max_segs : 1);
    if (!cl)
        return NULL;
    /* the skbs after the first, the last of them in part: each adds a
     * descriptor per piece it shows (skb_segs_show_range: none for an
     * empty linear part, a zero-copy payload skb's) */
    struct lyra_skb *s;
    for (s = from->next; s && *len < want; s = s->next) {
        uint32_t n = lyra_skb_total(s);
        uint32_t k = n < want - *len ? n : want - *len;
        if (!n || cl->nseg + (s->len != 0) + s->nseg > max_segs ||
            lyra_skb_clone_add_range(u->skb, u->skb_self, cl, s, 0, k))
            break;
        *len += k;
        u->ep[i].snd_hint = s;
        if (k < n)
            break;
    }
    return cl;
}
