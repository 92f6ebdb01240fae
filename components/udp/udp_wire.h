/* The UDP header (RFC 768) and its checksum over the IPv4 pseudo header:
 * parsing and building, no state. */
#ifndef LYRA_UDP_WIRE_H
#define LYRA_UDP_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "lyra/skb.h"
#include "lyra/skb_csum.h"

#define UDP_HDR_LEN 8u
/* The largest payload: an IPv4 datagram is at most 65535 bytes, less a
 * 20-byte IP header and the UDP header. */
#define UDP_MAX_PAYLOAD 65507u
/* Offset of the checksum field in the header. */
#define UDP_CSUM_OFF 6u

struct udp_hdr {
    uint16_t sport, dport;
    uint16_t len; /* header and data */
    uint16_t csum; /* 0: the sender computed none (RFC 768) */
};

enum udp_parse_result {
    UDP_OK,
    UDP_E_SHORT, /* fewer than 8 bytes */
    UDP_E_LEN,   /* length field below 8 or beyond the bytes received */
};

/* Reads the header at p, of a datagram whose IP payload is avail bytes. */
enum udp_parse_result udp_hdr_parse(const uint8_t *p, uint32_t avail, struct udp_hdr *h);
/* Writes h at p (8 bytes). */
void udp_hdr_build(uint8_t *p, const struct udp_hdr *h);

static inline uint16_t udp_ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void udp_st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The pseudo header's sum (RFC 768: source, destination, zero, protocol
 * 17, UDP length), unfolded. */
uint32_t udp_pseudo_sum(uint32_t src, uint32_t dst, uint16_t udp_len);

/* The sum over the datagram's bytes, whatever pieces hold them, is
 * lyra_skb_csum (lyra/skb_csum.h). */

/* The value to store from a sum over pseudo header, header (checksum field
 * zero) and data: the complement, with 0 sent as 0xffff because 0 means
 * "no checksum" (RFC 768). */
static inline uint16_t udp_csum_final(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t c = (uint16_t)~sum;
    return c ? c : 0xffff;
}

/* A received sum (over pseudo header, header with its checksum, data) is
 * right when it folds to all ones. */
static inline bool udp_csum_ok(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

#endif
