/* IPv4 header parse and build (see ipv4_wire.h). */
#include "ipv4_wire.h"

#include "lyra/inet_csum.h"

enum ipv4_check ipv4_view_init(struct ipv4_view *v, const uint8_t *buf, size_t len)
{
    /* RFC 791 section 3.1, and RFC 1122 section 3.2.1.1-3.2.1.2 for what a
     * host must check. Each test below only reads bytes an earlier one
     * proved present. */
    if (!buf || len < IPV4_HDR_LEN)
        return IPV4_E_SHORT;
    if ((buf[0] >> 4) != 4)
        return IPV4_E_VERSION;
    size_t hlen = (size_t)(buf[0] & 0x0f) * 4;
    if (hlen < IPV4_HDR_LEN || hlen > len)
        return IPV4_E_HDRLEN;
    size_t tot = ip_ld16(buf + 2);
    if (tot < hlen || tot > len)
        return IPV4_E_TOTLEN;
    v->p = buf;
    v->len = tot;
    return IPV4_OK;
}

bool ipv4_view_csum_ok(const struct ipv4_view *v)
{
    return lyra_csum_fold(lyra_csum_add(v->p, ipv4_view_hlen(v), 0)) == 0xffff;
}

void ipv4_hdr_set_csum(uint8_t *hdr, unsigned hlen)
{
    hdr[10] = hdr[11] = 0;
    ip_st16(hdr + 10, (uint16_t)~lyra_csum_fold(lyra_csum_add(hdr, hlen, 0)));
}

void ipv4_repr_emit(const struct ipv4_repr *r, uint8_t *buf)
{
    buf[0] = 0x45; /* version 4, IHL 5 */
    buf[1] = r->tos;
    ip_st16(buf + 2, (uint16_t)(IPV4_HDR_LEN + r->payload_len));
    ip_st16(buf + 4, r->id);
    uint16_t fo = (uint16_t)((r->frag_off / 8) & IPV4_OFF_MASK);
    if (r->df)
        fo |= IPV4_DF;
    if (r->mf)
        fo |= IPV4_MF;
    ip_st16(buf + 6, fo);
    buf[8] = r->ttl;
    buf[9] = r->proto;
    ip_st32(buf + 12, r->src);
    ip_st32(buf + 16, r->dst);
    ipv4_hdr_set_csum(buf, IPV4_HDR_LEN);
}
