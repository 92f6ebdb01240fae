/* tcp_fx: a fixture for the tcp state machine's black-box tests.
 *
 * The `tcp` component is wired to fake_l3 (192.0.2.2/24; it records what
 * tcp outputs and delivers what a test injects as ip would), fake_os (a
 * manual clock, a seeded RNG) and skb_copy, and driven only through its l4
 * ops, as smoltcp's socket tests drive a socket: segments in, segments out.
 *
 * The fixture plays the peer, 192.0.2.1. It keeps a small model of that
 * peer's side of one connection (its next sequence number, what it has
 * received from tcp in order, its window and options) so that a test can
 * say "the peer sends this" and "tcp must answer with that" in one line.
 * tcp's initial sequence number is never assumed: it is read from the SYN
 * or SYN-ACK tcp sends. Segments are built and parsed with tcp_wire.h.
 *
 * Every test ends with fx_down(): tcp stops, and no skb may be left out of
 * the pool, nothing freed twice, no os memory held. */
#ifndef LYRA_TEST_TCP_FX_H
#define LYRA_TEST_TCP_FX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fake_l3.h"
#include "lt.h"
#include "lyra/l3.h"
#include "lyra/l4.h"
#include "tcp_wire.h"

#define FX_US 0xC0000202u   /* 192.0.2.2: tcp's address (fake_l3's default) */
#define FX_PEER 0xC0000201u /* 192.0.2.1: the peer the fixture plays */
#define FX_PEER2 0xC0000203u /* 192.0.2.3: a second peer */
#define FX_LPORT 80u        /* the port tcp listens on in passive tests */
#define FX_PPORT 40000u     /* the peer's port */
#define FX_RPORT 80u        /* the port tcp connects to in active tests */

/* true in the *_split executables: the skb is fake_skb_split, payload in
 * pieces of at most 64 bytes (a variable, not LT_SKB_SPLIT: only tcp_fx.c is
 * built twice; the topic files are compiled once for both) */
extern const bool fx_skb_split;

#define FX_ANY (-1LL) /* fx_expect: do not check this field */
#define FX_MAX_EP 64

/* A segment tcp sent, parsed (payload copied). */
struct fx_seg {
    struct tcp_repr r;
    uint32_t seq, ack; /* r.seq.v, r.ack.v */
    uint8_t flags;
    uint32_t win;      /* the window in bytes: scaled when negotiated, not on a SYN */
    uint32_t len;      /* payload bytes */
    uint32_t dst;
    uint8_t ttl, tos; /* as handed to ip (ttl 0: ip's default) */
    int df;           /* as handed to ip: don't fragment (RFC 1191) */
    uint32_t ip_len;  /* the IPv4 datagram's length it makes (a 20-byte header) */
    uint8_t data[FAKE_L3_OUT_BYTES];
};

/* Options the peer puts in its SYN or SYN-ACK. */
struct fx_popt {
    uint16_t mss;   /* 0: no MSS option */
    int ws;         /* -1: no window scale option, else the shift */
    bool sack_perm; /* SACK-permitted */
    bool ts;        /* timestamps */
};

struct fx {
    struct lt_inst *os, *skb, *l3, *tcp;
    const struct lyra_l4_ops *l4;
    void *t, *fl, *fos;
    struct fake_l3_cfg *cfg;
    unsigned rd; /* next fake_l3 output to read */
    bool sndq_big; /* tcp was given sndq_skb_max (fx_sndq_by_write) */

    /* ready events (l4 1.1), by cookie: endpoint h has cookie h + 1 */
    unsigned nready;
    unsigned ready_what[FX_MAX_EP + 1];

    /* the connection under test, from the peer's side */
    int h;              /* tcp's endpoint for it (-1: none) */
    int lh;             /* a listener (-1: none) */
    uint32_t peer;      /* the peer's address (FX_PEER) */
    uint16_t lport;     /* tcp's port */
    uint16_t pport;     /* the peer's port */
    uint32_t p_iss;     /* the peer's initial sequence number */
    uint32_t p_nxt;     /* the next sequence number the peer sends */
    uint32_t p_rcv;     /* what the peer received from tcp in order (its RCV.NXT) */
    uint32_t t_iss;     /* tcp's initial sequence number, read from its SYN */
    uint32_t p_win;     /* the window the peer advertises, in bytes */
    struct fx_popt popt;
    /* negotiated, as the fixture saw it */
    bool ws_on, ts_on, sack_on;
    uint8_t t_ws;        /* the shift tcp announced */
    uint16_t t_mss;      /* the MSS tcp announced (0: none) */
    uint32_t t_syn_wnd;  /* the window of tcp's SYN or SYN-ACK */
    bool t_sent_ws, t_sent_ts, t_sent_sackp;
    uint32_t p_tsval;    /* the peer's clock for TSval */
    uint32_t t_tsval;    /* the last TSval tcp sent (the peer's TS.Recent) */
    bool t_ts_seen;
    int hold; /* fx_batch_begin: segments wait for fx_batch_end */
};

/* ----- lifecycle ----------------------------------------------------------- */

/* tcp with these parameters (NULL-terminated "name=value" list, or NULL). */
void fx_up(struct fx *f, const char *const *tcp_params);
/* ... and fake_l3 with these. */
void fx_up2(struct fx *f, const char *const *tcp_params, const char *const *l3_params);
/* tcp queues a write as skbs of many segments (the *_nicsum builds: the
 * route's NIC sums TCP and tcp has sndq_skb_max), where otherwise it
 * queues an skb a segment; a test whose segment lengths follow the
 * queue's skbs (a smaller path MTU cutting them) expects accordingly
 * (tcp_sndq.c). */
bool fx_sndq_by_write(const struct fx *f);
/* The skb provider's buffers out now (fake_skb_split's chunks too). */
uint64_t fx_skb_in_use(struct fx *f);
/* Stops tcp and checks that nothing leaked. */
void fx_down(struct fx *f);

/* Runs tcp's poll step until it has nothing to do (if it has one). */
void fx_run(struct fx *f);
/* Segments sent between these two reach tcp as one receive batch (one
 * poll step's frames): tcp answers after the last (RFC 9293 MUST-59). */
void fx_batch_begin(struct fx *f);
void fx_batch_end(struct fx *f);
/* Moves the clock forward, running timers. */
void fx_ms(struct fx *f, uint64_t ms);
uint64_t fx_now_ms(struct fx *f);

/* ----- what tcp sent ------------------------------------------------------- */

/* The next segment tcp sent, if any (checked: TCP, from FX_US, valid
 * checksum, parses). Updates the peer model: an in-order segment moves
 * p_rcv; a TSval is remembered for the peer to echo. */
bool fx_next(struct fx *f, struct fx_seg *s);
/* Fails unless tcp sent nothing more. */
void fx_expect_none_at(struct fx *f, const char *file, int line);
#define fx_expect_none(f) fx_expect_none_at((f), __FILE__, __LINE__)
/* The next segment, which must be there with exactly these flags (PSH is
 * not compared) and, unless FX_ANY, this seq and ack (ack checked only when
 * the segment carries ACK). */
void fx_expect_at(struct fx *f, struct fx_seg *s, unsigned flags, long long seq, long long ack,
                  const char *file, int line);
#define fx_expect(f, s, fl, seq, ack) fx_expect_at((f), (s), (fl), (seq), (ack), __FILE__, __LINE__)
/* Advances the clock 1 ms at a time until tcp sends something, at most
 * max_ms; returns the ms waited (fails if nothing came). */
uint64_t fx_wait_at(struct fx *f, uint64_t max_ms, struct fx_seg *s, const char *file, int line);
#define fx_wait(f, max, s) fx_wait_at((f), (max), (s), __FILE__, __LINE__)
/* As fx_wait, returning UINT64_MAX when nothing came within max_ms. */
uint64_t fx_wait_maybe(struct fx *f, uint64_t max_ms, struct fx_seg *s);
/* Advances the clock ms, then returns the last segment tcp sent by then
 * (fails if none): "the acknowledgment", whatever delayed or window-update
 * ACKs came before it. */
void fx_last_at(struct fx *f, uint64_t ms, struct fx_seg *s, const char *file, int line);
#define fx_last(f, ms, s) fx_last_at((f), (ms), (s), __FILE__, __LINE__)
/* Reads and drops every segment tcp has sent; returns how many. */
unsigned fx_drain(struct fx *f);
/* Reads every segment tcp has sent, concatenating payloads into buf (at
 * most cap bytes); returns payload bytes, *nseg the segment count. */
uint32_t fx_collect(struct fx *f, uint8_t *buf, uint32_t cap, unsigned *nseg);

/* ----- what the peer sends ------------------------------------------------- */

/* A raw segment: every field given. */
struct fx_tx {
    uint32_t src, dst; /* 0: FX_PEER, FX_US */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win; /* the field as sent */
    uint16_t urg;
    struct tcp_hdr_opts opt;
    const void *data;
    uint32_t len;
    bool bad_csum;
    const uint8_t *raw_opt; /* bytes appended after opt's options (a multiple of 4) */
    uint8_t raw_opt_len;
    uint8_t l3_flags; /* rxinfo.flags (LYRA_L3_F_BCAST, _MCAST) */
};
void fx_tx(struct fx *f, const struct fx_tx *t);

/* From the peer of the connection under test: seq = p_nxt, ack = p_rcv,
 * window p_win (scaled when negotiated), timestamps when negotiated. p_nxt
 * moves by the data and SYN/FIN. */
void fx_send(struct fx *f, unsigned flags, const void *data, uint32_t len);
/* n segments of seglen bytes from data, the first at seq, delivered as one
 * run (l3 2.3, skb 2.6 LYRA_SKB_F_GRO) as a coalescing NIC and ip hand it
 * up: one header but for the sequence number (ACK p_rcv, window p_win,
 * one timestamp). p_nxt moves to the run's end if that is beyond it. */
#define FX_RUN_MAX 8
void fx_send_run(struct fx *f, uint32_t seq, const uint8_t *data, uint32_t seglen, unsigned n);
/* The same with the seq and ack given (the model does not move). */
void fx_send_sa(struct fx *f, unsigned flags, uint32_t seq, uint32_t ack, const void *data,
                uint32_t len);
/* The same with options added (SACK blocks, a TSval of the test's own:
 * TCP_HAS_TS in extra replaces the automatic one). */
void fx_send_opt(struct fx *f, unsigned flags, uint32_t seq, uint32_t ack, const void *data,
                 uint32_t len, const struct tcp_hdr_opts *extra);
/* The same with option bytes of the test's own appended (a multiple of 4). */
void fx_send_raw_opt(struct fx *f, unsigned flags, uint32_t seq, uint32_t ack, const void *data,
                     uint32_t len, const struct tcp_hdr_opts *extra, const uint8_t *raw,
                     uint8_t raw_len);
/* A bare ACK of everything received (p_rcv). */
void fx_ack(struct fx *f);
/* A bare ACK of `ack`. */
void fx_ack_to(struct fx *f, uint32_t ack);
/* A window update: p_win = win, then a bare ACK. */
void fx_ack_win(struct fx *f, uint32_t ack, uint32_t win);

/* ----- connections ------------------------------------------------------- */

int fx_open(struct fx *f);
/* open + connect to FX_PEER:FX_RPORT; reads the SYN (checked), records
 * t_iss, lport and tcp's options. Returns the endpoint (also f->h). */
int fx_connect(struct fx *f, struct fx_seg *syn);
/* The peer answers the SYN with a SYN-ACK carrying f->popt (p_iss chosen
 * by the fixture); negotiation recorded. Does not read tcp's answer. */
void fx_synack(struct fx *f);
/* connect, SYN-ACK, tcp's ACK checked, poll OUT: established. */
int fx_active(struct fx *f);
/* The same with the SYN-ACK rtt_ms after the SYN (an RTT sample). */
int fx_active_rtt(struct fx *f, uint64_t rtt_ms);
/* open, bind to port, listen. */
int fx_listen(struct fx *f, uint16_t port, int backlog);
/* The peer sends a SYN with f->popt to f->lport from f->pport; reads the
 * SYN-ACK (checked), records t_iss and tcp's options. */
void fx_syn(struct fx *f, struct fx_seg *synack);
/* listen on FX_LPORT, SYN, SYN-ACK, ACK, accept: established. Returns the
 * accepted endpoint (also f->h). */
int fx_passive(struct fx *f);

/* ----- l4 calls ------------------------------------------------------------ */

long fx_write(struct fx *f, int h, const void *buf, size_t len);
long fx_read(struct fx *f, int h, void *buf, size_t cap);
long fx_read_flags(struct fx *f, int h, void *buf, size_t cap, int flags);
unsigned fx_poll(struct fx *f, int h);
int fx_setopt(struct fx *f, int h, int opt, int val);
int fx_getopt(struct fx *f, int h, int opt);
/* SO_ERROR (positive errno, cleared) */
int fx_soerror(struct fx *f, int h);
/* TCP_INFO's state (enum lyra_tcp_state); fails if TCP_INFO is refused. */
int fx_state(struct fx *f, int h);
void fx_info(struct fx *f, int h, struct lyra_tcp_info *ti);
int fx_shutdown(struct fx *f, int h, int how);
void fx_close(struct fx *f, int h);

/* Fills b with n pattern bytes starting at stream offset off. */
void fx_pattern(uint8_t *b, uint32_t n, uint32_t off);
/* Is the connection's 4-tuple gone from tcp? The peer sends a bare ACK
 * (seq p_nxt, ack p_rcv) and tcp must answer RST <SEQ=SEG.ACK> (RFC 9293
 * 3.10.7.1: a segment for a connection that does not exist). */
void fx_expect_gone_at(struct fx *f, const char *file, int line);
#define fx_expect_gone(f) fx_expect_gone_at((f), __FILE__, __LINE__)

#define FX_P(...) ((const char *const[]){__VA_ARGS__, NULL})

#endif
