/* ARP packet parse and build (see arp_wire.h). Offsets are RFC 826's
 * packet format with hlen 6 and plen 4. */
#include "arp_wire.h"

#include <errno.h>
#include <string.h>

enum {
    OFF_HTYPE = 0,
    OFF_PTYPE = 2,
    OFF_HLEN = 4,
    OFF_PLEN = 5,
    OFF_OP = 6,
    OFF_SHA = 8,
    OFF_SPA = 14,
    OFF_THA = 18,
    OFF_TPA = 24,
};

int arp_repr_parse(const uint8_t *buf, size_t len, struct arp_repr *out)
{
    if (!buf || len < ARP_LEN)
        return -EBADMSG;
    /* RFC 826: "?Do I have the hardware type in ar$hrd?" and "?Do I speak
     * the protocol in ar$pro?"; the lengths must then be Ethernet's and
     * IPv4's, or the addresses below are not where we read them. */
    if (wire_ld16(buf + OFF_HTYPE) != ARP_HTYPE_ETHER || wire_ld16(buf + OFF_PTYPE) != ARP_PTYPE_IPV4 ||
        buf[OFF_HLEN] != ETH_ALEN || buf[OFF_PLEN] != 4)
        return -EPROTONOSUPPORT;
    uint16_t op = wire_ld16(buf + OFF_OP);
    if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)
        return -EPROTONOSUPPORT; /* RARP (3/4), InARP (8/9) and others are not ARP's job */
    out->op = op;
    memcpy(out->sha, buf + OFF_SHA, ETH_ALEN);
    out->spa = wire_ld32(buf + OFF_SPA);
    memcpy(out->tha, buf + OFF_THA, ETH_ALEN);
    out->tpa = wire_ld32(buf + OFF_TPA);
    return 0;
}

void arp_repr_emit(const struct arp_repr *r, uint8_t *buf)
{
    wire_st16(buf + OFF_HTYPE, ARP_HTYPE_ETHER);
    wire_st16(buf + OFF_PTYPE, ARP_PTYPE_IPV4);
    buf[OFF_HLEN] = ETH_ALEN;
    buf[OFF_PLEN] = 4;
    wire_st16(buf + OFF_OP, r->op);
    memcpy(buf + OFF_SHA, r->sha, ETH_ALEN);
    wire_st32(buf + OFF_SPA, r->spa);
    memcpy(buf + OFF_THA, r->tha, ETH_ALEN);
    wire_st32(buf + OFF_TPA, r->tpa);
}
