/* tcp's TCP segmentation offload (skb 2.5 gso_size, l3 2.2 gso_segs):
 * when the route offers it, new data of several segments leaves as one
 * frame of whole segments for the NIC to cut, its payload the send queue's
 * bytes in order, the checksum field seeded with the pseudo-header sum
 * without the length; without the offer, or for a retransmission, one
 * segment at a time. The fake l3 records each frame (tests/fakes). */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <string.h>

#include "fake_l3.h"
#include "lyra/netdev.h"
#include "tcp_fx.h"

#define MSS 1460u
static uint8_t pat[60000];

static uint32_t fnv(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t k = 0; k < n; k++)
        h = (h ^ p[k]) * 16777619u;
    return h;
}

/* RFC 793's pseudo header with a TCP length of 0, folded: what the NIC
 * completes per segment (written here, not taken from tcp_wire) */
static uint16_t seed_without_length(uint32_t src, uint32_t dst)
{
    uint32_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6u;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

struct seen {
    unsigned frames, tso, segs_in_tso;
    uint32_t bytes;  /* payload, in sequence order from the first */
    uint32_t max_pay; /* the largest frame's payload */
};

/* Reads the frames output since the last call, checking each: contiguous
 * sequence numbers from *next, payload equal to pat at its offset, and
 * for a TSO frame whole MSS segments, at most gso_segs of them, headers
 * alone in the linear part, the NIC to sum with the right seed. */
static void read_frames(struct fx *f, uint32_t *next, unsigned gso_segs, struct seen *sn)
{
    for (; fake_l3_out(f->fl, f->rd); f->rd++) {
        const struct fake_l3_out *o = fake_l3_out(f->fl, f->rd);
        uint32_t hlen = (uint32_t)(o->b[12] >> 4) * 4;
        uint32_t pay = o->total - hlen, seq = tcp_ld32(o->b + 4);
        if (!pay)
            continue; /* a pure ACK */
        cr_assert_eq(seq, *next, "frame %u starts at %u, expected %u", f->rd, seq, *next);
        uint32_t off = seq - (f->t_iss + 1);
        cr_assert_leq(off + pay, sizeof(pat));
        sn->frames++;
        if (pay > sn->max_pay)
            sn->max_pay = pay;
        if (o->gso_size) {
            sn->tso++;
            sn->segs_in_tso += pay / MSS;
            cr_assert_eq(o->gso_size, MSS, "segments of one MSS");
            cr_assert_eq(pay % MSS, 0, "whole segments only (%u B)", pay);
            cr_assert(pay / MSS >= 2 && pay / MSS <= gso_segs, "%u segments", pay / MSS);
            cr_assert_eq(o->lin, hlen, "the linear part is the header alone");
            cr_assert_leq(o->nseg, gso_segs);
            cr_assert(o->skb_flags & LYRA_SKB_F_CSUM_TX, "the NIC sums");
            cr_assert_eq(o->csum_at, 0);
            uint16_t field = (uint16_t)(o->b[o->csum_off] << 8 | o->b[o->csum_off + 1]);
            cr_assert_eq(field, seed_without_length(o->src, o->dst), "seed %04x", field);
            cr_assert(o->df, "DF (RFC 1191)");
        } else {
            cr_assert_leq(pay, MSS);
        }
        cr_assert_eq(o->tail_fnv, fnv(pat + off, pay), "payload of frame %u (offset %u)", f->rd,
                     off);
        *next += pay;
        sn->bytes += pay;
    }
}

static void up_with_tso(struct fx *f, unsigned gso_segs)
{
    fx_up(f, NULL);
    fx_active(f);
    /* from here on (the fixture checks whole checksums, so the handshake
     * goes without offload) */
    f->cfg->csum_tx = LYRA_CSUM_TCP;
    f->cfg->gso_segs = (uint8_t)gso_segs;
    fx_pattern(pat, sizeof(pat), 0);
    /* one byte first, acknowledged: tcp learns the route's offer from the
     * segments it sends (the handshake's went before the offer) */
    cr_assert_eq(fx_write(f, f->h, pat, 1), 1);
    fx_run(f);
    fx_ack_to(f, f->t_iss + 2);
    fx_run(f);
    fake_l3_clear(f->fl);
    f->rd = 0;
}

/* Writes 20000 bytes, pat[1..]: the byte up_with_tso sent first is
 * pat[0]. Reads and checks the frames they left in (read_frames); returns
 * the sequence number after them. */
static uint32_t first_frames(struct fx *f, unsigned gso_segs, struct seen *sn)
{
    cr_assert_eq(fx_write(f, f->h, pat + 1, 20000), 20000);
    fx_run(f);
    uint32_t next = f->t_iss + 2;
    *sn = (struct seen){0};
    read_frames(f, &next, gso_segs, sn);
    return next;
}

Test(tcp_tso, new_data_leaves_in_frames_of_whole_segments)
{
    struct fx f;
    up_with_tso(&f, 4);
    struct seen sn;
    uint32_t next = first_frames(&f, 4, &sn);
    cr_assert_eq(sn.frames, 1, "the initial window's three segments in one frame");
    cr_assert_eq(sn.max_pay, 3 * MSS);
    /* acknowledged, the rest follows the same way, and all of it arrives */
    for (int round = 0; round < 20 && next != f.t_iss + 2 + 20000; round++) {
        fx_ack_to(&f, next);
        fx_run(&f);
        read_frames(&f, &next, 4, &sn);
    }
    cr_assert_eq(next, f.t_iss + 2 + 20000, "every byte sent once, in order");
    cr_assert_eq(sn.max_pay, 4 * MSS, "up to gso_segs segments in one frame");
    cr_assert_lt(sn.frames, sn.bytes / MSS, "fewer frames than segments (%u for %u B)",
                 sn.frames, sn.bytes);
    fx_down(&f);
}

/* A write is queued as one skb (TSO: tcp_sndq.c) that holds the copy's
 * chained 2 KB buffers, more pieces than a small gso_segs allows: each
 * frame still shows at most gso_segs pieces (read_frames), cut shorter
 * when they do not hold its segments, and every byte arrives once, in
 * order (ip refuses a frame of more pieces). */
Test(tcp_tso, a_frame_shows_at_most_gso_segs_pieces_of_a_write_queued_whole)
{
    struct fx f;
    up_with_tso(&f, 2);
    struct seen sn;
    uint32_t next = first_frames(&f, 2, &sn);
    for (int round = 0; round < 40 && next != f.t_iss + 2 + 20000; round++) {
        fx_ack_to(&f, next);
        fx_run(&f);
        read_frames(&f, &next, 2, &sn);
    }
    cr_assert_eq(next, f.t_iss + 2 + 20000, "every byte sent once, in order");
    cr_assert_gt(sn.tso, 0, "TSO frames went");
    fx_down(&f);
}

Test(tcp_tso, one_segment_at_a_time_without_the_offer)
{
    struct fx f;
    up_with_tso(&f, 0);
    struct seen sn;
    (void)first_frames(&f, 0, &sn);
    cr_assert_gt(sn.frames, 1);
    cr_assert_eq(sn.tso, 0);
    cr_assert_eq(sn.max_pay, MSS);
    fx_down(&f);
}

Test(tcp_tso, a_retransmission_is_one_segment)
{
    struct fx f;
    up_with_tso(&f, 8);
    struct seen sn;
    (void)first_frames(&f, 8, &sn);
    cr_assert_geq(sn.tso, 1);
    /* nothing acknowledged: the timer resends the first segment alone */
    bool resent = false;
    for (int t = 0; t < 5000 && !resent; t++) {
        fx_ms(&f, 1);
        for (; fake_l3_out(f.fl, f.rd); f.rd++) {
            const struct fake_l3_out *o = fake_l3_out(f.fl, f.rd);
            uint32_t hlen = (uint32_t)(o->b[12] >> 4) * 4;
            if (o->total == hlen)
                continue;
            cr_assert_eq(tcp_ld32(o->b + 4), f.t_iss + 2, "the first unacknowledged byte");
            cr_assert_eq(o->gso_size, 0, "not a TSO frame");
            cr_assert_eq(o->total - hlen, MSS);
            cr_assert_eq(o->tail_fnv, fnv(pat + 1, MSS));
            resent = true;
        }
    }
    cr_assert(resent, "the RTO resent");
    fx_down(&f);
}

Test(tcp_tso, the_peer_window_bounds_a_frame)
{
    struct fx f;
    up_with_tso(&f, 8);
    /* two segments and a bit, below the congestion window (three
     * segments, one byte more after the first ACK): the window binds */
    fx_ack_win(&f, f.t_iss + 2, 2 * MSS + 100);
    fake_l3_clear(f.fl);
    f.rd = 0;
    struct seen sn;
    (void)first_frames(&f, 8, &sn);
    cr_assert_eq(sn.tso, 1);
    cr_assert_eq(sn.max_pay, 2 * MSS, "two whole segments, the 100 B waiting");
    cr_assert_eq(sn.bytes, 2 * MSS, "sender SWS avoidance keeps the 100 B");
    fx_down(&f);
}
