/* TCP congestion control (issue 10.1, 11.1). Two layers:
 * - tcp_cc.c, the part every algorithm shares: slow start (RFC 5681 3.1
 *   with RFC 3465 byte counting), fast retransmit and recovery (NewReno,
 *   RFC 5681 3.2 and RFC 6582, when SACK was not negotiated; RFC 6675's
 *   entry and exit when it was: the connection's scoreboard then chooses
 *   what to send), the retransmission timeout and the idle restart;
 * - an algorithm behind struct tcp_cc_ops, which gives only what differs:
 *   ssthresh at a congestion event and cwnd's growth in congestion
 *   avoidance (NewReno: RFC 5681; CUBIC: RFC 9438), as Linux splits
 *   tcp_congestion_ops from tcp_input.
 * Everything is in bytes and milliseconds; sequence numbers only mark
 * where a recovery ends (RFC 6582 "recover"). The state lives in the
 * connection's control block (no allocation, no global state). No I/O:
 * a return value tells the connection what to send. */
#ifndef LYRA_TCP_CC_H
#define LYRA_TCP_CC_H

#include <stdint.h>

struct tcp_cc_ops;

struct tcp_cc {
    const struct tcp_cc_ops *ops;
    uint32_t cwnd, ssthresh; /* bytes */
    uint32_t smss;           /* sender maximum segment size */
    uint32_t recover;        /* RFC 6582: snd_nxt when recovery began (or at an RTO) */
    uint32_t ca_acked;       /* congestion avoidance: bytes acked toward the next increase */
    uint8_t in_recovery;     /* fast recovery (RFC 6582 3.2, RFC 6675 5) */
    uint8_t recover_set;     /* recover holds a value (none before the first loss) */
    uint8_t alg_flags;       /* the algorithm's */
    uint32_t priv[4];        /* the algorithm's state (CUBIC: W_max, K, epoch, W_est) */
};

/* What an op asks the connection to do. */
#define TCP_CC_RETRANSMIT 1u /* send the first unacknowledged segment again now */

/* What an ACK that advanced snd_una tells congestion control. */
struct tcp_cc_ack {
    uint32_t acked;   /* bytes snd_una advanced */
    uint32_t snd_una; /* after it */
    uint32_t flight;  /* bytes outstanding before it */
    uint32_t now_ms;  /* the connection's clock */
    uint32_t rtt_ms;  /* smoothed RTT, 0 before a sample */
    uint8_t sack;     /* RFC 6675 recovery runs: a partial ACK neither deflates
                       * nor retransmits (the scoreboard decides) */
};

/* An algorithm: what differs between NewReno and CUBIC. */
struct tcp_cc_ops {
    const char *name; /* TCP_CONGESTION */
    /* Its state (priv, alg_flags) for a new connection; may be NULL. */
    void (*init)(struct tcp_cc *cc);
    /* A congestion event (fast retransmit or SACK loss; `rto`: the
     * retransmission timer) with `flight` bytes outstanding: the new
     * ssthresh (tcp_cc.c raises it to 2 SMSS). cwnd is still what it was;
     * the algorithm may note it (CUBIC's W_max). */
    uint32_t (*ssthresh)(struct tcp_cc *cc, uint32_t flight, uint32_t now_ms, int rto);
    /* Congestion avoidance (cwnd >= ssthresh, not in recovery): grow cwnd
     * for `acked` bytes. */
    void (*cong_avoid)(struct tcp_cc *cc, uint32_t acked, uint32_t now_ms, uint32_t rtt_ms);
    /* Sending resumes after an idle period (RFC 5681 4.1); may be NULL. */
    void (*on_idle)(struct tcp_cc *cc, uint32_t now_ms);
};

extern const struct tcp_cc_ops tcp_cc_newreno;
extern const struct tcp_cc_ops tcp_cc_cubic;

/* RFC 5681 3.1 (RFC 3390): the initial window for an SMSS. */
static inline uint32_t tcp_cc_initial_window(uint32_t smss)
{
    return smss > 2190 ? 2 * smss : smss > 1095 ? 3 * smss : 4 * smss;
}

/* A new connection, or the MSS known at last (RFC 5681 3.1 IW); smss 0:
 * 536 (RFC 9293 3.7.1). */
void tcp_cc_init(struct tcp_cc *cc, const struct tcp_cc_ops *ops, uint32_t smss);
/* Another algorithm for a live connection: it starts from the windows there are. */
void tcp_cc_switch(struct tcp_cc *cc, const struct tcp_cc_ops *ops);
/* An ACK that advanced snd_una: growth, or recovery's partial and full
 * ACKs. TCP_CC_RETRANSMIT: an RFC 6582 partial ACK (a.sack == 0). */
unsigned tcp_cc_on_ack(struct tcp_cc *cc, const struct tcp_cc_ack *a);
/* The `ndup`th duplicate ACK in a row (RFC 5681 2), NewReno's recovery
 * (SACK not negotiated). TCP_CC_RETRANSMIT at the third. */
unsigned tcp_cc_on_dupack(struct tcp_cc *cc, unsigned ndup, uint32_t snd_una, uint32_t snd_nxt,
                          uint32_t flight, uint32_t now_ms);
/* May a loss detected at snd_una start a recovery? Not while the
 * duplicates are for data sent before the last recovery or timeout began:
 * NewReno (sack 0) once the ACK covers more than recover (RFC 6582 3.2
 * (2)); SACK recovery once it passes RecoveryPoint (RFC 6675 5), a byte
 * sooner: NewReno needs that byte because duplicates of what it resent
 * needlessly look like any others, while with SACK they carry no new SACK
 * information. Without it a loss of the first segment after a recovery
 * that ended exactly at its point waits for the timer (measured: about
 * twice the timeouts under 5% loss). */
int tcp_cc_may_recover(const struct tcp_cc *cc, uint32_t snd_una, int sack);
/* RFC 6675 5 (4.2): loss found by SACK or DupThresh: ssthresh = cwnd =
 * the algorithm's reduction, recover = snd_nxt - 1. */
void tcp_cc_enter_recovery(struct tcp_cc *cc, uint32_t snd_nxt, uint32_t flight, uint32_t now_ms);
/* The retransmission timer expired; `first`: for a segment not sent again
 * by the timer before (RFC 5681 3.1: only then does ssthresh fall). */
void tcp_cc_on_rto(struct tcp_cc *cc, uint32_t snd_nxt, uint32_t flight, int first,
                   uint32_t now_ms);
/* Sending again after an idle period longer than the RTO (RFC 5681 4.1). */
void tcp_cc_on_idle_restart(struct tcp_cc *cc, uint32_t now_ms);

#endif
