/* The Internet checksum (RFC 1071), for every layer and device model that
 * computes or checks one: sum 16-bit big-endian words, fold the carries.
 *
 * Fast and portable C (issue 11.4): the words are summed as the machine
 * loads them, 8 bytes at a time into a 64-bit accumulator on 64-bit
 * machines (the carries out of it counted apart), 4 at a time into a
 * 64-bit accumulator on 32-bit ones (Cortex-M4: adds/adc), and the folded
 * result is byte-swapped on a little-endian machine: RFC 1071 2(B), the sum
 * in one byte order is the byte swap of the sum in the other. Loads go
 * through memcpy, so any alignment is fine (one load where the machine
 * allows unaligned ones, x86 and Cortex-M4). lyra_csum_copy sums what it
 * copies: the one pass a sender's copy into the stack makes (skb_copy's
 * add_data), so no later layer reads those bytes again to sum them. LYRA_CSUM_WORD32 (tests) takes the 32-bit path on any machine. */
#ifndef LYRA_INET_CSUM_H
#define LYRA_INET_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Folds carries into 16 bits; a correct packet folds to 0xffff, and the
 * checksum to store is the complement. */
static inline uint16_t lyra_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* 1 on a big-endian machine (a constant the compiler folds). */
static inline int lyra_csum_host_be(void)
{
    const union {
        uint16_t u;
        uint8_t b[2];
    } x = {0x0102};
    return x.b[0] == 1;
}

/* A 16-bit sum as the machine loaded it, in network order (or back). */
static inline uint16_t lyra_csum_ne_to_be(uint16_t s)
{
    return lyra_csum_host_be() ? s : (uint16_t)(s << 8 | s >> 8);
}

/* Folds a 64-bit ones'-complement accumulator (plus carries out of it)
 * to 16 bits; never 0 unless every word was. */
static inline uint16_t lyra_csum_fold64(uint64_t acc, uint64_t carry)
{
    uint64_t s = (acc & 0xffffffffu) + (acc >> 32) + carry; /* < 2^34 */
    s = (s & 0xffffffffu) + (s >> 32);
    return lyra_csum_fold((uint32_t)(s & 0xffffffffu) + (uint32_t)(s >> 32));
}

/* The body of lyra_csum_add and lyra_csum_copy: len bytes at src, their
 * 16-bit words summed as the machine loads them; an odd last byte counts
 * as a word with a zero second byte. dst: NULL, or (on the 32-bit path
 * only) where the bytes are copied in the same loop. Returns the folded
 * sum in the machine's order. */
static inline uint16_t lyra_csum_ne(void *dst, const void *src, size_t len)
{
    const uint8_t *b = (const uint8_t *)src;
    uint8_t *d = (uint8_t *)dst;
    uint64_t acc = 0, carry = 0;
#if UINTPTR_MAX > 0xffffffffu && !defined(LYRA_CSUM_WORD32)
    /* 64-bit words; 2^64 = 1 in ones'-complement arithmetic, so each
     * carry out of acc is a 1 added later */
    while (len >= 32) {
        uint64_t w0, w1, w2, w3; /* apart, not an array: kept in registers */
        memcpy(&w0, b, 8);
        memcpy(&w1, b + 8, 8);
        memcpy(&w2, b + 16, 8);
        memcpy(&w3, b + 24, 8);
        acc += w0;
        carry += acc < w0;
        acc += w1;
        carry += acc < w1;
        acc += w2;
        carry += acc < w2;
        acc += w3;
        carry += acc < w3;
        b += 32;
        len -= 32;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        acc += w;
        carry += acc < w;
        b += 8;
        len -= 8;
    }
#else
    /* 32-bit words into 64 bits: no carry is lost below 2^32 words */
    while (len >= 16) {
        uint32_t w0, w1, w2, w3;
        memcpy(&w0, b, 4);
        memcpy(&w1, b + 4, 4);
        memcpy(&w2, b + 8, 4);
        memcpy(&w3, b + 12, 4);
        if (d) {
            memcpy(d, &w0, 4);
            memcpy(d + 4, &w1, 4);
            memcpy(d + 8, &w2, 4);
            memcpy(d + 12, &w3, 4);
            d += 16;
        }
        acc += (uint64_t)w0 + w1 + w2 + w3;
        b += 16;
        len -= 16;
    }
#endif
    /* the last words apart: acc may be full on the 64-bit path */
    uint64_t tail = 0;
    while (len >= 2) {
        uint16_t h;
        memcpy(&h, b, 2);
        if (d) {
            memcpy(d, &h, 2);
            d += 2;
        }
        tail += h;
        b += 2;
        len -= 2;
    }
    if (len) {
        uint8_t last[2] = {b[0], 0};
        uint16_t h;
        memcpy(&h, last, 2);
        if (d)
            d[0] = b[0];
        tail += h;
    }
    return lyra_csum_fold64(acc, carry + tail);
}

/* Adds len bytes at p to a running sum (an odd last byte is the high half
 * of a word); fold the result with lyra_csum_fold. Any length. */
static inline uint32_t lyra_csum_add(const void *p, size_t len, uint32_t sum)
{
    return sum + lyra_csum_ne_to_be(lyra_csum_ne(NULL, p, len));
}

/* Copies len bytes from src to dst (they must not overlap) and returns
 * their sum folded to 16 bits, in network order: lyra_csum_fold(
 * lyra_csum_add(src, len, 0)), in the copy's pass. On 64-bit machines
 * that is the C library's copy, then the sum over the bytes it just read
 * (still in the first-level cache): 0.55 instructions per byte, where a
 * loop in C that loads, stores and adds each word takes 0.69 (gcc -O3,
 * x86-64: memcpy moves 32 bytes per vector load and store; bench/results/
 * ipb.md). On 32-bit ones (Cortex-M4, no vector moves) one loop loads each
 * word once, stores it and adds it. dst NULL: no copy, the sum only (so
 * one out-of-line instance can serve a caller that copies and one that
 * only sums, where code size counts: skb_fill_csum). */
static inline uint16_t lyra_csum_copy(void *dst, const void *src, size_t len)
{
#if UINTPTR_MAX > 0xffffffffu && !defined(LYRA_CSUM_WORD32)
    if (dst && len)
        memcpy(dst, src, len);
    return lyra_csum_ne_to_be(lyra_csum_ne(NULL, src, len));
#else
    return lyra_csum_ne_to_be(lyra_csum_ne(dst, src, len));
#endif
}

/* Adds the folded sum `part` of a block that starts `at` bytes into the
 * range being summed: a block at an odd offset has its bytes in the other
 * half of each word, so its sum is byte-swapped (RFC 1071 2(B)). */
static inline uint32_t lyra_csum_block(uint32_t sum, uint16_t part, uint32_t at)
{
    if (at & 1)
        part = (uint16_t)(part << 8 | part >> 8);
    return lyra_csum_fold(sum + part);
}

#endif
