/* tcp state machine, black box: moving data (RFC 9293 3.8, 3.10.7.4).
 * Receiving in order and out of order, acknowledgments (delayed, every
 * second full segment, at once for out-of-order data), reassembly, sending
 * in MSS-sized segments, Nagle and TCP_NODELAY, the send buffer's limit.
 * Fixture: tcp_fx.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tcp_fx.h"

static uint8_t pat[70000];

static void init_pat(void)
{
    fx_pattern(pat, sizeof(pat), 0);
}

/* The peer sends n pattern bytes from stream offset off (relative to its
 * first data byte), as one segment at p_iss + 1 + off. */
static void peer_data_at(struct fx *f, uint32_t off, uint32_t n)
{
    fx_send_sa(f, TCP_ACK, f->p_iss + 1 + off, f->p_rcv, pat + off, n);
}

/* RFC 9293 3.10.7.4 (seventh: segment text is delivered to the user):
 * in-order data reaches recv unchanged. */
Test(tcp_data, in_order_data_delivered)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, pat, 1000);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_IN);
    cr_assert(f.ready_what[h + 1] & LYRA_POLL_IN, "no IN event");
    uint8_t b[2000];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 1000);
    cr_assert_eq(memcmp(b, pat, 1000), 0);
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), -EAGAIN);
    fx_drain(&f);
    fx_down(&f);
}

/* Counters skbs_held and bufs_held: the skbs the connections' queues hold
 * now, and the provider's buffers they hold (what a leak check at stop
 * must not count as leaked): unread data, unacknowledged data and data
 * beyond a hole; none once read and acknowledged. bufs_held is all the
 * provider has out while nothing else holds a buffer, whether a queued
 * skb holds one or several (a write queued whole and copied). */
Test(tcp_data, skbs_held_counts_what_the_queues_hold)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    cr_assert_eq(lt_stat(f.tcp, "skbs_held"), 0);
    fx_send(&f, TCP_ACK | TCP_PSH, pat, 1000); /* unread */
    peer_data_at(&f, 2000, 100);               /* beyond a hole */
    cr_assert_eq(fx_write(&f, h, pat, 500), 500); /* unacknowledged */
    cr_assert_eq(lt_stat(f.tcp, "skbs_held"), 3);
    cr_assert_eq(lt_stat(f.tcp, "bufs_held"), fx_skb_in_use(&f));
    cr_assert_eq(fx_write(&f, h, pat, 5000), 5000); /* one skb or four, and what they chain */
    cr_assert_eq(lt_stat(f.tcp, "bufs_held"), fx_skb_in_use(&f));
    uint8_t b[2000];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 1000);
    fx_drain(&f); /* the peer has our 5500 bytes */
    fx_ack(&f);
    fx_drain(&f);
    fx_ack(&f);
    fx_drain(&f);
    fx_ack(&f);
    cr_assert_eq(lt_stat(f.tcp, "skbs_held"), 1, "the out-of-order skb is still held");
    cr_assert_eq(lt_stat(f.tcp, "bufs_held"), fx_skb_in_use(&f));
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (seventh: RCV.NXT advances over the data and the ACK
 * carries it): the acknowledgment is SEG.SEQ + SEG.LEN. */
Test(tcp_data, ack_number_covers_received_data)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    fx_passive(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, pat, 123);
    struct fx_seg s;
    fx_wait(&f, 500, &s);
    cr_assert_eq(s.flags & ~TCP_PSH, TCP_ACK);
    cr_assert_eq(s.ack, f.p_iss + 1 + 123);
    cr_assert_eq(s.seq, f.t_iss + 1);
    fx_down(&f);
}

/* RFC 9293 3.8.6.3 (delayed ACK, MUST-40: no more than 0.5 s; the issue:
 * at most delack_ms): one small segment is not acknowledged at once, and is
 * by delack_ms (40). */
Test(tcp_data, delayed_ack_within_delack_ms)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    fx_passive(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, pat, 10);
    fx_expect_none(&f);
    struct fx_seg s;
    uint64_t t = fx_wait(&f, 40, &s);
    cr_assert_geq(t, 1);
    cr_assert_eq(s.ack, f.p_iss + 11);
    fx_down(&f);
}

/* delack_ms sets the delayed-ACK timer (RFC 9293 3.8.6.3; 1..200 ms). */
Test(tcp_data, delack_ms_param_sets_ack_delay)
{
    init_pat();
    struct fx f;
    fx_up(&f, FX_P("delack_ms=150"));
    fx_passive(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, pat, 10);
    struct fx_seg s;
    uint64_t t = fx_wait(&f, 150, &s);
    cr_assert_geq(t, 100, "ACK after %llu ms with delack_ms=150", (unsigned long long)t);
    cr_assert_eq(s.ack, f.p_iss + 11);
    fx_down(&f);
}

/* RFC 9293 3.8.6.3 (SHLD-19: an ACK for at least every second full-sized
 * segment), RFC 5681 4.2: two full segments are acknowledged at once. */
Test(tcp_data, ack_every_second_full_segment)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    fx_passive(&f);
    uint32_t mss = f.t_mss;
    cr_assert_gt(mss, 0);
    fx_send(&f, TCP_ACK, pat, mss);
    fx_expect_none(&f);
    fx_send(&f, TCP_ACK, pat + mss, mss);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 2 * mss);
    fx_down(&f);
}

/* After a hole is filled the sender is rebuilding its ACK clock: the next
 * TCP_QUICK_ACKS (16) in-order segments are acknowledged one by one, and
 * so is a read that opens the window; then every second segment again. */
Test(tcp_data, after_a_hole_segments_acked_one_by_one_for_a_while)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    uint32_t mss = f.t_mss;
    peer_data_at(&f, mss, mss);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    peer_data_at(&f, 0, mss); /* fills the hole */
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 2 * mss);
    uint32_t off = 2 * mss;
    static uint8_t b[70000];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), (long)(2 * mss));
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + off); /* the read's update */
    for (int k = 0; k < 16; k++, off += mss) {
        peer_data_at(&f, off, mss);
        fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + off + mss);
    }
    peer_data_at(&f, off, mss);
    fx_expect_none(&f); /* quick mode over: delayed */
    cr_assert_gt(fx_read(&f, h, b, sizeof(b)), 0);
    fx_expect_none(&f); /* and a read of a roomy window is not answered */
    peer_data_at(&f, off + mss, mss);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + off + 2 * mss);
    fx_down(&f);
}

/* A segment of data tcp already has means the peer lost our ACK and
 * resent: quick-ACK mode as after a hole (tcp_priv.h TCP_QUICK_ACKS), so
 * the next in-order segment is acknowledged at once, not delayed. (Found
 * in review: the duplicate was refused before the code that set it.) */
Test(tcp_data, a_duplicate_segment_starts_quick_acks)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    fx_passive(&f);
    uint32_t mss = f.t_mss;
    peer_data_at(&f, 0, mss);
    peer_data_at(&f, mss, mss);
    fx_drain(&f);
    peer_data_at(&f, 0, mss); /* the duplicate: answered at once */
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 2 * mss);
    peer_data_at(&f, 2 * mss, mss);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 3 * mss);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (MUST-59: process all queued segments before sending
 * an ACK): six full segments in one receive batch (one poll step's
 * frames) get one ACK, after the last, not one per two segments. */
Test(tcp_data, one_ack_for_a_batch_of_segments)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    uint32_t mss = f.t_mss;
    fx_batch_begin(&f);
    for (uint32_t k = 0; k < 6; k++)
        fx_send(&f, TCP_ACK, pat + k * mss, mss);
    fx_batch_end(&f);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 6 * mss);
    fx_expect_none(&f);
    uint8_t b[8 * 1460];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), (long)(6 * mss));
    cr_assert_eq(memcmp(b, pat, 6 * mss), 0);
    fx_down(&f);
}

/* Header prediction's segments of one batch wake the reader once, at the
 * batch's end with its ACK, not once per segment (tcp_batch.c). */
Test(tcp_data, predicted_batch_tells_the_reader_once)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    uint32_t mss = f.t_mss;
    fx_send(&f, TCP_ACK, pat, mss); /* the connection's first data (its ACK delayed) */
    uint64_t pred = lt_stat(f.tcp, "rx_predicted");
    f.nready = 0;
    f.ready_what[h + 1] = 0;
    fx_batch_begin(&f);
    for (uint32_t k = 1; k <= 6; k++)
        fx_send(&f, TCP_ACK, pat + k * mss, mss);
    fx_batch_end(&f);
    cr_assert_eq(lt_stat(f.tcp, "rx_predicted") - pred, 6, "not header prediction's path");
    cr_assert_eq(f.nready, 1, "%u ready events for one batch", f.nready);
    cr_assert(f.ready_what[h + 1] & LYRA_POLL_IN, "no IN event");
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 7 * mss);
    uint8_t b[8 * 1460];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), (long)(7 * mss));
    cr_assert_eq(memcmp(b, pat, 7 * mss), 0);
    fx_down(&f);
}

/* MUST-59 with RFC 5681 4.2: in a batch, each segment beyond a hole still
 * gets its duplicate ACK at once (the sender counts them for its fast
 * retransmit), and old duplicates in a batch get one ACK between them. */
Test(tcp_data, out_of_order_in_a_batch_each_acked_duplicates_once)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    fx_passive(&f);
    fx_batch_begin(&f);
    peer_data_at(&f, 100, 100);
    peer_data_at(&f, 200, 100);
    peer_data_at(&f, 300, 100);
    fx_batch_end(&f);
    for (int k = 0; k < 3; k++)
        fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    fx_expect_none(&f);
    peer_data_at(&f, 0, 100); /* fills the hole: all 400 acknowledged */
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 400);
    fx_batch_begin(&f);
    for (int k = 0; k < 3; k++)
        peer_data_at(&f, 0, 100); /* the peer lost our ACK: three copies */
    fx_batch_end(&f);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 400);
    fx_expect_none(&f);
    fx_down(&f);
}

/* RFC 5681 4.2 (SHOULD: an immediate duplicate ACK for an out-of-order
 * segment), RFC 9293 3.10.7.4: the ACK names RCV.NXT, the hole's start. */
Test(tcp_data, out_of_order_segment_acked_at_once)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    peer_data_at(&f, 100, 100);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    uint8_t b[300];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), -EAGAIN, "data past a hole delivered");
    fx_down(&f);
}

/* RFC 5681 4.2: a FIN beyond a hole is an out-of-order segment too, if
 * without data: a duplicate ACK at once naming the hole, and the FIN held
 * until the hole fills. (Found in review: it went unanswered.) */
Test(tcp_data, bare_fin_beyond_a_hole_acked_at_once)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    fx_send_sa(&f, TCP_ACK | TCP_FIN, f.p_iss + 1 + 100, f.p_rcv, NULL, 0);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    peer_data_at(&f, 0, 100); /* fills the hole: the held FIN is taken */
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 101);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSE_WAIT);
    fx_down(&f);
}

/* RFC 5681 4.2 (an immediate ACK when a segment fills a gap) and RFC 9293
 * 3.10.7.4 (queued segments delivered once in order): the hole's data
 * brings everything up to the end of the queued range. */
Test(tcp_data, filling_hole_acked_at_once_and_reassembled)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    peer_data_at(&f, 100, 100);
    fx_drain(&f);
    peer_data_at(&f, 0, 100);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 200);
    uint8_t b[300];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 200);
    cr_assert_eq(memcmp(b, pat, 200), 0);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (SHLD-31: queue out-of-order segments): three segments
 * arriving last, first, middle are delivered in order, byte exact. */
Test(tcp_data, reassembly_of_reordered_segments)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    peer_data_at(&f, 2000, 1000);
    peer_data_at(&f, 0, 1000);
    peer_data_at(&f, 1000, 1000);
    uint8_t b[4000];
    long n = 0, r;
    while ((r = fx_read(&f, h, b + n, sizeof(b) - (size_t)n)) > 0)
        n += r;
    cr_assert_eq(n, 3000);
    cr_assert_eq(memcmp(b, pat, 3000), 0);
    struct fx_seg s, last = {0};
    while (fx_next(&f, &s))
        last = s;
    cr_assert_eq(last.ack, f.p_iss + 3001);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (overlapping segments: only new data is used), RFC
 * 9293 3.4: a segment overlapping queued out-of-order data and one
 * overlapping delivered data both contribute only their new bytes. */
Test(tcp_data, overlapping_segments_trimmed)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    peer_data_at(&f, 0, 500);
    peer_data_at(&f, 300, 500);  /* overlaps delivered data */
    peer_data_at(&f, 1000, 400); /* out of order */
    peer_data_at(&f, 700, 500);  /* fills the hole and overlaps both sides */
    uint8_t b[2000];
    long n = 0, r;
    while ((r = fx_read(&f, h, b + n, sizeof(b) - (size_t)n)) > 0)
        n += r;
    cr_assert_eq(n, 1400);
    cr_assert_eq(memcmp(b, pat, 1400), 0);
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (first check: a segment wholly before RCV.NXT is not
 * acceptable: send an ACK, drop it): a retransmitted segment is ACKed at
 * once and not delivered twice. */
Test(tcp_data, duplicate_segment_acked_not_redelivered)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    peer_data_at(&f, 0, 100);
    fx_wait(&f, 200, NULL);
    peer_data_at(&f, 0, 100);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 101);
    uint8_t b[300];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 100);
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), -EAGAIN);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (fifth, ESTABLISHED: SEG.ACK > SND.NXT acknowledges
 * something not yet sent: send an ACK, drop the segment). */
Test(tcp_data, ack_of_unsent_data_answered_and_dropped)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    fx_send_sa(&f, TCP_ACK, f.p_nxt, f.t_iss + 1 + 500, pat, 10);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    uint8_t b[30];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), -EAGAIN, "data of a dropped segment delivered");
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (fifth: a duplicate ACK, SEG.ACK < SND.UNA, "can be
 * ignored", and processing goes on): data carrying an old ACK is delivered. */
Test(tcp_data, data_with_old_ack_delivered)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    cr_assert_eq(fx_write(&f, h, "abc", 3), 3);
    fx_drain(&f);
    fx_ack(&f); /* SND.UNA = ISS + 4 */
    fx_send_sa(&f, TCP_ACK | TCP_PSH, f.p_nxt, f.t_iss + 1, pat, 10);
    uint8_t b[30];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 10);
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 9293 3.8.6.3 / RFC 1122 4.2.2.13: an ACK carrying nothing is never
 * acknowledged (no ACK for an ACK). */
Test(tcp_data, pure_ack_not_answered)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_passive(&f);
    fx_ack(&f);
    fx_ack(&f);
    fx_ms(&f, 500);
    fx_expect_none(&f);
    fx_down(&f);
}

/* RFC 9293 3.8.6.2.1, 3.7.1 (segments no larger than the peer's MSS): a
 * large write leaves as full segments in sequence, byte exact. */
Test(tcp_data, large_write_sent_in_mss_segments)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_write(&f, h, pat, 4000), 4000);
    struct fx_seg s;
    uint32_t got = 0, expect_seq = f.t_iss + 1;
    uint8_t b[4000];
    for (int rounds = 0; got < 4000 && rounds < 10; rounds++) {
        while (fx_next(&f, &s)) {
            cr_assert_eq(s.seq, expect_seq);
            cr_assert_leq(s.len, 1460);
            if (got + s.len < 4000)
                cr_assert_eq(s.len, 1460, "a short segment in the middle of a bulk write");
            memcpy(b + got, s.data, s.len);
            got += s.len;
            expect_seq += s.len;
        }
        fx_ack(&f);
    }
    cr_assert_eq(got, 4000);
    cr_assert_eq(memcmp(b, pat, 4000), 0);
    fx_down(&f);
}

/* RFC 9293 3.8.6 (SND.WND: nothing beyond SND.UNA + SND.WND is sent) and
 * 3.8.6.2.1 (sender SWS: a window of at least half the largest one seen is
 * used, at the latest when the override timeout, 0.1-1 s, runs out): the
 * peer offers 1000 bytes and acknowledges what arrives every 10 ms; no
 * segment ever ends beyond the window, and a 3000-byte write is all sent
 * within 2 s. */
Test(tcp_data, send_limited_to_peer_window)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    f.p_win = 1000;
    int h = fx_active(&f);
    cr_assert_eq(fx_write(&f, h, pat, 3000), 3000);
    uint32_t acked = f.t_iss + 1;
    struct fx_seg s;
    for (int t = 0; t < 2000 && f.p_rcv != f.t_iss + 3001; t += 10) {
        while (fx_next(&f, &s))
            cr_assert(tcp_seq_le(tcp_seq(s.seq + s.len), tcp_seq(acked + 1000)),
                      "a segment [%u, %u) beyond the window's end %u", s.seq, s.seq + s.len,
                      acked + 1000);
        if (f.p_rcv != acked) {
            acked = f.p_rcv;
            fx_ack(&f);
        }
        fx_ms(&f, 10);
    }
    cr_assert_eq(f.p_rcv - (f.t_iss + 1), 3000,
                 "%u of 3000 bytes sent in 2 s through a 1000-byte window",
                 f.p_rcv - (f.t_iss + 1));
    fx_down(&f);
}

/* RFC 9293 3.7.4 (Nagle, SHLD-7): while a small segment is unacknowledged,
 * another small write is held; the ACK releases it. */
Test(tcp_data, nagle_holds_small_write_until_ack)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    struct fx_seg s;
    cr_assert_eq(fx_write(&f, h, "aaaa", 4), 4);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, FX_ANY);
    cr_assert_eq(s.len, 4);
    cr_assert_eq(fx_write(&f, h, "bbbb", 4), 4);
    fx_expect_none(&f);
    fx_ms(&f, 10);
    fx_expect_none(&f);
    fx_ack(&f);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 5, FX_ANY);
    cr_assert_eq(s.len, 4);
    cr_assert_eq(memcmp(s.data, "bbbb", 4), 0);
    fx_down(&f);
}

/* RFC 9293 3.7.4 (MUST-17: an application can turn Nagle off), TCP_NODELAY:
 * the second small write leaves at once. */
Test(tcp_data, nodelay_sends_small_writes_at_once)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_NODELAY, 1), 0);
    cr_assert_eq(fx_getopt(&f, h, LYRA_TCP_NODELAY), 1);
    struct fx_seg s;
    cr_assert_eq(fx_write(&f, h, "aaaa", 4), 4);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, FX_ANY);
    cr_assert_eq(fx_write(&f, h, "bbbb", 4), 4);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 5, FX_ANY);
    cr_assert_eq(s.len, 4);
    fx_down(&f);
}

/* RFC 9293 3.7.4 (Nagle delays only less than a full segment): with a small
 * segment outstanding, a full segment's worth is still sent. */
Test(tcp_data, nagle_sends_full_segment_with_data_outstanding)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    struct fx_seg s;
    cr_assert_eq(fx_write(&f, h, "a", 1), 1);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, FX_ANY);
    cr_assert_eq(fx_write(&f, h, pat, 1460), 1460);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 2, FX_ANY);
    cr_assert_eq(s.len, 1460);
    fx_down(&f);
}

/* snd_buf (issue 10: bounded send buffers), l4 send: -EAGAIN when the
 * buffer is full, not writable, writable again once the peer acknowledges. */
Test(tcp_data, send_buffer_full_eagain_until_acked)
{
    init_pat();
    struct fx f;
    fx_up(&f, FX_P("snd_buf=8192"));
    int h = fx_active(&f);
    long n = fx_write(&f, h, pat, 20000);
    cr_assert_gt(n, 0);
    cr_assert_leq(n, 8192, "took %ld bytes with an 8 KB send buffer", n);
    cr_assert_eq(fx_write(&f, h, pat, 100), -EAGAIN);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_OUT, 0);
    fx_drain(&f);
    f.ready_what[h + 1] = 0;
    fx_ack(&f);
    fx_drain(&f);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_OUT, "not writable once the peer acknowledged");
    cr_assert(f.ready_what[h + 1] & LYRA_POLL_OUT, "no OUT event once room came back");
    cr_assert_gt(fx_write(&f, h, pat, 100), 0);
    fx_drain(&f);
    fx_down(&f);
}

/* SO_SNDBUF (l4 1.2) sets the same limit per endpoint. */
Test(tcp_data, so_sndbuf_limits_send)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_SO_SNDBUF, 4096), 0);
    long n = fx_write(&f, h, pat, 20000);
    cr_assert_gt(n, 0);
    cr_assert_leq(n, 4096 * 2, "took %ld bytes with SO_SNDBUF 4096", n);
    long m = fx_write(&f, h, pat, 20000);
    cr_assert_eq(m, -EAGAIN);
    fx_drain(&f);
    fx_down(&f);
}

/* l4: recv with nothing queued is -EAGAIN (non-blocking). */
Test(tcp_data, recv_with_nothing_queued_eagain)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    char b[8];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), -EAGAIN);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_IN, 0);
    fx_down(&f);
}

/* RFC 9293 3.10.2 (SEND in CLOSED/LISTEN: "connection does not exist"),
 * l4: -ENOTCONN. */
Test(tcp_data, send_unconnected_enotconn)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_open(&f);
    cr_assert_eq(fx_write(&f, h, "x", 1), -ENOTCONN);
    char b[4];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), -ENOTCONN);
    fx_down(&f);
}

/* l4 (LYRA_MSG_PEEK): peeking leaves the data queued. */
Test(tcp_data, recv_peek_leaves_data)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, pat, 50);
    uint8_t b[100];
    cr_assert_eq(fx_read_flags(&f, h, b, sizeof(b), LYRA_MSG_PEEK), 50);
    cr_assert_eq(fx_read(&f, h, b, 20), 20);
    cr_assert_eq(memcmp(b, pat, 20), 0);
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 30);
    cr_assert_eq(memcmp(b, pat + 20, 30), 0);
    fx_drain(&f);
    fx_down(&f);
}

/* l4 recv scatters a stream over several iovecs in order. */
Test(tcp_data, recv_fills_iovecs_in_order)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, pat, 300);
    uint8_t a[100], b[500];
    struct lyra_iov iov[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
    cr_assert_eq(f.l4->recv(f.t, h, iov, 2, NULL, NULL, 0), 300);
    cr_assert_eq(memcmp(a, pat, 100), 0);
    cr_assert_eq(memcmp(b, pat + 100, 200), 0);
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 9293 3.10.7.4 (fifth: SND.UNA < SEG.ACK =< SND.NXT: SND.UNA moves,
 * acknowledged data leaves the retransmission queue): after a cumulative
 * ACK nothing acknowledged is sent again, even after long. */
Test(tcp_data, acknowledged_data_not_retransmitted)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_write(&f, h, pat, 2000), 2000);
    while (f.p_rcv != f.t_iss + 2001) {
        cr_assert_gt(fx_drain(&f), 0);
        fx_ack(&f);
    }
    fx_drain(&f);
    cr_assert_eq(fx_wait_maybe(&f, 10000, NULL), UINT64_MAX, "something sent with all acked");
    struct lyra_tcp_info ti;
    fx_info(&f, h, &ti);
    cr_assert_eq(ti.unacked, 0);
    cr_assert_eq(ti.bytes_acked, 2000);
    fx_down(&f);
}

/* RFC 9293 3.8 end to end: 64 KB each way over one connection, the peer
 * acknowledging as it goes, byte exact. */
Test(tcp_data, bulk_transfer_both_directions_byte_exact)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    const uint32_t total = 65536;
    /* tcp -> peer */
    static uint8_t got[65536];
    uint32_t sent = 0, rcvd = 0;
    for (int guard = 0; rcvd < total && guard < 2000; guard++) {
        if (sent < total) {
            long n = fx_write(&f, h, pat + sent, total - sent);
            if (n > 0)
                sent += (uint32_t)n;
            else
                cr_assert_eq(n, -EAGAIN);
        }
        struct fx_seg s;
        while (fx_next(&f, &s)) {
            uint32_t off = s.seq - (f.t_iss + 1);
            if (s.len && off + s.len <= total)
                memcpy(got + off, s.data, s.len);
        }
        rcvd = f.p_rcv - (f.t_iss + 1);
        fx_ack(&f);
        fx_ms(&f, 1);
    }
    cr_assert_eq(rcvd, total);
    cr_assert_eq(memcmp(got, pat, total), 0);
    /* peer -> tcp */
    static uint8_t in[65536];
    uint32_t pos = 0, read = 0;
    for (int guard = 0; read < total && guard < 2000; guard++) {
        uint32_t room = (uint32_t)(f.p_nxt - (f.p_iss + 1) - read);
        while (pos < total && room + 1460 <= 32768) {
            uint32_t k = total - pos < 1460 ? total - pos : 1460;
            fx_send(&f, TCP_ACK, pat + pos, k);
            pos += k;
            room += k;
        }
        long n = fx_read(&f, h, in + read, total - read);
        if (n > 0)
            read += (uint32_t)n;
        fx_drain(&f);
        fx_ms(&f, 1);
    }
    cr_assert_eq(read, total);
    cr_assert_eq(memcmp(in, pat, total), 0);
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 9293 3.8.6.3 / RFC 1122 4.2.3.2 (the point of delaying an ACK: it
 * rides on data): a reply written before delack_ms runs out carries the
 * ACK, and no separate pure ACK follows. */
Test(tcp_data, ack_piggybacked_on_reply)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, pat, 10);
    fx_expect_none(&f);
    cr_assert_eq(fx_write(&f, h, "reply", 5), 5);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 11);
    cr_assert_eq(s.len, 5);
    fx_ms(&f, 200);
    fx_expect_none(&f);
    fx_down(&f);
}

/* ooo_ranges (issue 10: the out-of-order queue is bounded, each limit a
 * parameter): with room for 2 ranges, a third disjoint one is not held
 * (not reported in SACK blocks); once the peer sends everything again in
 * order the stream is complete and byte exact. */
Test(tcp_data, ooo_ranges_bounded)
{
    init_pat();
    struct fx f;
    fx_up(&f, FX_P("ooo_ranges=2"));
    f.popt.sack_perm = true;
    int h = fx_active(&f);
    struct fx_seg s;
    peer_data_at(&f, 1000, 100);
    peer_data_at(&f, 3000, 100);
    peer_data_at(&f, 5000, 100);
    while (fx_next(&f, &s))
        cr_assert_leq(s.r.opt.nsack, 2, "%u SACK blocks with ooo_ranges=2", s.r.opt.nsack);
    for (uint32_t off = 0; off < 5100; off += 1000)
        peer_data_at(&f, off, off + 1000 <= 5100 ? 1000 : 5100 - off);
    static uint8_t b[6000];
    long n = 0, r;
    while ((r = fx_read(&f, h, b + n, sizeof(b) - (size_t)n)) > 0)
        n += r;
    cr_assert_eq(n, 5100);
    cr_assert_eq(memcmp(b, pat, 5100), 0);
    fx_last(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 5101);
    fx_down(&f);
}

/* RFC 9293 3.4 (sequence numbers are modulo 2^32): the peer's stream
 * crosses 2^32 with segments out of order on both sides of the wrap; all
 * of it is delivered in order and acknowledged past the wrap. */
Test(tcp_data, reassembly_across_sequence_wrap)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    f.p_iss = 0xfffffc00u;
    f.popt.sack_perm = true;
    int h = fx_passive(&f);
    peer_data_at(&f, 1500, 1000); /* past the wrap */
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert(s.r.opt.has & TCP_HAS_SACK);
    cr_assert_eq(s.r.opt.sack[0].left.v, f.p_iss + 1501);
    cr_assert_eq(s.r.opt.sack[0].right.v, f.p_iss + 2501);
    peer_data_at(&f, 0, 500);
    peer_data_at(&f, 500, 1000); /* across the wrap */
    uint8_t b[3000];
    long n = 0, r;
    while ((r = fx_read(&f, h, b + n, sizeof(b) - (size_t)n)) > 0)
        n += r;
    cr_assert_eq(n, 2500);
    cr_assert_eq(memcmp(b, pat, 2500), 0);
    fx_last(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 2501);
    fx_down(&f);
}

/* l3 2.0 (output may refuse an skb, the caller keeps it; tx_ready says when
 * to try again) and issue 10.7 (buffers exhausted without a stuck
 * connection or a leak): data written while ip refuses is sent once it
 * takes segments again. */
Test(tcp_data, output_refused_then_retried)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    f.cfg->output_err = -EAGAIN;
    long n = fx_write(&f, h, pat, 2000);
    cr_assert(n == 2000 || n == -EAGAIN, "send while ip refuses: %ld", n);
    fx_drain(&f); /* the refused attempts were recorded, not sent: */
    f.p_rcv = f.t_iss + 1; /* the peer got none of them */
    f.cfg->output_err = 0;
    if (n < 0)
        cr_assert_eq(fx_write(&f, h, pat, 2000), 2000);
    fake_l3_tx_ready(f.fl);
    uint32_t acked = f.t_iss + 1;
    for (int t = 0; t < 3000 && f.p_rcv != f.t_iss + 2001; t += 10) {
        fx_drain(&f);
        if (f.p_rcv != acked) {
            acked = f.p_rcv;
            fx_ack(&f);
        }
        fx_ms(&f, 10);
    }
    cr_assert_eq(f.p_rcv - (f.t_iss + 1), 2000,
                 "%u of 2000 bytes sent after ip took segments again",
                 f.p_rcv - (f.t_iss + 1));
    fx_down(&f);
}

/* RFC 9293 3.9.1.2 (MUST-61: PSH on the last segment of what is queued, as
 * an implementation without a PUSH flag in SEND must): a 3000-byte write
 * ends in a segment with PSH. */
Test(tcp_data, psh_on_last_segment_of_write)
{
    init_pat();
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_setopt(&f, h, LYRA_TCP_NODELAY, 1), 0);
    cr_assert_eq(fx_write(&f, h, pat, 3000), 3000);
    struct fx_seg s, last = {0};
    while (fx_next(&f, &s))
        last = s;
    cr_assert_eq(last.seq + last.len, f.t_iss + 3001);
    cr_assert(last.flags & TCP_PSH, "the last segment of the write has no PSH");
    fx_down(&f);
}
