/* The services' byte patterns (tools/services/svc_pattern.c): RFC 864's
 * lines for chargen, self-locating lines for http /bytes/N, and both the
 * same whether produced at once or from any offset in pieces. */
#include <criterion/criterion.h>
#include <string.h>

#include "svc_pattern.h"

static unsigned char all[4 * CHARGEN_PERIOD], piece[4 * CHARGEN_PERIOD];

Test(pattern, chargen_lines_are_rfc_864s)
{
    chargen_fill(all, sizeof(all), 0);
    /* RFC 864's first line starts at the space, the next one further */
    cr_assert_eq(memcmp(all, " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
                             "abcdefg\r\n!\"#", 77), 0);
    for (size_t line = 0; line < sizeof(all) / CHARGEN_LINE; line++) {
        const unsigned char *l = all + line * CHARGEN_LINE;
        cr_assert_eq(l[0], ' ' + line % 95, "line %zu", line);
        for (int k = 1; k < 72; k++)
            cr_assert_eq(l[k], ' ' + (line + (size_t)k) % 95);
        cr_assert_eq(l[72], '\r');
        cr_assert_eq(l[73], '\n');
    }
    cr_assert_eq(memcmp(all, all + CHARGEN_PERIOD, CHARGEN_PERIOD), 0, "95 lines repeat");
}

Test(pattern, bytes_lines_hold_their_offset)
{
    bytes_fill(all, 48, 0);
    cr_assert_eq(memcmp(all, "000000000000000\n000000000000010\n000000000000020\n", 48), 0);
    bytes_fill(all, 20, (1ull << 40) - 4);
    cr_assert_eq(memcmp(all, "ff0\n000010000000000\n", 20), 0);
}

static void pieces(void (*fill)(unsigned char *, size_t, uint64_t), uint64_t start)
{
    fill(all, sizeof(all), start);
    size_t o = 0, k = 1;
    while (o < sizeof(all)) {
        size_t n = k < sizeof(all) - o ? k : sizeof(all) - o;
        fill(piece + o, n, start + o);
        o += n;
        k = k * 3 % 1777 + 1;
    }
    cr_assert_eq(memcmp(all, piece, sizeof(all)), 0, "start %llu", (unsigned long long)start);
}

Test(pattern, both_resume_at_any_offset)
{
    const uint64_t starts[] = {0, 1, 73, 74, 7029, 123456789, (1ull << 40) - 77};
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        pieces(chargen_fill, starts[i]);
        pieces(bytes_fill, starts[i]);
    }
}
