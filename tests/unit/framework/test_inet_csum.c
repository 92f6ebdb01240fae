/* lyra/inet_csum.h: the fast checksum (64-bit words, or 32-bit words into
 * 64 bits when built with LYRA_CSUM_WORD32, as on Cortex-M4: this file is
 * built both ways, test_inet_csum and test_inet_csum32) against the plain
 * RFC 1071 loop, over random lengths, offsets and contents; the copy that
 * sums; blocks summed apart and combined at odd and even offsets; the byte
 * order rule that makes the sum right on a big-endian machine too; and
 * every checksum of the real Linux captures in tests/data. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "lt.h"
#include "lyra/inet_csum.h"

/* RFC 1071 as written: big-endian words, the odd byte high. */
static uint16_t ref_sum(const uint8_t *b, size_t len)
{
    uint64_t s = 0;
    for (; len > 1; b += 2, len -= 2)
        s += (uint32_t)(b[0] << 8 | b[1]);
    if (len)
        s += (uint32_t)b[0] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t rnd(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

#define BUF 10000
static uint8_t src[BUF + 64], dst[BUF + 64];

/* Contents that push the carries: mostly 0xff, some random, some zero. */
static void fill(uint8_t *p, size_t n, int kind)
{
    for (size_t i = 0; i < n; i++)
        p[i] = kind == 0 ? (uint8_t)rnd() : kind == 1 ? 0xff : kind == 2 ? 0 : (rnd() & 1 ? 0xff : (uint8_t)rnd());
}

Test(inet_csum, add_matches_rfc1071_at_any_length_and_offset)
{
    for (int i = 0; i < 4000; i++) {
        size_t off = rnd() % 16, len = i < 200 ? (size_t)i : rnd() % (BUF - 16);
        fill(src, sizeof(src), i % 4);
        uint16_t want = ref_sum(src + off, len);
        cr_assert_eq(lyra_csum_fold(lyra_csum_add(src + off, len, 0)), want,
                     "len %zu off %zu kind %d", len, off, i % 4);
        /* a running sum goes on as the plain loop's would */
        uint32_t seed = rnd() & 0x3ffff;
        cr_assert_eq(lyra_csum_fold(lyra_csum_add(src + off, len, seed)),
                     lyra_csum_fold(seed + want));
    }
}

Test(inet_csum, all_ones_and_all_zeros)
{
    memset(src, 0xff, BUF);
    cr_assert_eq(lyra_csum_fold(lyra_csum_add(src, BUF, 0)), 0xffff);
    cr_assert_eq(lyra_csum_fold(lyra_csum_add(src, 1, 0)), 0xff00);
    memset(src, 0, BUF);
    cr_assert_eq(lyra_csum_fold(lyra_csum_add(src, BUF, 0)), 0, "no word set: 0, not 0xffff");
    cr_assert_eq(lyra_csum_fold(lyra_csum_add(src, 0, 0)), 0);
}

Test(inet_csum, copy_copies_exactly_and_sums)
{
    for (int i = 0; i < 3000; i++) {
        size_t so = rnd() % 16, dof = rnd() % 16, len = i < 100 ? (size_t)i : rnd() % (BUF - 16);
        fill(src, sizeof(src), i % 4);
        memset(dst, 0xa5, sizeof(dst));
        uint16_t s = lyra_csum_copy(dst + dof, src + so, len);
        cr_assert_eq(s, ref_sum(src + so, len), "len %zu src off %zu dst off %zu", len, so, dof);
        cr_assert(!memcmp(dst + dof, src + so, len), "copy differs (len %zu)", len);
        for (size_t k = 0; k < dof; k++)
            cr_assert_eq(dst[k], 0xa5, "wrote before dst");
        for (size_t k = dof + len; k < sizeof(dst); k++)
            cr_assert_eq(dst[k], 0xa5, "wrote past dst (len %zu)", len);
    }
}

/* A range summed in pieces (as the per-piece sums of a send queue skb are)
 * is the range summed at once, wherever the pieces start. */
Test(inet_csum, blocks_combine_at_odd_and_even_offsets)
{
    for (int i = 0; i < 2000; i++) {
        size_t len = rnd() % 3000;
        fill(src, len, i % 4);
        uint32_t sum = 0;
        size_t at = 0;
        while (at < len) {
            size_t k = 1 + rnd() % 200;
            if (k > len - at)
                k = len - at;
            sum = lyra_csum_block(sum, lyra_csum_copy(dst, src + at, k), (uint32_t)at);
            at += k;
        }
        cr_assert_eq(lyra_csum_fold(sum), ref_sum(src, len), "len %zu", len);
    }
}

/* RFC 1071 2(B): what a machine of the other byte order loads is each word
 * swapped; its sum, swapped back, is the same. This is the rule
 * lyra_csum_ne_to_be applies, so the result holds on big-endian targets. */
Test(inet_csum, other_byte_order_gives_the_swapped_sum)
{
    for (int i = 0; i < 500; i++) {
        size_t len = 2 * (rnd() % 1500);
        fill(src, len, i % 4);
        for (size_t k = 0; k < len; k += 2) {
            dst[k] = src[k + 1];
            dst[k + 1] = src[k];
        }
        uint16_t a = ref_sum(src, len), b = ref_sum(dst, len);
        cr_assert_eq((uint16_t)(a << 8 | a >> 8), b);
        cr_assert_eq(lyra_csum_fold(lyra_csum_add(dst, len, 0)), b);
    }
}

static uint16_t ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Every IPv4 header and every whole TCP, UDP and ICMP message of a capture
 * checks out, summed at once, by the copy, and in two blocks split at each
 * offset. Returns the transport messages checked; *hdrs: the IPv4 headers. */
static int check_capture_hdrs(const char *name, int *hdrs)
{
    struct lt_pcap p;
    cr_assert_eq(lt_pcap_open(&p, name), 0, "cannot read tests/data/%s", name);
    const uint8_t *f;
    uint32_t n;
    int msgs = 0;
    while ((n = lt_pcap_next(&p, &f)) > 0) {
        if (n < 34 || ld16(f + 12) != 0x0800)
            continue;
        const uint8_t *ip = f + 14;
        size_t ihl = (size_t)(ip[0] & 15) * 4, tot = ld16(ip + 2);
        cr_assert_eq(lyra_csum_fold(lyra_csum_add(ip, ihl, 0)), 0xffff, "%s: IP header", name);
        ++*hdrs;
        if ((ld16(ip + 6) & 0x3fff) || tot > n - 14)
            continue; /* a fragment: no whole transport message */
        const uint8_t *l4 = ip + ihl;
        size_t l4len = tot - ihl;
        uint32_t ps = 0;
        if (ip[9] == 6 || (ip[9] == 17 && ld16(l4 + 6)))
            ps = lyra_csum_add(ip + 12, 8, 0) + ip[9] + (uint32_t)l4len;
        else if (ip[9] != 1)
            continue;
        cr_assert_eq(lyra_csum_fold(lyra_csum_add(l4, l4len, ps)), 0xffff, "%s: proto %u", name,
                     ip[9]);
        cr_assert_eq(lyra_csum_fold(ps + lyra_csum_copy(dst, l4, l4len)), 0xffff);
        for (size_t cut = 0; cut <= l4len; cut++) {
            uint32_t s = lyra_csum_block(ps, lyra_csum_copy(dst, l4, cut), 0);
            s = lyra_csum_block(s, lyra_csum_copy(dst, l4 + cut, l4len - cut), (uint32_t)cut);
            cr_assert_eq(lyra_csum_fold(s), 0xffff, "%s: split at %zu", name, cut);
        }
        msgs++;
    }
    lt_pcap_close(&p);
    return msgs;
}

static int check_capture(const char *name)
{
    int hdrs = 0;
    return check_capture_hdrs(name, &hdrs);
}

Test(inet_csum, real_linux_captures)
{
    cr_assert_gt(check_capture("tcp/tcp-linux.pcap"), 30);
    cr_assert_gt(check_capture("udp/udp-linux.pcap"), 0);
    cr_assert_gt(check_capture("eth/ping-linux.pcap"), 0);
    /* IP headers of fragments: all 12 frames of the capture (a truncated
     * file would end the walk early without a word) */
    int hdrs = 0;
    check_capture_hdrs("ip/ping-frag-linux.pcap", &hdrs);
    cr_assert_eq(hdrs, 12, "%d of the capture's 12 IPv4 headers checked", hdrs);
}
