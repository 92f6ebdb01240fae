/* ipv4_wire and icmp_wire alone, on real Linux packets (tests/data/eth and
 * tests/data/ip) and on hand-made malformed ones. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "icmp_wire.h"
#include "ip_test_util.h"
#include "ipv4_wire.h"
#include "lyra/inet_csum.h"

Test(ipv4_wire, linux_echo_request_fields)
{
    struct frame f;
    load_frame("eth/ping-linux.pcap", 3, &f);
    struct ipv4_view v;
    cr_assert_eq(ipv4_view_init(&v, l3(&f), l3_len(&f)), IPV4_OK);
    cr_assert_eq(ipv4_view_hlen(&v), 20);
    cr_assert_eq(ipv4_view_total_len(&v), 84);
    cr_assert_eq(v.len, 84);
    cr_assert_eq(ipv4_view_id(&v), 0x9e21);
    cr_assert(ipv4_view_df(&v));
    cr_assert(!ipv4_view_mf(&v));
    cr_assert(!ipv4_view_is_frag(&v));
    cr_assert_eq(ipv4_view_ttl(&v), 64);
    cr_assert_eq(ipv4_view_proto(&v), 1);
    cr_assert_eq(ipv4_view_src(&v), LINUX_IP);
    cr_assert_eq(ipv4_view_dst(&v), STACK_IP);
    cr_assert(ipv4_view_csum_ok(&v));
    cr_assert_eq(ipv4_view_payload_len(&v), 64);
}

Test(ipv4_wire, emit_matches_linux_header)
{
    struct frame f;
    load_frame("eth/ping-linux.pcap", 3, &f);
    struct ipv4_repr r = {.src = LINUX_IP, .dst = STACK_IP, .proto = 1, .ttl = 64, .tos = 0,
                          .id = 0x9e21, .df = true, .payload_len = 64};
    uint8_t h[20];
    ipv4_repr_emit(&r, h);
    cr_assert_eq(memcmp(h, l3(&f), 20), 0, "emitted header differs from the kernel's");
}

Test(ipv4_wire, linux_fragments)
{
    static const uint32_t off[3] = {0, 1480, 2960}, len[3] = {1500, 1500, 68};
    for (unsigned i = 0; i < 3; i++) {
        struct frame f;
        load_frame("ip/ping-frag-linux.pcap", i + 1, &f);
        struct ipv4_view v;
        cr_assert_eq(ipv4_view_init(&v, l3(&f), l3_len(&f)), IPV4_OK);
        cr_assert(ipv4_view_is_frag(&v));
        cr_assert_eq(ipv4_view_frag_off(&v), off[i]);
        cr_assert_eq(ipv4_view_mf(&v), i < 2);
        cr_assert_eq(v.len, len[i]);
        cr_assert(ipv4_view_csum_ok(&v));
    }
}

Test(ipv4_wire, malformed)
{
    uint8_t b[64];
    struct ipv4_view v;
    struct ipv4_repr r = {.src = 1, .dst = 2, .proto = 17, .ttl = 1, .payload_len = 20};
    ipv4_repr_emit(&r, b);
    memset(b + 20, 0xab, 44);
    cr_assert_eq(ipv4_view_init(&v, b, 40), IPV4_OK);
    cr_assert_eq(ipv4_view_init(&v, NULL, 40), IPV4_E_SHORT);
    cr_assert_eq(ipv4_view_init(&v, b, 19), IPV4_E_SHORT);
    cr_assert_eq(ipv4_view_init(&v, b, 0), IPV4_E_SHORT);
    cr_assert_eq(ipv4_view_init(&v, b, 39), IPV4_E_TOTLEN); /* total 40 > 39 */
    /* Ethernet padding: the view ends at the total length */
    cr_assert_eq(ipv4_view_init(&v, b, 60), IPV4_OK);
    cr_assert_eq(v.len, 40);
    b[0] = 0x65;
    cr_assert_eq(ipv4_view_init(&v, b, 40), IPV4_E_VERSION);
    b[0] = 0x44;
    cr_assert_eq(ipv4_view_init(&v, b, 40), IPV4_E_HDRLEN);
    b[0] = 0x4f; /* 60-byte header in 40 bytes */
    cr_assert_eq(ipv4_view_init(&v, b, 40), IPV4_E_HDRLEN);
    b[0] = 0x46; /* 24-byte header, total 40: fine */
    cr_assert_eq(ipv4_view_init(&v, b, 40), IPV4_OK);
    ip_st16(b + 2, 23); /* total below the header */
    cr_assert_eq(ipv4_view_init(&v, b, 40), IPV4_E_TOTLEN);
    b[0] = 0x45;
    ip_st16(b + 2, 40);
    ipv4_hdr_set_csum(b, 20);
    cr_assert_eq(ipv4_view_init(&v, b, 40), IPV4_OK);
    cr_assert(ipv4_view_csum_ok(&v));
    b[8] ^= 1;
    cr_assert(!ipv4_view_csum_ok(&v));
}

Test(ipv4_wire, emit_fragment_fields)
{
    uint8_t h[20];
    struct ipv4_repr r = {.src = 1, .dst = 2, .proto = 1, .ttl = 9, .id = 7, .mf = true,
                          .frag_off = 2960, .payload_len = 8};
    ipv4_repr_emit(&r, h);
    struct ipv4_view v;
    cr_assert_eq(ipv4_view_init(&v, h, 20), IPV4_E_TOTLEN); /* 28 claimed, 20 here */
    uint8_t b[28] = {0};
    memcpy(b, h, 20);
    cr_assert_eq(ipv4_view_init(&v, b, 28), IPV4_OK);
    cr_assert_eq(ipv4_view_frag_off(&v), 2960);
    cr_assert(ipv4_view_mf(&v));
    cr_assert(!ipv4_view_df(&v));
    cr_assert(ipv4_view_csum_ok(&v));
}

Test(ipv4_wire, masks_and_classes)
{
    cr_assert_eq(ipv4_mask(0), 0);
    cr_assert_eq(ipv4_mask(24), 0xffffff00u);
    cr_assert_eq(ipv4_mask(32), 0xffffffffu);
    cr_assert_eq(ipv4_mask(1), 0x80000000u);
    cr_assert(ipv4_is_mcast(IP(224, 0, 0, 1)));
    cr_assert(!ipv4_is_mcast(IP(192, 0, 2, 1)));
    cr_assert(ipv4_is_class_e(IPV4_BCAST));
    cr_assert(ipv4_is_loopback(IP(127, 0, 0, 1)));
}

/* ----- icmp_wire ---------------------------------------------------------- */

Test(icmp_wire, linux_echo_request_and_reply)
{
    struct frame q, a;
    load_frame("eth/ping-linux.pcap", 3, &q);
    load_frame("eth/ping-linux.pcap", 4, &a);
    struct icmp_view vq, va;
    cr_assert_eq(icmp_view_init(&vq, l3(&q) + 20, l3_len(&q) - 20), 0);
    cr_assert_eq(icmp_view_init(&va, l3(&a) + 20, l3_len(&a) - 20), 0);
    cr_assert_eq(icmp_view_type(&vq), ICMP_ECHO);
    cr_assert_eq(icmp_view_type(&va), ICMP_ECHO_REPLY);
    cr_assert_eq(icmp_view_id(&vq), icmp_view_id(&va));
    cr_assert_eq(icmp_view_seq(&vq), 1);
    cr_assert(icmp_view_csum_ok(&vq));
    cr_assert(icmp_view_csum_ok(&va));
    /* the reply is the request with type 0 and a new checksum: rebuilding
     * it gives the kernel's bytes */
    uint8_t m[64];
    memcpy(m, icmp_view_body(&vq) - ICMP_HDR_LEN, 64);
    m[0] = ICMP_ECHO_REPLY;
    icmp_set_csum(m, 64, 0);
    cr_assert_eq(memcmp(m, l3(&a) + 20, 64), 0);
    /* split sums (header here, odd-length body elsewhere) agree */
    uint8_t m2[63];
    memcpy(m2, m, 63);
    icmp_set_csum(m2, 63, 0);
    uint8_t hdr[8];
    memcpy(hdr, m2, 8);
    icmp_set_csum(hdr, 8, lyra_csum_add(m2 + 8, 55, 0));
    cr_assert_eq(memcmp(hdr, m2, 8), 0);
    cr_assert_eq(icmp_view_init(&vq, m, 7), -EBADMSG);
}

Test(icmp_wire, linux_port_unreachable_quote)
{
    struct frame f;
    load_frame("ip/udp-unreach-linux.pcap", 2, &f);
    struct icmp_view v;
    cr_assert_eq(icmp_view_init(&v, l3(&f) + 20, l3_len(&f) - 20), 0);
    cr_assert(icmp_view_csum_ok(&v));
    struct lyra_l3_icmp_err e;
    cr_assert_eq(icmp_quote_parse(&v, &e), 0);
    cr_assert_eq(e.type, 3);
    cr_assert_eq(e.code, 3);
    cr_assert_eq(e.src, LINUX_IP);
    cr_assert_eq(e.dst, STACK_IP);
    cr_assert_eq(e.proto, 17);
    cr_assert_eq(e.mtu, 0);
    static const uint8_t udp[8] = {0xb5, 0x0f, 0x00, 0x09, 0x00, 0x10, 0x84, 0x25};
    cr_assert_eq(memcmp(e.l4, udp, 8), 0);
    cr_assert(icmp_type_is_error(3));
    cr_assert(!icmp_type_is_error(0));
    cr_assert(!icmp_type_is_error(8));
    /* a quote cut before its 8 transport bytes is refused */
    struct icmp_view s = v;
    s.len = 8 + 20 + 7;
    cr_assert_eq(icmp_quote_parse(&s, &e), -EBADMSG);
    s.len = 8 + 19;
    cr_assert_eq(icmp_quote_parse(&s, &e), -EBADMSG);
}

Test(icmp_wire, frag_needed_mtu)
{
    uint8_t m[8 + 28] = {0};
    icmp_hdr_emit(m, ICMP_DEST_UNREACH, ICMP_CODE_FRAG_NEEDED, 1400);
    struct ipv4_repr r = {.src = STACK_IP, .dst = LINUX_IP, .proto = 6, .ttl = 64,
                          .payload_len = 8};
    ipv4_repr_emit(&r, m + 8);
    icmp_set_csum(m, sizeof(m), 0);
    struct icmp_view v;
    cr_assert_eq(icmp_view_init(&v, m, sizeof(m)), 0);
    cr_assert(icmp_view_csum_ok(&v));
    struct lyra_l3_icmp_err e;
    cr_assert_eq(icmp_quote_parse(&v, &e), 0);
    cr_assert_eq(e.mtu, 1400);
    cr_assert_eq(e.proto, 6);
    m[8] = 0x65; /* not IPv4 */
    cr_assert_eq(icmp_quote_parse(&v, &e), -EBADMSG);
    m[8] = 0x43;
    cr_assert_eq(icmp_quote_parse(&v, &e), -EBADMSG);
}
