/* ICMP messages on the wire (RFC 792): a checked view of a received
 * message, the parse of the datagram an error quotes, and builders.
 *
 * Untrusted input: icmp_view_init() checks the length once (the 8-byte
 * header); the checksum over the whole message is icmp_view_csum_ok().
 * icmp_quote_parse() checks the quoted IP header of an error message the
 * same way before reading it. No state, no I/O. */
#ifndef LYRA_ICMP_WIRE_H
#define LYRA_ICMP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipv4_wire.h"
#include "lyra/l3.h"

#define ICMP_HDR_LEN 8

/* Types (RFC 792) and the codes ip sends. */
#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12

#define ICMP_CODE_HOST_UNREACH 1
#define ICMP_CODE_PROTO_UNREACH 2
#define ICMP_CODE_PORT_UNREACH 3
#define ICMP_CODE_FRAG_NEEDED 4
#define ICMP_CODE_REASS_TIME 1 /* time exceeded: fragment reassembly */

/* RFC 1122 section 3.2.2: the error messages (never sent about each other). */
static inline bool icmp_type_is_error(uint8_t t)
{
    return t == ICMP_DEST_UNREACH || t == ICMP_SOURCE_QUENCH || t == ICMP_REDIRECT ||
           t == ICMP_TIME_EXCEEDED || t == ICMP_PARAM_PROBLEM;
}

struct icmp_view {
    const uint8_t *p;
    size_t len; /* the whole message */
};

/* 0, or -EBADMSG when shorter than the 8-byte header. */
int icmp_view_init(struct icmp_view *v, const uint8_t *buf, size_t len);

static inline uint8_t icmp_view_type(const struct icmp_view *v)
{
    return v->p[0];
}

static inline uint8_t icmp_view_code(const struct icmp_view *v)
{
    return v->p[1];
}

/* Echo and echo reply: identifier and sequence number. */
static inline uint16_t icmp_view_id(const struct icmp_view *v)
{
    return ip_ld16(v->p + 4);
}

static inline uint16_t icmp_view_seq(const struct icmp_view *v)
{
    return ip_ld16(v->p + 6);
}

/* Destination unreachable code 4: next-hop MTU (RFC 1191 section 4). */
static inline uint16_t icmp_view_mtu(const struct icmp_view *v)
{
    return ip_ld16(v->p + 6);
}

static inline const uint8_t *icmp_view_body(const struct icmp_view *v)
{
    return v->p + ICMP_HDR_LEN;
}

static inline size_t icmp_view_body_len(const struct icmp_view *v)
{
    return v->len - ICMP_HDR_LEN;
}

bool icmp_view_csum_ok(const struct icmp_view *v);

/* Reads the datagram an error message quotes (RFC 792: its IP header and
 * at least 64 bits of its data) into err: addresses, protocol and the
 * first 8 transport bytes; type, code and mtu from the message. 0, or
 * -EBADMSG when the quote is not an IPv4 header followed by 8 bytes. */
int icmp_quote_parse(const struct icmp_view *v, struct lyra_l3_icmp_err *err);
/* The same read of a datagram's first qlen bytes (q: its IPv4 header);
 * type, code and mtu left 0. */
int icmp_datagram_parse(const uint8_t *q, size_t qlen, struct lyra_l3_icmp_err *err);

/* Writes the 8-byte header: type, code, zero checksum, then `rest` (the
 * second word: id/seq for echo, unused or next-hop MTU for errors). */
void icmp_hdr_emit(uint8_t *buf, uint8_t type, uint8_t code, uint32_t rest);

/* Sets the checksum of a message of len bytes. The message may be split in
 * two pieces (a header, then a body elsewhere): sum covers the body as
 * lyra_csum_add() returned it (0 when there is none), which requires the
 * header's length to be even. */
void icmp_set_csum(uint8_t *msg, size_t hdr_len, uint32_t body_sum);

#endif
