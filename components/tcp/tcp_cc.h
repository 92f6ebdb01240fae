/* TCP congestion control behind an ops table (issue 10.1; CUBIC follows in
 * issue 11). The connection calls an algorithm at the events of RFC 5681
 * and reads cwnd and ssthresh; the algorithm keeps its state in struct
 * tcp_cc, which lives in the connection's control block (no allocation,
 * no global state). Everything is in bytes; sequence numbers only mark
 * where a recovery ends (RFC 6582 "recover"). No I/O: an op's return value
 * tells the connection what to send. */
#ifndef LYRA_TCP_CC_H
#define LYRA_TCP_CC_H

#include <stdint.h>

struct tcp_cc_ops;

struct tcp_cc {
    const struct tcp_cc_ops *ops;
    uint32_t cwnd, ssthresh; /* bytes */
    uint32_t smss;           /* sender maximum segment size */
    uint32_t recover;        /* RFC 6582: snd_nxt when recovery began (or at an RTO) */
    uint32_t ca_acked;       /* congestion avoidance: bytes acked toward the next SMSS */
    uint8_t in_recovery;     /* fast recovery (RFC 6582 3.2) */
    uint8_t recover_set;     /* recover holds a value (none before the first loss) */
    uint32_t priv[3];        /* for an algorithm that needs more (CUBIC) */
};

/* What an op asks the connection to do. */
#define TCP_CC_RETRANSMIT 1u /* send the first unacknowledged segment again now */

struct tcp_cc_ops {
    const char *name; /* TCP_CONGESTION */
    /* A new connection, or the MSS known at last (RFC 5681 3.1 IW). */
    void (*init)(struct tcp_cc *cc, uint32_t smss);
    /* An ACK that advanced snd_una by `acked` bytes to `snd_una`; `flight`:
     * bytes outstanding before it. */
    unsigned (*on_ack)(struct tcp_cc *cc, uint32_t acked, uint32_t snd_una, uint32_t flight);
    /* The `ndup`th duplicate ACK in a row (RFC 5681 2: no data, same ack,
     * same window, data outstanding). */
    unsigned (*on_dupack)(struct tcp_cc *cc, unsigned ndup, uint32_t snd_una, uint32_t snd_nxt,
                          uint32_t flight);
    /* The retransmission timer expired; `first`: for a segment not sent
     * again by the timer before (RFC 5681 3.1: only then does ssthresh
     * fall). */
    void (*on_rto)(struct tcp_cc *cc, uint32_t snd_nxt, uint32_t flight, int first);
    /* Sending again after an idle period longer than the RTO (RFC 5681 4.1). */
    void (*on_idle_restart)(struct tcp_cc *cc);
};

extern const struct tcp_cc_ops tcp_cc_newreno;

/* RFC 5681 3.1 (RFC 3390): the initial window for an SMSS. */
static inline uint32_t tcp_cc_initial_window(uint32_t smss)
{
    return smss > 2190 ? 2 * smss : smss > 1095 ? 3 * smss : 4 * smss;
}

#endif
