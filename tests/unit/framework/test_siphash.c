/* SipHash-2-4 against the reference implementation's vectors (key 00..0f,
 * message 00..n-1): the first 17 of its 64, which cover every tail length
 * and a second full block. */
#include <criterion/criterion.h>

#include "lyra/siphash.h"

static const uint64_t want[17] = {
    0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull, 0x85676696d7fb7e2dull,
    0xcf2794e0277187b7ull, 0x18765564cd99a68dull, 0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull,
    0x93f5f5799a932462ull, 0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
    0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull, 0xa129ca6149be45e5ull,
    0x3f2acc7f57c29bdbull,
};

Test(siphash, reference_vectors)
{
    uint8_t key[16], msg[17];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 17; i++)
        msg[i] = (uint8_t)i;
    for (size_t n = 0; n < 17; n++)
        cr_assert_eq(lyra_siphash24(key, msg, n), want[n], "length %zu: %016llx", n,
                     (unsigned long long)lyra_siphash24(key, msg, n));
}

Test(siphash, the_key_changes_the_hash)
{
    uint8_t k1[16] = {0}, k2[16] = {0};
    k2[15] = 1;
    const char m[] = "192.0.2.2:49152";
    cr_assert_neq(lyra_siphash24(k1, m, sizeof(m)), lyra_siphash24(k2, m, sizeof(m)));
}
