/* tcp's private state and what its files give each other.
 *
 * A connection is two records at one index (the l4 handle): the control
 * block (struct tcp_cb: everything the protocol needs, timers, congestion
 * and SACK state included; at most 256 bytes, issue 10.2) and the endpoint
 * (struct tcp_ep: the user's side: its buffers' queues, the socket layer's
 * cookie, options, the listener's accept queue). Files: tcp.c (component,
 * parameters, lifecycle), tcp_conn.c (the table: slots, lookup, ports,
 * TIME_WAIT reclaim, state changes), tcp_input.c (segment arrival, RFC
 * 9293 3.10.7), tcp_input_fast.c (header prediction), tcp_input_run.c
 * (runs from a coalescing NIC), tcp_output.c (building and sending segments), tcp_sndq.c
 * (the send queue), tcp_rcvq.c (the receive queue and reassembly),
 * tcp_timer.c (the connection's timer kinds), tcp_listen.c (a listener's
 * SYNs, its queues, SYN cookies), tcp_icmp.c (ICMP errors and the path
 * MTU), tcp_ep.c (l4 ops). */
#ifndef LYRA_TCP_PRIV_H
#define LYRA_TCP_PRIV_H

#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "lyra/component.h"
#include "lyra/diag.h"
#include "lyra/l2.h"
#include "lyra/l3.h"
#include "lyra/l4.h"
#include "lyra/l4_zc.h"
#include "lyra/l4_ip.h"
#include "lyra/netdev.h"
#include "lyra/os.h"
#include "lyra/skb.h"
#include "lyra/skb_csum.h"
#include "tcp_cc.h"
#include "tcp_ooo.h"
#include "tcp_rto.h"
#include "tcp_seq.h"
#include "tcp_timers.h"
#include "tcp_wire.h"

#define WHO "tcp"
#define TCP_NONE 0xffffu /* no index (u16 links) */
#define TCP_DEFAULT_MSS 536u /* RFC 9293 3.7.1: when the peer sends none */
#define TCP_MAX_WIN 65535u
/* After a hole, a duplicate or a delayed ACK's timer, the next segments
 * are acknowledged one by one and every read announces the window it opens
 * (as Linux's quick-ACK mode): the sender is short of ACKs, and under loss
 * (5% each way, test_tcp_wire sack_beats_newreno_under_loss) a delayed one
 * doubled its timeouts. */
#define TCP_QUICK_ACKS 16u
#define TCP_URG_NONE UINT32_MAX /* tcp_ep.urg_left: no urgent data (a mark is < 2^31 ahead) */

/* RFC 9293 3.3.2 */
enum tcp_state {
    TCPS_FREE = 0, /* slot unused */
    TCPS_CLOSED,   /* open, not connected (or done, user not closed yet) */
    TCPS_LISTEN,
    TCPS_SYN_SENT,
    TCPS_SYN_RCVD,
    TCPS_ESTABLISHED,
    TCPS_FIN_WAIT_1,
    TCPS_FIN_WAIT_2,
    TCPS_CLOSE_WAIT,
    TCPS_CLOSING,
    TCPS_LAST_ACK,
    TCPS_TIME_WAIT,
};

/* tcp_cb.flags */
#define CB_WS 0x0001u        /* window scaling negotiated (RFC 7323 2) */
#define CB_TS 0x0002u        /* timestamps negotiated (RFC 7323 3) */
#define CB_SACK 0x0004u      /* SACK-permitted negotiated (RFC 2018) */
#define CB_FIN_Q 0x0008u     /* the user closed its side: FIN after the queued data */
#define CB_FIN_SENT 0x0010u  /* our FIN has a sequence number (snd_max counts it) */
#define CB_FIN_RCVD 0x0020u  /* the peer's FIN is in (rcv_nxt counts it) */
#define CB_ACK_NOW 0x0040u   /* an ACK is owed at once */
#define CB_ACK_DEL 0x0080u   /* an ACK is owed, delayed */
#define CB_RTT 0x0100u       /* timing rtt_seq (no timestamps) */
#define CB_PERSIST 0x0200u   /* the RTX timer is the persist timer (zero window) */
#define CB_RTX_RUN 0x0400u   /* the first unacked segment was resent by the timer */
#define CB_ORPHAN 0x0800u    /* the user closed the handle; the connection finishes alone */
#define CB_PASSIVE 0x1000u   /* made by a listener (SYN_RCVD goes back to nothing on RST) */
#define CB_KEEP 0x2000u      /* keepalive probing on (SO_KEEPALIVE) */
#define CB_NODELAY 0x4000u   /* TCP_NODELAY: no Nagle */
#define CB_ACCEPTED 0x8000u  /* in the listener's accept queue (or accepted) */

/* One connection's protocol state (issue 10.2: <= 256 bytes on x86-64
 * with every option on; tcp.c prints it). Its buffers and the socket
 * side are in struct tcp_ep. */
struct tcp_cb {
    struct lyra_timer tmr;   /* the one os timer, armed for the earliest of tm */
    struct tcp_cc cc;        /* congestion control (tcp_cc.h) */
    struct tcp_rto rto;      /* RFC 6298 */
    struct tcp_timers tm;    /* deadlines per timer kind */
    struct tcp_ooo ooo;      /* ranges held beyond rcv_nxt (SACK blocks, RFC 2018) */
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    tcp_seq_t iss;
    tcp_seq_t snd_una, snd_nxt, snd_max; /* snd_max: highest sent (snd_nxt rewinds on RTO) */
    tcp_seq_t snd_wl1, snd_wl2;          /* RFC 9293 3.10.7.4: last window update */
    uint32_t snd_wnd;                    /* peer's window, scaled, bytes */
    uint32_t snd_wnd_max;                /* largest window seen (sender SWS, 3.8.6.2.1) */
    tcp_seq_t rcv_nxt, rcv_adv;          /* rcv_adv: right edge we advertised */
    uint32_t ts_recent;                  /* RFC 7323 4.3 */
    uint32_t ts_off;                     /* our TSval = ms clock + ts_off (RFC 7323 5.4) */
    tcp_seq_t rtt_seq;                   /* RTT timing without timestamps (Karn) */
    uint32_t rtt_start;                  /* ms */
    uint32_t last_rx;                    /* ms: keepalive idle, TIME_WAIT age */
    uint32_t rtx_start;                  /* ms: oldest unacked data first sent (user timeout) */
    uint16_t mss;                        /* send MSS: what the peer takes, option bytes excluded,
                                          * within the path MTU (RFC 1191) */
    uint16_t rmss;                       /* the MSS we announced */
    uint16_t mss_clamp;                  /* the send MSS the handshake allows (path aside);
                                          * 0: not known yet (before the peer's SYN) */
    uint16_t flags;                      /* CB_* */
    uint8_t state;                       /* enum tcp_state */
    uint8_t snd_ws, rcv_ws;              /* window shifts */
    uint8_t dupacks;
    uint8_t retries;                     /* timer expiries in a row (R2, SYN retries) */
    uint8_t probes;                      /* keepalive probes unanswered */
    uint8_t unacked_segs : 3;            /* full segments received since our last ACK */
    uint8_t quick : 5;                   /* segments still acknowledged one by one
                                          * (TCP_QUICK_ACKS) */
    uint8_t gso_segs;                    /* the route's TSO segments (l3 2.2), as of the
                                          * last segment sent; 0: none */
    uint16_t chal_sec, chal_n;           /* challenge ACKs sent in second chal_sec of the ms
                                          * clock (RFC 5961 7, per connection) */
};

/* The SACK scoreboard's summary (RFC 6675 2-4), kept with the send queue
 * whose skbs carry the per-segment marks (tcp_sack.c). RecoveryPoint is
 * cc.recover, HighACK snd_una, HighData snd_max. */
struct tcp_sb {
    tcp_seq_t high_rxt;    /* one past HighRxt: the end of the last retransmission */
    tcp_seq_t rescue_rxt;  /* RescueRxt, with rescue_set */
    tcp_seq_t high_sacked; /* one past the highest SACKed byte (with sacked_segs) */
    uint32_t sacked_bytes; /* as of the last scan: SACKed above snd_una */
    uint32_t lost_bytes;   /* unSACKed bytes IsLost() holds for */
    uint32_t rtx_bytes;    /* unSACKed bytes sent again (in pipe twice unless lost) */
    uint32_t pipe;         /* RFC 6675 pipe */
    tcp_seq_t rtx_una;     /* with rtx_fence_set: the segment at SND.UNA sent again, */
    tcp_seq_t rtx_fence;   /* ... when SND.MAX was this (tcp_sack.c lost_again) */
    uint16_t sacked_segs;  /* skbs with SACKed bytes */
    uint8_t marks;         /* some skb has a mark: a scan is needed for pipe */
    uint8_t rescue_set;
    uint8_t rtx_fence_set;
};

/* The user's side of a connection: queues, cookie, options. */
struct tcp_ep {
    struct lyra_skb_queue sndq;   /* payload skbs from snd_una on, cb[0]: first seq, cb[1]:
                                   * SACK scoreboard marks (tcp_sack.c) */
    struct tcp_sb sb;             /* the scoreboard's summary */
    struct lyra_skb *snd_hint;    /* in sndq: the skb the last segment came from, where
                                   * the next one's search starts; NULL: from the head */
    struct lyra_skb_queue rcvq;   /* in-order payload for recv, cb[0]: bytes read of the head */
    struct lyra_skb *ooo;         /* out-of-order payload skbs, by seq, cb[0]: seq */
    uint32_t snd_bytes;           /* bytes in sndq (sent or not) */
    uint32_t rcv_bytes;           /* bytes in rcvq not yet read */
    uint32_t ooo_bytes;
    tcp_seq_t fin_seq;            /* with fin_held: the peer's FIN beyond a hole */
    uint32_t urg_left;            /* urgent data not read past (RFC 9293 3.8.5): bytes to
                                   * read before its mark, RCV.UP (RFC 6093: just after the
                                   * last urgent byte), 0 at it; TCP_URG_NONE: none */
    uintptr_t cookie;             /* l4 1.1: the socket layer's */
    struct lyra_l4_ipopts o;      /* SO_ERROR, TTL, TOS, SO_LINGER */
    uint32_t sndbuf, rcvbuf;      /* SO_SNDBUF, SO_RCVBUF */
    uint32_t user_timeout;        /* ms, 0: R2 rules (TCP_USER_TIMEOUT) */
    uint16_t keep_idle, keep_intvl; /* s */
    uint8_t keep_cnt;
    uint8_t reuse;                /* SO_REUSEADDR */
    uint8_t shut_rd, bound;
    uint16_t maxseg;              /* TCP_MAXSEG cap, 0: none */
    uint16_t parent;              /* listener of a passive connection until accepted */
    uint16_t hnext;               /* hash chain / free list */
    uint16_t aq_head, aq_tail;    /* listener: established, not yet accepted */
    uint16_t aq_next;
    uint16_t backlog, pending;    /* listener: limit; children (SYN_RCVD + queued) */
    uint16_t synq;                /* listener: children in SYN_RCVD (its SYN queue) */
    uint8_t cookies;              /* listener: has sent SYN cookies, the last at cookie_ms */
    uint32_t cookie_ms;
    uint8_t cc_idx;               /* congestion control chosen (TCP_CONGESTION) */
    uint8_t was_conn;             /* connect or accept happened (ENOTCONN vs EPIPE) */
    uint8_t snd_urg;              /* sending urgent data: segments before snd_up carry URG */
    uint8_t fin_held;             /* fin_seq holds a FIN that came beyond a hole */
    uint8_t sndq_coarse;          /* sndq may hold an skb of more than one MSS (tcp_sndq.c) */
    uint8_t ready_in;             /* data queued by header prediction: POLL_IN at the batch end */
    int16_t soft_err;             /* an ICMP soft error while opening (RFC 1122 4.2.3.9) */
    uint32_t total_retrans;       /* TCP_INFO */
    tcp_seq_t snd_up;             /* SND.UP: just after the last byte sent with MSG_OOB (RFC
                                   * 6093), with snd_urg */
    uint64_t bytes_acked, bytes_received;
};

#define TCP_STATS(X)                                                                          \
    X(rx_segments) X(rx_predicted) X(rx_bytes) X(rx_bad_csum) X(rx_bad_hdr) X(rx_down)      \
    X(rx_to_closed) X(rx_out_of_window) X(rx_paws) X(rx_dup_data) X(rx_ooo) X(rx_ooo_drop)      \
    X(rx_rcvbuf_full) X(rx_after_close) X(rx_bcast) X(tx_segments) X(tx_bytes)                 \
    X(tx_retrans_segs) X(tx_retrans_bytes) X(tx_nobuf) X(tx_errors) X(tx_noroute)              \
    X(tx_csum_offload) X(rst_sent) X(rst_rcvd) X(rst_ignored) X(challenge_acks) X(acks_sent)   \
    X(challenge_acks_limited) X(rx_bad_ack) X(syncookies_sent) X(syncookies_ok)                \
    X(syncookies_failed) X(syn_evicted) X(zc_sends) X(zc_copy_fallback) X(zc_nobufs) X(rx_loaned_bytes) X(rx_loans)                                                        \
    X(acks_delayed) X(dupacks_rcvd) X(fast_retransmits) X(rto_expiries) X(probes_sent)         \
    X(keepalives_sent) X(conns_opened) X(conns_accepted) X(conns_established) X(conns_reset)   \
    X(conns_timed_out) X(conns_refused) X(conns_unreachable) X(syn_backlog_drops)              \
    X(syn_no_mem) X(tw_reclaimed)                                                              \
    X(icmp_errors_in) X(icmp_errors_bad_seq) X(pmtu_lowered) X(pmtu_ignored) X(pmtu_mss_synced) \
    X(tx_ready) X(rx_batched) X(sack_blocks_rcvd) X(sack_blocks_bad) X(dsack_rcvd)             \
    X(sack_recoveries) X(sack_rescue_rtx) X(sack_lost_rtx) X(sack_reneging) X(tx_tso)          \
    X(tx_tso_segs) X(sndq_splits) X(sndq_split_fail)

struct tcp_stats {
#define TCP_STAT_FIELD(n) uint64_t n;
    TCP_STATS(TCP_STAT_FIELD)
#undef TCP_STAT_FIELD
};

struct tcp_cfg {
    uint32_t max_conns, backlog_max, snd_buf, rcv_buf, ooo_ranges;
    uint16_t mss;
    uint32_t rto_min_ms, rto_max_ms, rto_init_ms, delack_ms, time_wait_ms;
    uint8_t syn_retries, synack_retries, retries2;
    uint32_t keep_idle_s, keep_intvl_s, keep_cnt;
    bool wscale, timestamps, sack, syncookies;
    uint32_t challenge_ack_limit;
    uint32_t sndq_skb_max; /* 0: auto (tcp_sndq.c) */
    uint8_t cc_idx;
    uint16_t port_min, port_max;
};

struct tcp {
    struct lyra_os os;
    const struct lyra_skb_ops *skb;
    void *skb_self;
    const struct lyra_l3_ops *l3;
    void *l3_self;
    const struct lyra_l4_events *ev;
    void *ev_user;
    struct tcp_cfg cfg;
    struct tcp_rto_limits rto_lim;
    bool started, registered;
    /* a run of received segments (l3 2.3) being taken apart: the
     * connection its last segment went to (-1: none) and that segment's
     * header as parsed (tcp_input_run.c tcp_rx_run) */
    bool run;
    int run_i;
    struct tcp_repr run_r;
    /* the table (os memory at start) */
    struct tcp_cb *cb;
    struct tcp_ep *ep;
    struct lyra_zc *zc; /* per endpoint: MSG_ZEROCOPY completions (lyra/l4_zc.h), kept
                         * apart from ep, which a new connection clears */
    struct tcp_range *ranges; /* ooo_ranges per connection */
    uint16_t *hash;           /* bucket heads, TCP_NONE: empty */
    uint32_t hash_mask;
    uint16_t free_head;
    uint32_t nconns;          /* slots in use */
    uint8_t key[16];          /* RFC 6528 / 6056 secret */
    uint32_t port_next;       /* RFC 6056 alg 3's counter */
    struct tcp_stats st;
    uint64_t copy_bytes;
    /* the receive batch's end (tcp_batch.c): a bit per connection that
     * owes its answer, given by the poll hook */
    uint64_t *pend;
    bool pend_any;
};

extern const struct tcp_cc_ops *const tcp_cc_algs[];
extern const unsigned tcp_cc_nalgs;

/* words of tcp.pend: a bit per connection */
static inline uint32_t tcp_pend_words(const struct tcp *u)
{
    return (u->cfg.max_conns + 63u) / 64u;
}

static inline uint32_t tcp_ms(const struct tcp *u)
{
    return (uint32_t)(lyra_now(&u->os) / 1000000u);
}

static inline struct tcp_cb *tcp_cb_of(struct tcp *u, int i)
{
    return &u->cb[i];
}

static inline int tcp_idx(const struct tcp *u, const struct tcp_cb *c)
{
    return (int)(c - u->cb);
}

static inline bool tcp_synced(const struct tcp_cb *c)
{
    return c->state >= TCPS_ESTABLISHED;
}

/* option bytes every segment carries once negotiated: the timestamps'
 * 12 (RFC 7323 3); the MSS counts payload with them out (RFC 6691) */
static inline uint32_t tcp_ts_len(const struct tcp_cb *c)
{
    return (c->flags & CB_TS) ? 12u : 0u;
}

/* bytes in flight: sent, not acknowledged (SYN and FIN count) */
static inline uint32_t tcp_flight(const struct tcp_cb *c)
{
    return (uint32_t)tcp_seq_diff(c->snd_max, c->snd_una);
}

/* tcp_conn.c */
int tcp_conn_alloc(struct tcp *u);               /* a CLOSED slot, or -ENOBUFS */
/* The same, and when the table is full the oldest half-open connection a
 * listener made gives its slot (syn_evicted). */
int tcp_conn_alloc_evict(struct tcp *u);
void tcp_conn_release(struct tcp *u, int i);     /* buffers, timer, hash: the slot is free */
void tcp_hash_add(struct tcp *u, int i);
void tcp_hash_del(struct tcp *u, int i);
int tcp_lookup(struct tcp *u, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);
int tcp_lookup_listener(struct tcp *u, uint32_t laddr, uint16_t lport);
int tcp_port_in_use(struct tcp *u, int self, uint32_t laddr, uint16_t lport, bool reuse);
int tcp_autobind(struct tcp *u, int i, uint32_t raddr, uint16_t rport);
void tcp_set_state(struct tcp *u, int i, enum tcp_state s);
/* The connection ends: error err (0: none) for the user, timers off,
 * buffers freed; an orphan's slot is released. */
void tcp_conn_drop(struct tcp *u, int i, int err);
/* TIME_WAIT (RFC 9293 3.10.7.4): 2 MSL from now. */
void tcp_enter_time_wait(struct tcp *u, int i);
void tcp_ready(struct tcp *u, int i, unsigned what);
uint8_t tcp_choose_ws(uint32_t rcvbuf);

/* tcp_output.c */
/* Sends what the windows, Nagle and SWS allow, then any ACK owed. */
void tcp_output(struct tcp *u, int i);
/* An ACK now (pure, or with what tcp_output may send). */
void tcp_send_ack(struct tcp *u, int i);
/* tcp_batch.c: a connection answers a segment now (tcp_answer: output,
 * then the delayed ACK's timer) or at the end of the receive batch, which
 * is tcp's poll hook (tcp_batch_flush) */
void tcp_answer(struct tcp *u, int i);
int tcp_batch_flush(void *self, unsigned budget);
void tcp_batch_defer(struct tcp *u, int i);
void tcp_batch_cancel(struct tcp *u);
/* SYN (SYN_SENT) or SYN-ACK (SYN_RCVD), at iss. */
int tcp_send_syn(struct tcp *u, int i);
/* A data segment [seq, seq+len) from the send queue (with FIN when fin):
 * the sequence space it took (payload, cut at the send-queue skb that
 * holds seq, plus the FIN), or negative when nothing was sent. */
int tcp_xmit_data(struct tcp *u, int i, tcp_seq_t seq, uint32_t len, bool fin, bool rtx);
/* New data from snd_nxt (after an RTO, data again, SACKed ranges skipped)
 * under the windows, Nagle and SWS; room: what cwnd still allows
 * (TCP_ROOM_CWND: the rule of the moment, snd_una + cwnd or cwnd - pipe);
 * one: a single segment. The sequence space sent. */
#define TCP_ROOM_CWND UINT32_MAX
uint32_t tcp_output_data(struct tcp *u, int i, uint32_t room, bool one);
/* A segment of no connection (a SYN-ACK carrying a SYN cookie): r as
 * built by the caller, window field and options included. */
int tcp_send_unbound(struct tcp *u, const struct tcp_repr *r, uint32_t src, uint32_t dst,
                     uint8_t ttl, uint8_t tos);
/* RST in reply to a segment (RFC 9293 3.10.7.1). */
void tcp_send_rst_reply(struct tcp *u, const struct tcp_repr *r,
                        const struct lyra_l3_rxinfo *info);
/* RST for a connection (abort: <SEQ=SND.NXT><CTL=RST,ACK>). */
void tcp_send_rst(struct tcp *u, int i);
/* A keepalive or window probe: <SEQ=SND.UNA-1><ACK> */
void tcp_send_keepalive(struct tcp *u, int i);
/* The window we would advertise now (bytes). */
uint32_t tcp_rcv_window(struct tcp *u, int i);
/* Resends the first unacknowledged segment (within the peer's window, one
 * byte into a closed one): the sequence space it took. */
int tcp_retransmit_first(struct tcp *u, int i);

/* tcp_sndq.c */
long tcp_sndq_append(struct tcp *u, int i, const uint8_t *buf, uint32_t len,
                     struct lyra_zc_rec *zr);
/* snd_una moved to una: frees what it covers. */
void tcp_sndq_acked(struct tcp *u, int i, tcp_seq_t una);
/* End of the queued data (the FIN's seq when one is due). Inline: output
 * asks for it several times a segment. */
static inline tcp_seq_t tcp_sndq_end(const struct tcp *u, int i)
{
    return tcp_seq_add(u->cb[i].snd_una, u->ep[i].snd_bytes);
}
/* Payload from snd_una: a clone of [seq, seq+len) with room for headers,
 * len cut to the skb holding seq (*from: that skb). NULL: nothing there,
 * or no buffer. */
struct lyra_skb *tcp_sndq_clone(struct tcp *u, int i, tcp_seq_t seq, uint32_t *len,
                                struct lyra_skb **from);
/* As tcp_sndq_clone, then the following queued skbs appended (skb 2.5
 * clone_add) while *len allows and the frame has at most max_segs
 * segments: a TSO frame's payload. *len: what it holds. */
struct lyra_skb *tcp_sndq_clone_run(struct tcp *u, int i, tcp_seq_t seq, uint32_t *len,
                                    uint32_t max_segs);
uint32_t tcp_sndq_space(struct tcp *u, int i);
/* Frees the whole queue (reset, close, TIME-WAIT). */
void tcp_sndq_purge(struct tcp *u, int i);
/* The provider's buffers a queued skb holds: its own and those chained
 * behind it (a send-queue skb of many segments, copied: tcp_sndq.c). */
uint32_t tcp_q_bufs(const struct lyra_skb *s);
/* The same for the whole send queue, pieces and the originals they hold. */
uint32_t tcp_sndq_bufs(const struct tcp_ep *e);
/* Cuts the sent part of every queued skb of more than one MSS into pieces
 * of one MSS, front to back, so that the scoreboard's per-skb marks are
 * per segment; what it cannot cut (no buffer to spare, counted) stays
 * whole and is tried again next time. */
void tcp_sndq_fine(struct tcp *u, int i);

/* tcp_sack.c: the SACK scoreboard and RFC 6675 recovery */
void tcp_sack_init_skb(struct lyra_skb *s);  /* a new send-queue skb: no marks */
/* Piece p holds s's first n bytes: it gets their marks. */
void tcp_sack_piece(const struct lyra_skb *s, struct lyra_skb *p, uint32_t n);
/* s lost its first n bytes (cut off as a piece, or acknowledged): its
 * marks too. */
void tcp_sack_advance(struct lyra_skb *s, uint32_t n);
void tcp_sack_reset(struct tcp *u, int i);   /* the send queue was emptied */
/* Update(): the segment's SACK blocks, validated (RFC 2018, RFC 2883
 * D-SACK: counted, not marked), into the scoreboard; the bytes newly
 * SACKed (non-zero: RFC 6675's duplicate ACK). */
unsigned tcp_sack_input(struct tcp *u, int i, const struct tcp_repr *r);
/* SetPipe(): totals, IsLost() marks and pipe. */
void tcp_sack_scan(struct tcp *u, int i);
/* IsLost(HighACK + 1) as of the last scan. */
bool tcp_sack_head_lost(struct tcp *u, int i);
/* In RFC 6675 recovery (SACK negotiated, cc in recovery). Inline, as
 * tcp_sack_pipe_mode: asked for every segment in and out. */
static inline bool tcp_sack_recovering(const struct tcp *u, int i)
{
    const struct tcp_cb *c = &u->cb[i];
    return (c->flags & CB_SACK) && c->cc.in_recovery;
}
/* RFC 6675 5 step (4): recovery begins, HighACK's segment goes again. */
void tcp_sack_enter_recovery(struct tcp *u, int i, uint32_t flight);
/* Step (C): what NextSeg() gives while cwnd - pipe >= SMSS. */
void tcp_sack_output(struct tcp *u, int i);
/* Outside recovery: whether new data (or, after an RTO, data again) goes
 * by cwnd - pipe (SACK marks held), and that room. */
static inline bool tcp_sack_pipe_mode(const struct tcp *u, int i)
{
    return (u->cb[i].flags & CB_SACK) && u->ep[i].sb.marks;
}
uint32_t tcp_sack_cwnd_room(struct tcp *u, int i);
/* Going back after an RTO: the first unSACKed byte from seq on, and *run
 * the unSACKed bytes there (UINT32_MAX: no limit). */
tcp_seq_t tcp_sack_skip(struct tcp *u, int i, tcp_seq_t seq, uint32_t *run);
/* s was sent again. */
void tcp_sack_sent_again(struct tcp *u, int i, struct lyra_skb *s);
/* The retransmission timer expired (RFC 6675 5.1). */
void tcp_sack_rto(struct tcp *u, int i);

/* tcp_rcvq.c */
/* Payload skb (data at the payload, len bytes, seq) for the connection:
 * taken (queued or freed). Returns true when it filled the hole at
 * rcv_nxt or was in order. */
bool tcp_rcvq_data(struct tcp *u, int i, struct lyra_skb *skb, tcp_seq_t seq, uint32_t len);
long tcp_rcvq_recv(struct tcp *u, int i, const struct lyra_iov *iov, unsigned iovcnt, int flags);
/* The next in-order piece lent in place (l4 1.3 recv_loan): its length,
 * -EAGAIN when nothing is queued. The bytes leave the queue as if read. */
long tcp_rcvq_loan(struct tcp *u, int i, struct lyra_l4_loan *ln);
void tcp_rcvq_purge(struct tcp *u, int i);

/* tcp_timer.c */
void tcp_timer_fn(void *ctx, struct lyra_timer *t);
/* Sets kind k at now + ms and re-arms the os timer. */
void tcp_timer_set(struct tcp *u, int i, enum tcp_timer_kind k, uint32_t ms);
void tcp_timer_clear(struct tcp *u, int i, enum tcp_timer_kind k);
/* Every kind disarmed and the os timer cancelled (the connection ends). */
void tcp_timer_stop(struct tcp *u, int i);
/* Re-arms the retransmission timer after an ACK (RFC 6298 5.2, 5.3). */
void tcp_timer_rtx_restart(struct tcp *u, int i);
void tcp_timer_keep_restart(struct tcp *u, int i);

/* tcp_input.c */
/* Sets up a connection's sequence space, MSS and window shift before its
 * SYN (addresses and ports set). */
void tcp_conn_prepare(struct tcp *u, int i);
/* Our MSS toward raddr: the route's MTU less 40, the mss parameter and
 * TCP_MAXSEG (maxseg, 0: none). */
uint16_t tcp_our_mss(struct tcp *u, uint32_t raddr, uint16_t maxseg);
/* Options of the peer's SYN (or SYN-ACK) into the connection. */
void tcp_syn_options(struct tcp *u, int i, const struct tcp_repr *r);
extern const struct lyra_l3_events tcp_l3_events;

/* tcp_listen.c: a segment for listener l (RFC 9293 3.10.7.2). Returns the
 * connection it now belongs to (the final ACK of a SYN cookie made it, in
 * SYN_RCVD: the caller processes the segment there), or -1 when it is
 * done with. */
int tcp_listen_input(struct tcp *u, int l, const struct tcp_repr *r,
                     const struct lyra_l3_rxinfo *info);
/* tcp_icmp.c */
/* l3 event: an ICMP error quoting one of our segments (RFC 1122 4.2.3.9,
 * RFC 5927, RFC 1191). */
void tcp_icmp_error(void *user, const struct lyra_l3_icmp_err *err);
/* IPv4 and TCP headers without options (RFC 9293 3.7.1: MSS = MTU - 40) */
#define TCP_IP_HDRS 40u
/* The send MSS of connection c over a path of MTU mtu: the handshake's
 * (mss_clamp) or less, options of every segment (timestamps) out. Inline:
 * emit asks it of every segment. */
static inline uint16_t tcp_mss_for_mtu(const struct tcp_cb *c, uint32_t mtu)
{
    /* the timestamps' 12 bytes are in every segment once negotiated; SACK
     * blocks take their room from the payload (tcp_xmit_data) */
    uint32_t optb = tcp_ts_len(c);
    uint32_t m = mtu > TCP_IP_HDRS + optb + 64 ? mtu - TCP_IP_HDRS - optb : 64;
    return (uint16_t)(m < c->mss_clamp ? m : c->mss_clamp);
}
/* c's send MSS becomes mss (and congestion control's SMSS with it). */
void tcp_mss_set(struct tcp_cb *c, uint16_t mss);

/* tcp_ep.c */
extern const struct lyra_l4_ops tcp_l4_ops;
int tcp_l4_attach(void *self, const void *events, void *user);
void tcp_info_fill(struct tcp *u, int i, struct lyra_tcp_info *ti);

#endif
