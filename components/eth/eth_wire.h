/* Ethernet II header on the wire: a checked view for received bytes and a
 * plain repr for building.
 *
 * Untrusted input: eth_view_init() checks the length once; after it returns
 * 0 no accessor can read outside the buffer. Output: fill a struct eth_repr
 * and eth_repr_emit() it into ETH_HDR_LEN bytes the caller owns.
 * Fields are read and written with the byte-order helpers below, never by
 * casting a struct over the bytes (alignment and padding are not ours to
 * assume on every target). No state, no I/O. */
#ifndef LYRA_ETH_WIRE_H
#define LYRA_ETH_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ETH_ALEN 6
#define ETH_HDR_LEN 14
/* Values below 0x0600 are an IEEE 802.3 length, not an ethertype
 * (IEEE 802.3 clause 3.2.6). */
#define ETH_TYPE_MIN 0x0600

/* Byte-order helpers: network order (big endian) to host and back. */
static inline uint16_t wire_ld16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t wire_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wire_st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void wire_st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* MAC address classes (IEEE 802: the I/G bit is bit 0 of the first octet). */
static inline bool eth_addr_is_bcast(const uint8_t a[ETH_ALEN])
{
    return (a[0] & a[1] & a[2] & a[3] & a[4] & a[5]) == 0xff;
}

static inline bool eth_addr_is_mcast(const uint8_t a[ETH_ALEN])
{
    return (a[0] & 1) != 0; /* broadcast included */
}

static inline bool eth_addr_eq(const uint8_t a[ETH_ALEN], const uint8_t b[ETH_ALEN])
{
    return memcmp(a, b, ETH_ALEN) == 0;
}

extern const uint8_t eth_addr_bcast[ETH_ALEN];

/* A received header, read in place. */
struct eth_view {
    const uint8_t *p;
    size_t len; /* whole frame, header included */
};

/* 0, or -EBADMSG when the frame is shorter than a header. */
int eth_view_init(struct eth_view *v, const uint8_t *buf, size_t len);

static inline const uint8_t *eth_view_dst(const struct eth_view *v)
{
    return v->p;
}

static inline const uint8_t *eth_view_src(const struct eth_view *v)
{
    return v->p + ETH_ALEN;
}

static inline uint16_t eth_view_type(const struct eth_view *v)
{
    return wire_ld16(v->p + 2 * ETH_ALEN);
}

static inline const uint8_t *eth_view_payload(const struct eth_view *v)
{
    return v->p + ETH_HDR_LEN;
}

static inline size_t eth_view_payload_len(const struct eth_view *v)
{
    return v->len - ETH_HDR_LEN;
}

/* Parsed form. */
struct eth_repr {
    uint8_t dst[ETH_ALEN];
    uint8_t src[ETH_ALEN];
    uint16_t type; /* host order */
};

/* Parses the header of an untrusted frame: 0 or -EBADMSG (too short). */
int eth_repr_parse(const uint8_t *buf, size_t len, struct eth_repr *out);
/* Writes the ETH_HDR_LEN header bytes at buf. */
void eth_repr_emit(const struct eth_repr *r, uint8_t *buf);

/* The MAC that carries an IPv4 multicast group: 01:00:5e and the group's
 * low 23 bits (RFC 1112 section 6.4). */
void eth_ipv4_mcast_mac(uint32_t group, uint8_t mac[ETH_ALEN]);

#endif
