/* SYN cookies (tcp_syncookie.h) alone: what a cookie keeps, how long it
 * lives, and that nothing but the secret's holder makes one that passes. */
#include <criterion/criterion.h>
#include <string.h>

#include "tcp_syncookie.h"

static const uint8_t K1[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t K2[16] = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
static const struct tcp_tuple T = {.laddr = 0xc0000202u, .raddr = 0xc0000263u, .lport = 80,
                                   .rport = 40000};
#define ISN 0x12345678u
#define S_NS (1000000000ull)

Test(tcp_syncookie, the_counter_steps_every_64_s)
{
    cr_assert_eq(tcp_cookie_count(0), 0);
    cr_assert_eq(tcp_cookie_count(64 * S_NS - 1), 0);
    cr_assert_eq(tcp_cookie_count(64 * S_NS), 1);
    cr_assert_eq(tcp_cookie_count(640 * S_NS), 10);
}

/* Every combination of MSS, window shift (or none) and SACK comes back as
 * it went in, the MSS rounded down to Linux's table. */
Test(tcp_syncookie, options_round_trip)
{
    static const uint16_t in[] = {0, 100, 536, 1299, 1300, 1439, 1440, 1459, 1460, 9000};
    static const uint16_t out[] = {536, 536, 536, 536, 1300, 1300, 1440, 1440, 1460, 1460};
    unsigned n = 0;
    for (unsigned m = 0; m < sizeof(in) / sizeof(in[0]); m++)
        for (int ws = -1; ws <= 14; ws++)
            for (int sack = 0; sack < 2; sack++) {
                struct tcp_cookie_opts o = {.mss = in[m],
                                            .ws = ws < 0 ? TCP_COOKIE_NO_WS : (uint8_t)ws,
                                            .sack = sack};
                uint32_t c = tcp_cookie_make(K1, &T, ISN, 777, &o);
                struct tcp_cookie_opts back;
                memset(&back, 0xa5, sizeof(back));
                cr_assert(tcp_cookie_check(K1, &T, ISN, 777, c, &back), "mss %u ws %d sack %d",
                          in[m], ws, sack);
                cr_assert_eq(back.mss, out[m]);
                cr_assert_eq(back.ws, o.ws);
                cr_assert_eq(back.sack, o.sack);
                n++;
            }
    cr_assert_eq(n, 320);
}

/* Good while the counter is the one it was made with or the next (64 to
 * 128 s), never later: 2, 3 and 4 steps on fail, 4 included although its
 * low bit is the cookie's again (the MAC has the whole counter). */
Test(tcp_syncookie, lives_one_or_two_counter_steps)
{
    struct tcp_cookie_opts o = {.mss = 1460, .ws = 7, .sack = true}, back;
    for (uint32_t made = 1000; made < 1002; made++) {
        uint32_t c = tcp_cookie_make(K1, &T, ISN, made, &o);
        cr_assert(tcp_cookie_check(K1, &T, ISN, made, c, &back));
        cr_assert(tcp_cookie_check(K1, &T, ISN, made + 1, c, &back));
        for (uint32_t late = 2; late < 9; late++)
            cr_assert(!tcp_cookie_check(K1, &T, ISN, made + late, c, &back), "made %u, %u later",
                      made, late);
        cr_assert(!tcp_cookie_check(K1, &T, ISN, made - 1, c, &back), "from the future");
    }
}

/* Another connection, another ISN, another secret: the cookie fails. So
 * does any single bit changed, the option bits included (the MAC covers
 * them: a peer cannot raise its MSS or add a window shift). */
Test(tcp_syncookie, bound_to_tuple_isn_secret_and_every_bit)
{
    struct tcp_cookie_opts o = {.mss = 1300, .ws = 3, .sack = false}, back;
    uint32_t c = tcp_cookie_make(K1, &T, ISN, 5, &o);
    cr_assert(tcp_cookie_check(K1, &T, ISN, 5, c, &back));
    struct tcp_tuple t = T;
    t.rport++;
    cr_assert(!tcp_cookie_check(K1, &t, ISN, 5, c, &back), "remote port");
    t = T;
    t.raddr++;
    cr_assert(!tcp_cookie_check(K1, &t, ISN, 5, c, &back), "remote address");
    t = T;
    t.lport++;
    cr_assert(!tcp_cookie_check(K1, &t, ISN, 5, c, &back), "local port");
    t = T;
    t.laddr++;
    cr_assert(!tcp_cookie_check(K1, &t, ISN, 5, c, &back), "local address");
    cr_assert(!tcp_cookie_check(K1, &T, ISN + 1, 5, c, &back), "peer ISN");
    cr_assert(!tcp_cookie_check(K2, &T, ISN, 5, c, &back), "another secret");
    for (unsigned b = 0; b < 32; b++)
        cr_assert(!tcp_cookie_check(K1, &T, ISN, 5, c ^ (1u << b), &back), "bit %u flipped", b);
}

/* A blind guesser: 2^16 cookies for one tuple, none passes (each would
 * with probability 2^-24; the sequence and the key are fixed, so every run
 * sees the same outcome). */
Test(tcp_syncookie, guesses_fail)
{
    struct tcp_cookie_opts back;
    uint32_t x = 2463534242u, pass = 0;
    for (unsigned k = 0; k < (1u << 16); k++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
        pass += tcp_cookie_check(K1, &T, ISN, 5, x, &back);
    }
    cr_assert_eq(pass, 0);
}
