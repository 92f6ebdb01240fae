/* SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): the keyed hash for values an off-path attacker must not predict,
 * such as TCP initial sequence numbers (RFC 6528) and ephemeral ports
 * (RFC 6056 3.3.3). The key is 16 bytes from os random; the message any
 * bytes. Stateless, header only. */
#ifndef LYRA_SIPHASH_H
#define LYRA_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t lyra_sip_rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static inline uint64_t lyra_sip_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

#define LYRA_SIPROUND(v0, v1, v2, v3)                                                              \
    do {                                                                                           \
        v0 += v1, v1 = lyra_sip_rotl(v1, 13), v1 ^= v0, v0 = lyra_sip_rotl(v0, 32);                \
        v2 += v3, v3 = lyra_sip_rotl(v3, 16), v3 ^= v2;                                            \
        v0 += v3, v3 = lyra_sip_rotl(v3, 21), v3 ^= v0;                                            \
        v2 += v1, v1 = lyra_sip_rotl(v1, 17), v1 ^= v2, v2 = lyra_sip_rotl(v2, 32);                \
    } while (0)

static inline uint64_t lyra_siphash24(const uint8_t key[16], const void *msg, size_t len)
{
    const uint8_t *m = (const uint8_t *)msg;
    uint64_t k0 = lyra_sip_le64(key), k1 = lyra_sip_le64(key + 8);
    uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w = lyra_sip_le64(m + i);
        v3 ^= w;
        LYRA_SIPROUND(v0, v1, v2, v3);
        LYRA_SIPROUND(v0, v1, v2, v3);
        v0 ^= w;
    }
    /* the last 0..7 bytes, with the length's low byte on top */
    uint64_t b = (uint64_t)len << 56;
    for (size_t j = 0; i + j < len; j++)
        b |= (uint64_t)m[i + j] << (8 * j);
    v3 ^= b;
    LYRA_SIPROUND(v0, v1, v2, v3);
    LYRA_SIPROUND(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    for (int r = 0; r < 4; r++)
        LYRA_SIPROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

#endif
