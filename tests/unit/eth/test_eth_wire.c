/* eth_wire and arp_wire alone: parse with one length check, emit, byte
 * order, against bytes Linux put on a wire (tests/data/eth/README.txt). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "arp_wire.h"
#include "eth_wire.h"
#include "lt.h"
#include "lyra/netdev.h"

/* arp-linux.pcap frame 1: arping's request, who has 192.0.2.2, tell .1 */
static const uint8_t linux_req[42] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x01, 0x00, 0x00, 0x00, 0x01,
    0xc0, 0x00, 0x02, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc0, 0x00, 0x02, 0x02,
};
/* frame 2: the kernel's reply, 192.0.2.2 is at 02:02:00:00:00:02 */
static const uint8_t linux_reply[42] = {
    0x02, 0x01, 0x00, 0x00, 0x00, 0x01, 0x02, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x02, 0x00, 0x00, 0x00, 0x02,
    0xc0, 0x00, 0x02, 0x02, 0x02, 0x01, 0x00, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x01,
};

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const uint8_t mac1[6] = {0x02, 0x01, 0, 0, 0, 1};
static const uint8_t mac2[6] = {0x02, 0x02, 0, 0, 0, 2};

Test(wire, byte_order)
{
    uint8_t b[4];
    wire_st16(b, 0x0806);
    cr_assert(b[0] == 0x08 && b[1] == 0x06);
    cr_assert_eq(wire_ld16(b), 0x0806);
    wire_st32(b, 0xc0000201u);
    cr_assert(b[0] == 0xc0 && b[1] == 0x00 && b[2] == 0x02 && b[3] == 0x01);
    cr_assert_eq(wire_ld32(b), 0xc0000201u);
    /* unaligned reads are byte reads: no alignment assumptions */
    uint8_t u[7] = {0, 0xde, 0xad, 0xbe, 0xef, 0, 0};
    cr_assert_eq(wire_ld32(u + 1), 0xdeadbeefu);
    cr_assert_eq(wire_ld16(u + 3), 0xbeef);
}

Test(wire, addr_classes)
{
    cr_assert(eth_addr_is_bcast(eth_addr_bcast));
    cr_assert(eth_addr_is_mcast(eth_addr_bcast));
    const uint8_t m[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
    cr_assert(eth_addr_is_mcast(m));
    cr_assert(!eth_addr_is_bcast(m));
    cr_assert(!eth_addr_is_mcast(mac1));
    const uint8_t z[6] = {0};
    cr_assert(!lyra_eth_addr_is_station(z), "zero");
    cr_assert(!lyra_eth_addr_is_station(m), "a group");
    cr_assert(!lyra_eth_addr_is_station(eth_addr_bcast), "broadcast");
    cr_assert(lyra_eth_addr_is_station(mac1));
    cr_assert(eth_addr_eq(mac1, mac1));
    cr_assert(!eth_addr_eq(mac1, mac2));
    const uint8_t almost[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
    cr_assert(!eth_addr_is_bcast(almost));
}

Test(wire, eth_view_one_length_check)
{
    struct eth_view v;
    for (size_t n = 0; n < ETH_HDR_LEN; n++)
        cr_assert_eq(eth_view_init(&v, linux_req, n), -EBADMSG, "len %zu", n);
    cr_assert_eq(eth_view_init(&v, NULL, 42), -EBADMSG);
    cr_assert_eq(eth_view_init(&v, linux_req, ETH_HDR_LEN), 0);
    cr_assert_eq(eth_view_payload_len(&v), 0);
    cr_assert_eq(eth_view_init(&v, linux_req, sizeof(linux_req)), 0);
    cr_assert(eth_addr_is_bcast(eth_view_dst(&v)));
    cr_assert(eth_addr_eq(eth_view_src(&v), mac1));
    cr_assert_eq(eth_view_type(&v), 0x0806);
    cr_assert_eq(eth_view_payload(&v), linux_req + 14);
    cr_assert_eq(eth_view_payload_len(&v), 28);
}

Test(wire, eth_repr_roundtrip)
{
    struct eth_repr r;
    cr_assert_eq(eth_repr_parse(linux_reply, 13, &r), -EBADMSG);
    cr_assert_eq(eth_repr_parse(linux_reply, sizeof(linux_reply), &r), 0);
    cr_assert(eth_addr_eq(r.dst, mac1));
    cr_assert(eth_addr_eq(r.src, mac2));
    cr_assert_eq(r.type, 0x0806);
    uint8_t out[14];
    memset(out, 0xaa, sizeof(out));
    eth_repr_emit(&r, out);
    cr_assert_arr_eq(out, linux_reply, 14);
}

Test(wire, ipv4_mcast_mac)
{
    /* RFC 1112 6.4: 01:00:5e + low 23 bits of the group */
    uint8_t m[6];
    eth_ipv4_mcast_mac(IP(224, 0, 0, 251), m);
    const uint8_t mdns[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
    cr_assert_arr_eq(m, mdns, 6);
    eth_ipv4_mcast_mac(IP(239, 255, 255, 250), m);
    const uint8_t ssdp[6] = {0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa};
    cr_assert_arr_eq(m, ssdp, 6);
    eth_ipv4_mcast_mac(IP(224, 128, 0, 1), m); /* bit 23 is dropped */
    const uint8_t low[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    cr_assert_arr_eq(m, low, 6);
}

Test(wire, arp_parse_linux_request)
{
    struct arp_repr a;
    cr_assert_eq(arp_repr_parse(linux_req + 14, 28, &a), 0);
    cr_assert_eq(a.op, ARP_OP_REQUEST);
    cr_assert(eth_addr_eq(a.sha, mac1));
    cr_assert_eq(a.spa, IP(192, 0, 2, 1));
    cr_assert(eth_addr_is_bcast(a.tha)); /* arping fills the target MAC with ff */
    cr_assert_eq(a.tpa, IP(192, 0, 2, 2));
}

Test(wire, arp_parse_length)
{
    struct arp_repr a;
    for (size_t n = 0; n < ARP_LEN; n++)
        cr_assert_eq(arp_repr_parse(linux_req + 14, n, &a), -EBADMSG, "len %zu", n);
    cr_assert_eq(arp_repr_parse(NULL, 28, &a), -EBADMSG);
    /* padded to a 60-byte frame: the padding is ignored */
    uint8_t pad[46] = {0};
    memcpy(pad, linux_req + 14, 28);
    memset(pad + 28, 0x5a, 18);
    cr_assert_eq(arp_repr_parse(pad, sizeof(pad), &a), 0);
    cr_assert_eq(a.tpa, IP(192, 0, 2, 2));
}

Test(wire, arp_parse_unsupported_fields)
{
    struct { unsigned off; uint8_t val; } bad[] = {
        {0, 0x01}, /* htype 0x0101 */
        {1, 0x06}, /* htype 6 (IEEE 802) */
        {2, 0x86}, /* ptype 0x86dd */
        {3, 0x06}, /* ptype 0x0806 */
        {4, 0x08}, /* hlen 8 */
        {5, 0x10}, /* plen 16 */
        {7, 0x03}, /* op 3: RARP request */
        {7, 0x04}, /* op 4: RARP reply */
        {7, 0x00}, /* op 0 */
        {6, 0x01}, /* op 0x0101 */
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t p[28];
        memcpy(p, linux_req + 14, 28);
        p[bad[i].off] = bad[i].val;
        struct arp_repr a;
        cr_assert_eq(arp_repr_parse(p, sizeof(p), &a), -EPROTONOSUPPORT, "case %u", i);
    }
}

Test(wire, arp_emit_is_linux_reply)
{
    struct arp_repr a = {.op = ARP_OP_REPLY, .spa = IP(192, 0, 2, 2), .tpa = IP(192, 0, 2, 1)};
    memcpy(a.sha, mac2, 6);
    memcpy(a.tha, mac1, 6);
    uint8_t out[28];
    memset(out, 0xee, sizeof(out));
    arp_repr_emit(&a, out);
    cr_assert_arr_eq(out, linux_reply + 14, 28);
    /* and back */
    struct arp_repr b;
    cr_assert_eq(arp_repr_parse(out, sizeof(out), &b), 0);
    cr_assert_eq(b.op, a.op);
    cr_assert_eq(b.spa, a.spa);
    cr_assert_eq(b.tpa, a.tpa);
    cr_assert_arr_eq(b.sha, a.sha, 6);
    cr_assert_arr_eq(b.tha, a.tha, 6);
}

/* The arrays above are the pcap's frames, not retyped guesses. */
Test(wire, vectors_match_capture)
{
    struct lt_pcap p;
    const uint8_t *f;
    cr_assert_eq(lt_pcap_open(&p, "eth/arp-linux.pcap"), 0);
    cr_assert_eq(lt_pcap_next(&p, &f), 42);
    cr_assert_arr_eq(f, linux_req, 42);
    cr_assert_eq(lt_pcap_next(&p, &f), 42);
    cr_assert_arr_eq(f, linux_reply, 42);
    /* every frame of both captures parses; the ARP ones as ARP */
    lt_pcap_close(&p);
    const char *files[] = {"eth/arp-linux.pcap", "eth/ping-linux.pcap"};
    unsigned arp = 0, ip = 0;
    for (unsigned k = 0; k < 2; k++) {
        cr_assert_eq(lt_pcap_open(&p, files[k]), 0);
        uint32_t n;
        while ((n = lt_pcap_next(&p, &f))) {
            struct eth_repr r;
            cr_assert_eq(eth_repr_parse(f, n, &r), 0);
            if (r.type == 0x0806) {
                struct arp_repr a;
                cr_assert_eq(arp_repr_parse(f + 14, n - 14, &a), 0);
                arp++;
            } else {
                cr_assert_eq(r.type, 0x0800);
                ip++;
            }
        }
        lt_pcap_close(&p);
    }
    cr_assert_eq(arp, 6);
    cr_assert_eq(ip, 4);
}
