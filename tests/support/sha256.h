/* SHA-256 (FIPS 180-4, 6.2) for tests: a byte stream's digest, fed in
 * pieces of any size, so that what one stack sent and what the other
 * received can be compared without keeping either (tests/integration's
 * TCP transfers). Checked against the FIPS 180-2 / NIST example vectors
 * (tests/unit/support/test_sha256.c). Not constant-time; not for secrets. */
#ifndef LYRA_TEST_SHA256_H
#define LYRA_TEST_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_HEX_LEN (2 * SHA256_DIGEST_LEN + 1) /* with the NUL */

struct sha256 {
    uint32_t h[8];
    uint64_t bytes;      /* message length so far */
    uint8_t block[64];   /* a partial block */
    unsigned fill;       /* bytes of it held */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
/* Pads, writes the digest and leaves c to be initialised again. */
void sha256_final(struct sha256 *c, uint8_t out[SHA256_DIGEST_LEN]);
/* One call: the digest of data[0..len). */
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LEN]);
/* Lower-case hex of a digest, NUL-terminated; returns hex. */
char *sha256_hex(const uint8_t d[SHA256_DIGEST_LEN], char hex[SHA256_HEX_LEN]);

#endif
