/* IPv4 header on the wire (RFC 791 section 3.1): a checked view for
 * received bytes and a plain repr for building.
 *
 * Untrusted input: ipv4_view_init() makes the one set of length checks
 * (buffer, version, IHL, total length); after it returns IPV4_OK no
 * accessor reads outside [p, p + total length). The header checksum is a
 * separate question (ipv4_view_csum_ok) so callers can count it apart.
 * Output: fill a struct ipv4_repr and ipv4_repr_emit() it into
 * IPV4_HDR_LEN bytes the caller owns (no options are ever emitted).
 * Fields are read and written with the byte-order helpers below, never by
 * casting a struct over the bytes. No state, no I/O. */
#ifndef LYRA_IPV4_WIRE_H
#define LYRA_IPV4_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPV4_HDR_LEN 20      /* without options */
#define IPV4_HDR_MAX 60      /* IHL 15 */
#define IPV4_MAX_LEN 65535   /* total length field */
#define IPV4_DF 0x4000       /* flags/fragment-offset word */
#define IPV4_MF 0x2000
#define IPV4_OFF_MASK 0x1fff /* in 8-byte units */

#define IPV4_BCAST 0xffffffffu

/* Byte-order helpers: network order (big endian) to host and back. */
static inline uint16_t ip_ld16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t ip_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void ip_st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void ip_st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Address classes (host order). */
static inline bool ipv4_is_mcast(uint32_t a)
{
    return (a >> 28) == 0xe; /* 224.0.0.0/4 (RFC 5771) */
}

static inline bool ipv4_is_class_e(uint32_t a)
{
    return (a >> 28) == 0xf; /* 240.0.0.0/4, 255.255.255.255 included */
}

static inline bool ipv4_is_loopback(uint32_t a)
{
    return (a >> 24) == 127;
}

static inline uint32_t ipv4_mask(unsigned plen)
{
    return plen == 0 ? 0 : plen >= 32 ? 0xffffffffu : ~(0xffffffffu >> plen);
}

/* What ipv4_view_init found wrong; one counter each in ip. */
enum ipv4_check {
    IPV4_OK = 0,
    IPV4_E_SHORT,   /* fewer than 20 bytes */
    IPV4_E_VERSION, /* version is not 4 */
    IPV4_E_HDRLEN,  /* IHL < 5, or the header runs past the buffer */
    IPV4_E_TOTLEN,  /* total length < IHL*4, or > the buffer */
};

/* A received header, read in place. */
struct ipv4_view {
    const uint8_t *p;
    size_t len; /* the datagram: total length, at most the buffer */
};

/* Checks buf[0..len) as an IPv4 datagram. On IPV4_OK, v->len is the total
 * length (bytes beyond it, e.g. Ethernet padding, are not the datagram's). */
enum ipv4_check ipv4_view_init(struct ipv4_view *v, const uint8_t *buf, size_t len);

static inline unsigned ipv4_view_hlen(const struct ipv4_view *v)
{
    return (unsigned)(v->p[0] & 0x0f) * 4;
}

static inline uint8_t ipv4_view_tos(const struct ipv4_view *v)
{
    return v->p[1];
}

static inline uint16_t ipv4_view_total_len(const struct ipv4_view *v)
{
    return ip_ld16(v->p + 2);
}

static inline uint16_t ipv4_view_id(const struct ipv4_view *v)
{
    return ip_ld16(v->p + 4);
}

static inline bool ipv4_view_df(const struct ipv4_view *v)
{
    return (ip_ld16(v->p + 6) & IPV4_DF) != 0;
}

static inline bool ipv4_view_mf(const struct ipv4_view *v)
{
    return (ip_ld16(v->p + 6) & IPV4_MF) != 0;
}

/* Fragment offset in bytes. */
static inline uint32_t ipv4_view_frag_off(const struct ipv4_view *v)
{
    return (uint32_t)(ip_ld16(v->p + 6) & IPV4_OFF_MASK) * 8;
}

static inline bool ipv4_view_is_frag(const struct ipv4_view *v)
{
    return (ip_ld16(v->p + 6) & (IPV4_MF | IPV4_OFF_MASK)) != 0;
}

static inline uint8_t ipv4_view_ttl(const struct ipv4_view *v)
{
    return v->p[8];
}

static inline uint8_t ipv4_view_proto(const struct ipv4_view *v)
{
    return v->p[9];
}

static inline uint16_t ipv4_view_csum(const struct ipv4_view *v)
{
    return ip_ld16(v->p + 10);
}

static inline uint32_t ipv4_view_src(const struct ipv4_view *v)
{
    return ip_ld32(v->p + 12);
}

static inline uint32_t ipv4_view_dst(const struct ipv4_view *v)
{
    return ip_ld32(v->p + 16);
}

static inline const uint8_t *ipv4_view_payload(const struct ipv4_view *v)
{
    return v->p + ipv4_view_hlen(v);
}

static inline size_t ipv4_view_payload_len(const struct ipv4_view *v)
{
    return v->len - ipv4_view_hlen(v);
}

/* The header checksum (options included) sums to 0xffff (RFC 791, RFC 1071). */
bool ipv4_view_csum_ok(const struct ipv4_view *v);

/* Parsed form, for building a header without options. */
struct ipv4_repr {
    uint32_t src, dst;   /* host order */
    uint8_t proto, ttl, tos;
    uint16_t id;
    bool df, mf;
    uint32_t frag_off;    /* bytes, a multiple of 8 */
    uint32_t payload_len; /* bytes after the header */
};

/* Writes the IPV4_HDR_LEN header bytes at buf, checksum included. The
 * caller keeps payload_len + 20 <= 65535 and frag_off < 65536. */
void ipv4_repr_emit(const struct ipv4_repr *r, uint8_t *buf);

/* Recomputes the checksum of a header of hlen bytes in place. */
void ipv4_hdr_set_csum(uint8_t *hdr, unsigned hlen);

#endif
