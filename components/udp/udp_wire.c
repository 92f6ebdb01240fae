/* UDP header and checksum (see udp_wire.h). */
#include "udp_wire.h"

#include "lyra/inet_csum.h"

enum udp_parse_result udp_hdr_parse(const uint8_t *p, uint32_t avail, struct udp_hdr *h)
{
    if (avail < UDP_HDR_LEN)
        return UDP_E_SHORT;
    h->sport = udp_ld16(p);
    h->dport = udp_ld16(p + 2);
    h->len = udp_ld16(p + 4);
    h->csum = udp_ld16(p + 6);
    /* RFC 768: the length counts header and data, so at least 8; more
     * than IP carried is a truncated datagram; less leaves padding, which
     * the caller trims. */
    if (h->len < UDP_HDR_LEN || h->len > avail)
        return UDP_E_LEN;
    return UDP_OK;
}

void udp_hdr_build(uint8_t *p, const struct udp_hdr *h)
{
    udp_st16(p, h->sport);
    udp_st16(p + 2, h->dport);
    udp_st16(p + 4, h->len);
    udp_st16(p + 6, h->csum);
}

uint32_t udp_pseudo_sum(uint32_t src, uint32_t dst, uint16_t udp_len)
{
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 17u + udp_len;
}

