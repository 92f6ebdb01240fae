/* The TCP header on the wire (RFC 9293 3.1) and its options: parsing into
 * a representation, building from one, the checksum over the IPv4 pseudo
 * header. No state: what a field means for a connection is the state
 * machine's business (an MSS option on a non-SYN segment is parsed and
 * reported here; RFC 9293 3.7.1 says to ignore it, and that is decided
 * there).
 *
 * Every malformed header is rejected with its own enum tcp_parse_result
 * value (a caller counts drops by it); the parser reads nothing outside
 * the bytes it is given. */
#ifndef LYRA_TCP_WIRE_H
#define LYRA_TCP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp_seq.h"

#define TCP_HDR_LEN 20u  /* without options */
#define TCP_HDR_MAX 60u  /* data offset 15 words */
#define TCP_OPT_MAX 40u
#define TCP_CSUM_OFF 16u /* offset of the checksum field */
#define TCP_PROTO 6u     /* IPv4 protocol number */

/* Control bits, the header's byte 13 (RFC 9293 3.1; CWR and ECE are RFC
 * 3168's). */
#define TCP_FIN 0x01u
#define TCP_SYN 0x02u
#define TCP_RST 0x04u
#define TCP_PSH 0x08u
#define TCP_ACK 0x10u
#define TCP_URG 0x20u
#define TCP_ECE 0x40u
#define TCP_CWR 0x80u

/* Option kinds (RFC 9293 3.2; 3: RFC 7323 2; 4, 5: RFC 2018; 8: RFC 7323
 * 3). */
enum tcp_opt_kind {
    TCP_OPT_EOL = 0,
    TCP_OPT_NOP = 1,
    TCP_OPT_MSS = 2,
    TCP_OPT_WS = 3,
    TCP_OPT_SACK_PERM = 4,
    TCP_OPT_SACK = 5,
    TCP_OPT_TS = 8,
};

#define TCP_WS_MAX 14u     /* RFC 7323 2.3 */
#define TCP_SACK_MAX 4u    /* blocks in 40 option bytes (RFC 2018 3) */

/* Which options a header holds (tcp_hdr_opts.has) */
#define TCP_HAS_MSS 0x01u
#define TCP_HAS_WS 0x02u
#define TCP_HAS_SACK_PERM 0x04u
#define TCP_HAS_SACK 0x08u
#define TCP_HAS_TS 0x10u

/* Things about the options that are accepted but worth a counter
 * (tcp_hdr_opts.notes) */
#define TCP_NOTE_WS_CLAMPED 0x01u /* shift over 14, 14 used (RFC 7323 2.3) */
#define TCP_NOTE_UNKNOWN 0x02u    /* an unknown kind skipped by its length (RFC 9293 3.1) */
#define TCP_NOTE_DUP 0x04u        /* a known kind twice: the last one counts */

struct tcp_sack_block {
    tcp_seq_t left, right; /* RFC 2018 3: left edge, right edge (one past the end) */
};

struct tcp_hdr_opts {
    uint8_t has;    /* TCP_HAS_* */
    uint8_t notes;  /* TCP_NOTE_* (parsing only) */
    uint8_t ws;     /* shift count, at most 14 */
    uint8_t ws_raw; /* the shift as received (parsing only) */
    uint16_t mss;
    uint8_t nsack;  /* 1..4 when TCP_HAS_SACK */
    uint32_t tsval, tsecr;
    struct tcp_sack_block sack[TCP_SACK_MAX];
};

/* A segment's header, parsed or to build. */
struct tcp_repr {
    uint16_t sport, dport;
    tcp_seq_t seq, ack;
    uint8_t hlen;     /* header length in bytes, options included (data offset * 4) */
    uint8_t flags;    /* TCP_FIN ... TCP_CWR */
    uint8_t reserved; /* the 4 bits before the flags: sent 0, ignored when received (RFC 9293 3.1) */
    uint16_t window;  /* as on the wire, not scaled */
    uint16_t csum;
    uint16_t urg;     /* urgent pointer, meaningful with TCP_URG */
    uint16_t payload_off; /* from the header's start: hlen */
    uint32_t payload_len;
    struct tcp_hdr_opts opt;
};

/* Why a header is refused; TCP_OK is 0. */
enum tcp_parse_result {
    TCP_OK = 0,
    TCP_E_SHORT,        /* fewer than 20 bytes */
    TCP_E_DOFF_SMALL,   /* data offset below 5 words (RFC 9293 3.1) */
    TCP_E_DOFF_BEYOND,  /* the header is longer than the segment */
    TCP_E_OPT_TRUNC,    /* an option kind in the last byte, no room for its length */
    TCP_E_OPT_LEN,      /* an option length of 0 or 1 (RFC 9293 3.1 MUST-7) */
    TCP_E_OPT_OVERRUN,  /* an option running past the header's end */
    TCP_E_MSS_LEN,      /* MSS length not 4 */
    TCP_E_WS_LEN,       /* window scale length not 3 */
    TCP_E_SACK_PERM_LEN,/* SACK-permitted length not 2 */
    TCP_E_SACK_LEN,     /* SACK length not 2 + 8n with n in 1..4 */
    TCP_E_TS_LEN,       /* timestamps length not 10 */
    TCP_PARSE_NRESULTS
};

/* A short name for each result ("ok", "short", "doff_small", ...): the
 * counter names a caller reports. */
const char *tcp_parse_result_name(enum tcp_parse_result r);

/* Parses the segment at p, len bytes (the IP payload: header, options and
 * data). On TCP_OK, r holds every field; on an error, r's content is
 * unspecified. */
enum tcp_parse_result tcp_repr_parse(const uint8_t *p, uint32_t len, struct tcp_repr *r);

/* Parses the options area (the header's bytes 20 .. hlen) into o. */
enum tcp_parse_result tcp_opts_parse(const uint8_t *p, uint32_t len, struct tcp_hdr_opts *o);

/* Bytes the options of o take when built, a multiple of 4 (may exceed 40:
 * such a set cannot be built). Inline: asked several times per segment. */
static inline uint32_t tcp_opts_len(const struct tcp_hdr_opts *o)
{
    uint32_t n = 0;
    if (o->has & TCP_HAS_MSS)
        n += 4;
    if (o->has & TCP_HAS_TS)
        n += 12; /* with SACK-permitted in its NOP,NOP */
    else if (o->has & TCP_HAS_SACK_PERM)
        n += 4;
    if (o->has & TCP_HAS_WS)
        n += 4;
    if (o->has & TCP_HAS_SACK)
        n += 4 + 8u * o->nsack;
    return n;
}

/* Writes o's options at p in the order and padding Linux uses
 * (tcp_options_write): MSS; SACK-permitted and timestamps as 4,2,8,10 when
 * both, else NOP,NOP,TS or NOP,NOP,SACK-permitted; NOP,WS; NOP,NOP,SACK.
 * Returns the bytes written (tcp_opts_len(o)). */
uint32_t tcp_opts_build(uint8_t *p, const struct tcp_hdr_opts *o);

/* Builds r's header with r->opt's options at p (cap bytes) and returns its
 * length (20 + options, a multiple of 4), or 0 when the options exceed 40
 * bytes, a SACK count is outside 1..4, or cap is too small. r->hlen and
 * r->payload_* are ignored; the checksum field gets r->csum (tcp_csum_fill
 * sets it once the payload follows). */
uint32_t tcp_repr_build(uint8_t *p, uint32_t cap, const struct tcp_repr *r);

/* The checksum (RFC 9293 3.1: over the pseudo header of source, destination,
 * zero, protocol 6 and TCP length, then header and data). Addresses are
 * host-order IPv4. */

/* The pseudo header's sum, unfolded. */
uint32_t tcp_pseudo_sum(uint32_t src, uint32_t dst, uint32_t tcp_len);

/* A sum over pseudo header, header and data (with the checksum field as
 * received) is right when it folds to all ones. Callers whose data is
 * spread over pieces add each piece to the sum themselves. */
bool tcp_csum_sum_ok(uint32_t sum);

/* True when the segment at p (len bytes, contiguous) carries a right
 * checksum. */
bool tcp_csum_verify(const uint8_t *p, uint32_t len, uint32_t src, uint32_t dst);

/* Computes the checksum of the segment at p (len bytes, contiguous) and
 * stores it in the header's checksum field. */
void tcp_csum_fill(uint8_t *p, uint32_t len, uint32_t src, uint32_t dst);

static inline uint16_t tcp_ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t tcp_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void tcp_st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void tcp_st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
