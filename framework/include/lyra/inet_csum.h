/* The Internet checksum (RFC 1071), for every layer and device model that
 * computes or checks one: sum 16-bit big-endian words, fold the carries.
 * Plain and portable; a faster version (64-bit adds, as notes/measuring.md
 * measures) can replace this body without changing callers. */
#ifndef LYRA_INET_CSUM_H
#define LYRA_INET_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds len bytes at p to a running sum (an odd last byte is the high half
 * of a word). Good for up to 64 KiB per call on a fresh sum. */
static inline uint32_t lyra_csum_add(const void *p, size_t len, uint32_t sum)
{
    const uint8_t *b = (const uint8_t *)p;
    for (; len > 1; b += 2, len -= 2)
        sum += (uint32_t)(b[0] << 8 | b[1]);
    if (len)
        sum += (uint32_t)b[0] << 8;
    return sum;
}

/* Folds carries into 16 bits; a correct packet folds to 0xffff, and the
 * checksum to store is the complement. */
static inline uint16_t lyra_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

#endif
