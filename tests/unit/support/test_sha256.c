/* tests/support's SHA-256 against FIPS 180-2's examples (Appendix B: "abc",
 * the 448-bit message, a million 'a'), the 896-bit message of NIST's
 * examples, SHAVS short messages (1 and 2 bytes), the empty message, the
 * lengths around the padding boundaries (55/56, 63/64, 119/120 bytes: one
 * or two padding blocks), and the same digest however the message is cut
 * into update() calls. The references come from the documents above, the
 * boundary ones from Python's hashlib. */
#include <criterion/criterion.h>
#include <string.h>

#include "sha256.h"

static void expect_digest(const void *m, size_t len, const char *want, const char *what)
{
    uint8_t d[SHA256_DIGEST_LEN];
    char hex[SHA256_HEX_LEN];
    sha256(m, len, d);
    cr_expect_str_eq(sha256_hex(d, hex), want, "%s (%zu bytes)", what, len);
}

Test(sha256, fips_180_examples)
{
    expect_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                  "FIPS 180-2 B.1 one block");
    const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    expect_digest(m2, strlen(m2), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                  "FIPS 180-2 B.2 two blocks");
    const char *m3 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklm"
                     "nopqrlmnopqrsmnopqrstnopqrstu";
    expect_digest(m3, strlen(m3), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
                  "NIST example, 896 bits");
    expect_digest("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                  "empty message");
    expect_digest("\xd3", 1, "28969cdfa74a12c82f3bad960b0b000aca2ac329deea5c2328ebc6f2ba9802c1",
                  "SHAVS Len=8");
    expect_digest("\x11\xaf", 2, "5ca7133fa735326081558ac312c620eeca9970d1e70a4b95533d956f072d1f98",
                  "SHAVS Len=16");
}

Test(sha256, a_million_a_fed_in_uneven_pieces)
{
    static char a[1000000];
    memset(a, 'a', sizeof(a));
    const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    expect_digest(a, sizeof(a), want, "FIPS 180-2 B.3 in one call");
    /* pieces of 1, 7, 63, 64, 65, 1000, ... bytes: the partial block carries over */
    static const size_t cut[] = {1, 7, 63, 64, 65, 1000, 4093};
    struct sha256 c;
    sha256_init(&c);
    size_t off = 0;
    for (unsigned i = 0; off < sizeof(a); i++) {
        size_t n = cut[i % 7];
        if (n > sizeof(a) - off)
            n = sizeof(a) - off;
        sha256_update(&c, a + off, n);
        off += n;
    }
    uint8_t d[SHA256_DIGEST_LEN];
    char hex[SHA256_HEX_LEN];
    sha256_final(&c, d);
    cr_expect_str_eq(sha256_hex(d, hex), want, "B.3 in pieces");
}

Test(sha256, padding_boundaries)
{
    static const struct {
        size_t len;
        const char *want;
    } v[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
    };
    char a[128];
    memset(a, 'a', sizeof(a));
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        expect_digest(a, v[i].len, v[i].want, "'a' repeated");
}

Test(sha256, every_split_of_a_message_gives_one_digest)
{
    uint8_t m[1000];
    for (unsigned i = 0; i < sizeof(m); i++)
        m[i] = (uint8_t)(i * 131u + 7u);
    const char *want = "533b698850849b7908b20a22658f639c0b2a476f1791f85f50188287c31a9aba";
    expect_digest(m, sizeof(m), want, "pattern");
    for (size_t at = 0; at <= sizeof(m); at++) {
        struct sha256 c;
        sha256_init(&c);
        sha256_update(&c, m, at);
        sha256_update(&c, m + at, 0); /* an empty piece changes nothing */
        sha256_update(&c, m + at, sizeof(m) - at);
        uint8_t d[SHA256_DIGEST_LEN];
        char hex[SHA256_HEX_LEN];
        sha256_final(&c, d);
        cr_assert_str_eq(sha256_hex(d, hex), want, "cut at %zu", at);
        /* final leaves the context ready for another message */
        sha256_update(&c, "abc", 3);
        sha256_final(&c, d);
        cr_assert_str_eq(sha256_hex(d, hex),
                         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
