/* tcp state machine, black box: runs of received segments (l3 2.3, skb 2.6
 * LYRA_SKB_F_GRO), as a coalescing NIC and ip hand them up, and header
 * prediction (tcp_input_fast.c) of segments alone or in runs. A run must
 * leave tcp exactly where its segments one by one would: the same bytes
 * delivered, the same acknowledgment, holes and duplicates and the window
 * handled per segment; what changes is the work (header prediction,
 * counted rx_predicted). A predicted segment must leave tcp where the state
 * machine would. Fixture: tcp_fx.h (fx_send_run). */
#include <criterion/criterion.h>
#include <string.h>

#include "tcp_fx.h"

static uint8_t pat[70000];

static uint64_t stat(struct fx *f, const char *name)
{
    return lt_stat(f->tcp, name);
}

static int up(struct fx *f, const char *const *params)
{
    fx_pattern(pat, sizeof(pat), 0);
    fx_up(f, params);
    return fx_passive(f);
}

/* Reads everything queued; returns the byte count. */
static long read_all(struct fx *f, int h, uint8_t *b, size_t cap)
{
    long n = 0, r;
    while ((r = fx_read(f, h, b + n, cap - (size_t)n)) > 0)
        n += r;
    return n;
}

/* In order: every segment delivered, all by header prediction (the first
 * is in order too), one ACK for the run at the batch's end (MUST-58/59, as
 * for the same segments in one batch). */
Test(tcp_run, in_order_run_delivered_and_acked_once)
{
    struct fx f;
    int h = up(&f, NULL);
    uint32_t mss = f.t_mss;
    uint64_t seg0 = stat(&f, "rx_segments");
    fx_send_run(&f, f.p_iss + 1, pat, mss, 6);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 6 * mss);
    fx_expect_none(&f);
    cr_assert_eq(stat(&f, "rx_segments") - seg0, 6);
    cr_assert_eq(stat(&f, "rx_predicted"), 6);
    static uint8_t b[8 * 1460];
    cr_assert_eq(read_all(&f, h, b, sizeof(b)), (long)(6 * mss));
    cr_assert_eq(memcmp(b, pat, 6 * mss), 0);
    fx_down(&f);
}

/* A run counts as its segments would in one batch: the same segments,
 * predictions, bytes and answers joined (rx_batched), the same single ACK.
 * (Found in review: the run's predicted prefix, taken in one step, counted
 * one joined answer instead of one per follower.) */
static const char *const run_ctrs[] = {"rx_segments", "rx_predicted", "rx_bytes", "rx_batched"};
#define N_RUN_CTRS (sizeof(run_ctrs) / sizeof(run_ctrs[0]))

static void run_counters(bool as_run, uint64_t d[N_RUN_CTRS])
{
    struct fx f;
    int h = up(&f, NULL);
    uint32_t mss = f.t_mss;
    uint64_t c0[N_RUN_CTRS];
    for (unsigned k = 0; k < N_RUN_CTRS; k++)
        c0[k] = stat(&f, run_ctrs[k]);
    if (as_run) {
        fx_send_run(&f, f.p_iss + 1, pat, mss, 6);
    } else {
        fx_batch_begin(&f);
        for (unsigned k = 0; k < 6; k++)
            fx_send(&f, TCP_ACK, pat + k * mss, mss);
        fx_batch_end(&f);
    }
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 6 * mss);
    fx_expect_none(&f);
    for (unsigned k = 0; k < N_RUN_CTRS; k++)
        d[k] = stat(&f, run_ctrs[k]) - c0[k];
    static uint8_t b[8 * 1460];
    cr_assert_eq(read_all(&f, h, b, sizeof(b)), (long)(6 * mss));
    cr_assert_eq(memcmp(b, pat, 6 * mss), 0);
    fx_down(&f);
}

Test(tcp_run, run_counts_as_its_segments_in_one_batch)
{
    uint64_t one[N_RUN_CTRS], run[N_RUN_CTRS];
    run_counters(false, one);
    run_counters(true, run);
    for (unsigned k = 0; k < N_RUN_CTRS; k++)
        cr_expect_eq(run[k], one[k], "%s: %llu as a run, %llu one by one", run_ctrs[k],
                     (unsigned long long)run[k], (unsigned long long)one[k]);
}

/* A run after a partial read (the head's read offset kept) and, once all
 * is read, a run whose first segment is old onto an empty queue: every
 * byte once, in order, and the new followers predicted. */
Test(tcp_run, run_after_a_partial_read_and_onto_an_empty_queue)
{
    struct fx f;
    int h = up(&f, NULL);
    uint32_t mss = f.t_mss;
    static uint8_t b[8 * 1460];
    fx_send(&f, TCP_ACK, pat, mss);
    fx_drain(&f);
    cr_assert_eq(fx_read(&f, h, b, 100), 100);
    fx_send_run(&f, f.p_iss + 1 + mss, pat + mss, mss, 4);
    fx_drain(&f);
    cr_assert_eq(read_all(&f, h, b + 100, sizeof(b) - 100), (long)(5 * mss - 100));
    cr_assert_eq(memcmp(b, pat, 5 * mss), 0);
    /* the run's first segment is one tcp has (resent): not queued, so the
     * followers start the empty queue */
    uint64_t p0 = stat(&f, "rx_predicted");
    fx_send_run(&f, f.p_iss + 1 + 4 * mss, pat + 4 * mss, mss, 4);
    fx_drain(&f);
    cr_assert_eq(stat(&f, "rx_predicted") - p0, 3);
    cr_assert_eq(read_all(&f, h, b, sizeof(b)), (long)(3 * mss));
    cr_assert_eq(memcmp(b, pat + 5 * mss, 3 * mss), 0);
    fx_down(&f);
}

/* A run beyond a hole: every segment held out of order, none predicted,
 * each answered at once with a duplicate ACK (RFC 5681 4.2); the hole's
 * segment then brings everything. */
Test(tcp_run, run_beyond_a_hole_held_then_delivered)
{
    struct fx f;
    int h = up(&f, NULL);
    uint32_t mss = f.t_mss;
    fx_send_run(&f, f.p_iss + 1 + mss, pat + mss, mss, 4);
    for (int k = 0; k < 4; k++)
        fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    fx_expect_none(&f);
    cr_assert_eq(stat(&f, "rx_predicted"), 0);
    static uint8_t b[8 * 1460];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), -EAGAIN);
    fx_send_sa(&f, TCP_ACK, f.p_iss + 1, f.p_rcv, pat, mss);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 5 * mss);
    cr_assert_eq(read_all(&f, h, b, sizeof(b)), (long)(5 * mss));
    cr_assert_eq(memcmp(b, pat, 5 * mss), 0);
    fx_down(&f);
}

/* A run whose first segments tcp already has (the peer resent them): those
 * are trimmed as duplicates, the rest delivered once. */
Test(tcp_run, run_overlapping_received_data_delivers_each_byte_once)
{
    struct fx f;
    int h = up(&f, NULL);
    uint32_t mss = f.t_mss;
    fx_send_sa(&f, TCP_ACK, f.p_iss + 1, f.p_rcv, pat, mss);
    fx_send_sa(&f, TCP_ACK, f.p_iss + 1 + mss, f.p_rcv, pat + mss, mss);
    fx_drain(&f);
    uint64_t old0 = stat(&f, "rx_out_of_window");
    fx_send_run(&f, f.p_iss + 1, pat, mss, 5);
    struct fx_seg s;
    fx_last(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 1 + 5 * mss);
    /* wholly before RCV.NXT: not acceptable, answered (3.10.7.4) */
    cr_assert_eq(stat(&f, "rx_out_of_window") - old0, 2, "%llu of the resent segments refused",
                 (unsigned long long)(stat(&f, "rx_out_of_window") - old0));
    static uint8_t b[8 * 1460];
    cr_assert_eq(read_all(&f, h, b, sizeof(b)), (long)(5 * mss));
    cr_assert_eq(memcmp(b, pat, 5 * mss), 0);
    fx_down(&f);
}

/* A run longer than the window: what fits is taken, the rest cut, as for
 * the segments one by one (RFC 9293 3.10.7.4: data beyond the window is
 * not accepted); the ACK names the edge. */
Test(tcp_run, run_beyond_the_window_cut_at_its_edge)
{
    struct fx f;
    int h = up(&f, FX_P("rcv_buf=4096"));
    uint32_t mss = f.t_mss;
    uint32_t w = f.t_syn_wnd; /* the window the SYN-ACK offered (at most rcv_buf) */
    cr_assert(w > 2 * mss && w <= 4096, "window %u", w);
    fx_send_run(&f, f.p_iss + 1, pat, mss, 4);
    struct fx_seg s;
    fx_last(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 1 + w, "acknowledged %u bytes of a %u-byte window",
                 s.ack - (f.p_iss + 1), w);
    static uint8_t b[8 * 1460];
    cr_assert_eq(read_all(&f, h, b, sizeof(b)), (long)w);
    cr_assert_eq(memcmp(b, pat, w), 0);
    fx_down(&f);
}

/* A run for a port nobody listens on: each segment answered with a RST
 * (RFC 9293 3.10.7.1), none taken, nothing leaked (fx_down checks). */
Test(tcp_run, run_to_a_closed_port_reset_segment_by_segment)
{
    struct fx f;
    fx_pattern(pat, sizeof(pat), 0);
    fx_up(&f, NULL);
    f.lport = 81;
    f.p_iss = 1000;
    fx_send_run(&f, 1001, pat, 500, 3);
    for (int k = 0; k < 3; k++) {
        struct fx_seg s; /* the segments carry ACK: <SEQ=SEG.ACK><CTL=RST> */
        fx_expect(&f, &s, TCP_RST, f.p_rcv, FX_ANY);
    }
    fx_expect_none(&f);
    cr_assert_eq(stat(&f, "rx_to_closed"), 3);
    fx_down(&f);
}

/* The peer's first two segments are lost and its bare FIN, beyond them, is
 * held (fin_held). They come again; one by one the second takes the held
 * FIN (CLOSE_WAIT, the FIN acknowledged), and so must they as a run: the
 * follower is not predicted, since prediction does not take FINs. (Found
 * in review: a predicted follower left the FIN to the peer's timeout.) */
static void lost_then_fin(bool as_run)
{
    struct fx f;
    int h = up(&f, NULL);
    uint32_t mss = f.t_mss;
    fx_send_sa(&f, TCP_ACK | TCP_FIN, f.p_iss + 1 + 2 * mss, f.p_rcv, NULL, 0);
    fx_drain(&f);
    if (as_run) {
        fx_send_run(&f, f.p_iss + 1, pat, mss, 2);
    } else {
        fx_batch_begin(&f);
        fx_send_sa(&f, TCP_ACK, f.p_iss + 1, f.p_rcv, pat, mss);
        fx_send_sa(&f, TCP_ACK, f.p_iss + 1 + mss, f.p_rcv, pat + mss, mss);
        fx_batch_end(&f);
    }
    struct fx_seg s;
    fx_last(&f, 1, &s);
    const char *how = as_run ? "as a run" : "one by one";
    cr_assert_eq(s.ack, f.p_iss + 2 * mss + 2, "%s: the held FIN was not taken", how);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSE_WAIT, "%s: state %d", how, fx_state(&f, h));
    cr_assert_eq(stat(&f, "rx_predicted"), 0);
    fx_down(&f);
}

Test(tcp_run, held_fin_taken_by_a_run_as_by_its_segments)
{
    lost_then_fin(false);
    lost_then_fin(true);
}

/* Header prediction of segments alone: an in-order data segment carrying
 * the ACK tcp already has is taken without the state machine (counted),
 * queued, and acknowledged as any (every second full segment, RFC 9293
 * 3.8.6.3, at the batch's end). */
Test(tcp_run, in_order_segments_alone_are_predicted)
{
    struct fx f;
    int h = up(&f, NULL);
    uint32_t mss = f.t_mss;
    fx_send(&f, TCP_ACK, pat, mss);
    fx_send(&f, TCP_ACK | TCP_PSH, pat + mss, mss);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 1, f.p_iss + 1 + 2 * mss);
    fx_expect_none(&f);
    cr_assert_eq(stat(&f, "rx_predicted"), 2);
    static uint8_t b[4 * 1460];
    cr_assert_eq(read_all(&f, h, b, sizeof(b)), (long)(2 * mss));
    cr_assert_eq(memcmp(b, pat, 2 * mss), 0);
    fx_down(&f);
}

/* What prediction must leave to the state machine: a segment that
 * acknowledges new data (the ACK's processing: RTT, window, congestion
 * control), one with FIN, URG, or SYN (RFC 5961), one out of order, one
 * whose timestamp fails PAWS (RFC 7323 5), and one beyond the window. Each
 * still has its effect; none is counted as predicted. */
Test(tcp_run, segments_with_more_to_do_are_not_predicted)
{
    struct fx f;
    int h = up(&f, NULL);
    /* new data acknowledged: tcp sends, the peer's segment acks it */
    cr_assert_eq(fx_write(&f, h, pat, 100), 100);
    struct fx_seg s;
    fx_expect(&f, &s, TCP_ACK | TCP_PSH, f.t_iss + 1, FX_ANY);
    fx_send_sa(&f, TCP_ACK, f.p_nxt, f.t_iss + 101, pat, 10);
    f.p_nxt += 10;
    struct lyra_tcp_info ti;
    fx_info(&f, h, &ti);
    cr_assert_eq(ti.unacked, 0, "the data's ACK was not taken");
    /* URG: the urgent pointer counts (out of band data: POLLPRI) */
    struct fx_tx t = {.src = f.peer, .sport = f.pport, .dport = f.lport, .seq = f.p_nxt,
                      .ack = f.p_rcv, .flags = TCP_ACK | TCP_URG, .win = 65535, .urg = 5,
                      .data = pat, .len = 10};
    f.p_nxt += 10;
    fx_tx(&f, &t);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_PRI, "the urgent mark was not taken");
    fx_drain(&f);
    /* out of order: held, answered at once with a duplicate ACK; then the
     * segment that fills the hole (in order, but with data held beyond:
     * the state machine joins them) */
    uint32_t hole = f.p_nxt;
    fx_send_sa(&f, TCP_ACK, hole + 10, f.p_rcv, pat, 10);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 101, hole);
    fx_send_sa(&f, TCP_ACK, hole, f.p_rcv, pat, 10);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 101, hole + 20);
    f.p_nxt = hole + 20;
    /* SYN: RFC 5961 4.2's challenge ACK, the connection stays */
    uint64_t ch0 = stat(&f, "challenge_acks");
    struct tcp_hdr_opts o = {.has = TCP_HAS_MSS, .mss = 1460};
    fx_send_opt(&f, TCP_SYN, f.p_nxt, 0, NULL, 0, &o);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 101, f.p_nxt);
    cr_assert_eq(stat(&f, "challenge_acks"), ch0 + 1);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    /* beyond the window: not acceptable, an ACK at once, nothing taken */
    uint64_t oow0 = stat(&f, "rx_out_of_window");
    fx_send_sa(&f, TCP_ACK, f.p_nxt + 200000, f.p_rcv, pat, 10);
    fx_expect(&f, &s, TCP_ACK, f.t_iss + 101, f.p_nxt);
    cr_assert_eq(stat(&f, "rx_out_of_window"), oow0 + 1);
    /* FIN: the state moves */
    fx_send(&f, TCP_ACK | TCP_FIN, NULL, 0);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_CLOSE_WAIT);
    cr_assert_eq(stat(&f, "rx_predicted"), 0);
    fx_down(&f);
}

/* The PAWS case of the above (RFC 7323 5.3): with timestamps on, an
 * in-order segment with an old TSval is dropped with an ACK, by the state
 * machine, not taken by prediction. */
Test(tcp_run, paws_failed_segment_is_not_predicted)
{
    struct fx f;
    fx_pattern(pat, sizeof(pat), 0);
    fx_up(&f, NULL);
    f.popt.ts = true;
    int h = fx_active(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, pat, 10); /* in order, fresh TSval: predicted */
    struct fx_seg s;
    fx_wait(&f, 500, &s);
    cr_assert_eq(stat(&f, "rx_predicted"), 1);
    uint64_t paws0 = stat(&f, "rx_paws");
    struct tcp_hdr_opts o = {.has = TCP_HAS_TS, .tsval = f.p_tsval - 100, .tsecr = f.t_tsval};
    fx_send_opt(&f, TCP_ACK | TCP_PSH, f.p_nxt, f.p_rcv, pat + 10, 10, &o);
    fx_wait(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 11, "a PAWS-failed segment was acknowledged");
    cr_assert_eq(stat(&f, "rx_paws"), paws0 + 1);
    cr_assert_eq(stat(&f, "rx_predicted"), 1, "the old segment went through prediction");
    uint8_t b[32];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 10);
    fx_down(&f);
}
