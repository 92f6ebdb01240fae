/* udp_wire alone: header parse/build and the checksum, against datagrams
 * Linux sent (udp_vectors.h). */
#include <criterion/criterion.h>
#include <string.h>

#include "lyra/skb.h"
#include "udp_vectors.h"
#include "udp_wire.h"

/* The checksum a sender stores for a datagram (its field taken as 0). */
static uint16_t csum_of(uint32_t src, uint32_t dst, const uint8_t *d, uint32_t n)
{
    uint8_t b[2048];
    memcpy(b, d, n);
    b[6] = b[7] = 0;
    struct lyra_skb s = {.data = b, .len = n};
    return udp_csum_final(lyra_skb_csum(&s, 0, n, udp_pseudo_sum(src, dst, (uint16_t)n)));
}

static bool verifies(uint32_t src, uint32_t dst, const uint8_t *d, uint32_t n)
{
    struct lyra_skb s = {.data = (uint8_t *)d, .len = n};
    return udp_csum_ok(lyra_skb_csum(&s, 0, n, udp_pseudo_sum(src, dst, (uint16_t)n)));
}

Test(udp_wire, parse_linux_datagram)
{
    struct udp_hdr h;
    cr_assert_eq(udp_hdr_parse(linux_lyra, sizeof(linux_lyra), &h), UDP_OK);
    cr_assert_eq(h.sport, 40000);
    cr_assert_eq(h.dport, 7);
    cr_assert_eq(h.len, 13);
    cr_assert_eq(h.csum, 0xffad);
    cr_assert_eq(udp_hdr_parse(linux_seed, sizeof(linux_seed), &h), UDP_OK);
    cr_assert_eq(h.sport, 46351);
    cr_assert_eq(h.dport, 9);
    cr_assert_eq(h.len, 16);
}

Test(udp_wire, build_is_parse_inverse)
{
    struct udp_hdr h = {.sport = 40000, .dport = 7, .len = 13, .csum = 0xffad}, g;
    uint8_t b[13];
    memcpy(b, linux_lyra, sizeof(b));
    memset(b, 0xee, 8);
    udp_hdr_build(b, &h);
    cr_assert_eq(memcmp(b, linux_lyra, sizeof(b)), 0);
    cr_assert_eq(udp_hdr_parse(b, sizeof(b), &g), UDP_OK);
    cr_assert_eq(memcmp(&g, &h, sizeof(h)), 0);
}

Test(udp_wire, bad_lengths)
{
    struct udp_hdr h;
    uint8_t b[16];
    memcpy(b, linux_seed, sizeof(b));
    cr_assert_eq(udp_hdr_parse(b, 7, &h), UDP_E_SHORT);
    cr_assert_eq(udp_hdr_parse(b, 0, &h), UDP_E_SHORT);
    cr_assert_eq(udp_hdr_parse(b, 15, &h), UDP_E_LEN, "length 16 in 15 bytes");
    b[4] = 0, b[5] = 7;
    cr_assert_eq(udp_hdr_parse(b, 16, &h), UDP_E_LEN, "length 7 < 8");
    b[5] = 8;
    cr_assert_eq(udp_hdr_parse(b, 16, &h), UDP_OK, "length 8 with 8 bytes of padding");
    cr_assert_eq(h.len, 8);
}

/* Our checksum of Linux's datagrams is the one Linux sent. */
Test(udp_wire, checksum_matches_linux)
{
    cr_assert_eq(csum_of(LINUX_IP, STACK_IP, linux_lyra, sizeof(linux_lyra)), 0xffad);
    cr_assert_eq(csum_of(LINUX_IP, STACK_IP, linux_empty, sizeof(linux_empty)), 0xdf90);
    cr_assert_eq(csum_of(LINUX_IP, SUBNET_BCAST, linux_bcast, sizeof(linux_bcast)), 0xa6b1);
    cr_assert(verifies(LINUX_IP, STACK_IP, linux_lyra, sizeof(linux_lyra)));
    cr_assert(verifies(LINUX_IP, SUBNET_BCAST, linux_bcast, sizeof(linux_bcast)));
    cr_assert(!verifies(LINUX_IP, STACK_IP, linux_bcast, sizeof(linux_bcast)),
                        "the pseudo header's destination is summed");
}

/* RFC 768: a checksum that computes to 0 is sent as all ones, and the
 * receiver's sum over it still verifies. */
Test(udp_wire, zero_is_sent_as_ffff)
{
    cr_assert_eq(csum_of(LINUX_IP, STACK_IP, linux_ffff, sizeof(linux_ffff)), 0xffff);
    cr_assert(verifies(LINUX_IP, STACK_IP, linux_ffff, sizeof(linux_ffff)));
    cr_assert_eq(udp_csum_final(0xffff), 0xffff);
    cr_assert_eq(udp_csum_final(0x1fffe), 0xffff, "0x1fffe folds to 0xffff");
    cr_assert_eq(udp_csum_final(0x1234), 0xedcb);
}

/* The offload seed: the folded pseudo-header sum, as Linux left it in
 * udp-unreach-linux.pcap. That datagram does not verify as it is. */
Test(udp_wire, pseudo_header_seed_matches_linux)
{
    uint32_t s = udp_pseudo_sum(LINUX_IP, STACK_IP, 16);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    cr_assert_eq(s, 0x8425);
    cr_assert(!verifies(LINUX_IP, STACK_IP, linux_seed, sizeof(linux_seed)));
    /* the NIC's work: sum header (seed in the field) and data, store the
     * complement; the result verifies */
    uint8_t b[16];
    memcpy(b, linux_seed, sizeof(b));
    struct lyra_skb sk = {.data = b, .len = sizeof(b)};
    uint16_t c = (uint16_t)~lyra_skb_csum(&sk, 0, sizeof(b), 0);
    udp_st16(b + 6, c);
    cr_assert(verifies(LINUX_IP, STACK_IP, b, sizeof(b)));
    cr_assert_eq(csum_of(LINUX_IP, STACK_IP, linux_seed, sizeof(linux_seed)), c);
}

/* A frame split over a linear part and segments at every odd and even
 * point sums as the flat one does (RFC 1071 byte-order independence). */
Test(udp_wire, checksum_over_segments)
{
    uint8_t flat[301];
    for (unsigned i = 0; i < sizeof(flat); i++)
        flat[i] = (uint8_t)(i * 7 + 3);
    struct lyra_skb f = {.data = flat, .len = sizeof(flat)};
    uint32_t want = lyra_skb_csum(&f, 0, sizeof(flat), 0x1234);
    for (uint32_t a = 0; a <= 20; a++)
        for (uint32_t b = a; b <= 40; b += 3) {
            struct lyra_skb s = {.data = flat, .len = a};
            struct lyra_skb_seg g[3] = {{.ptr = flat + a, .len = b - a},
                                        {.ptr = flat + b, .len = 0},
                                        {.ptr = flat + b, .len = sizeof(flat) - b}};
            for (int i = 0; i < 3; i++)
                lyra_skb_seg_append(&s, &g[i]);
            cr_assert_eq(lyra_skb_csum(&s, 0, sizeof(flat), 0x1234), want, "split %u/%u", a,
                         b);
        }
    /* and a sub-range from an odd offset equals the flat sub-range */
    struct lyra_skb s = {.data = flat, .len = 5};
    struct lyra_skb_seg sg = {.ptr = flat + 5, .len = sizeof(flat) - 5};
    lyra_skb_seg_append(&s, &sg);
    struct lyra_skb g = {.data = flat + 3, .len = 200};
    cr_assert_eq(lyra_skb_csum(&s, 3, 200, 0), lyra_skb_csum(&g, 0, 200, 0));
}
