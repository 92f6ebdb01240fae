/* ICMP message parse and build (see icmp_wire.h). */
#include "icmp_wire.h"

#include <errno.h>
#include <string.h>

#include "lyra/inet_csum.h"

int icmp_view_init(struct icmp_view *v, const uint8_t *buf, size_t len)
{
    if (!buf || len < ICMP_HDR_LEN)
        return -EBADMSG;
    v->p = buf;
    v->len = len;
    return 0;
}

bool icmp_view_csum_ok(const struct icmp_view *v)
{
    return lyra_csum_fold(lyra_csum_add(v->p, v->len, 0)) == 0xffff;
}

int icmp_datagram_parse(const uint8_t *q, size_t qlen, struct lyra_l3_icmp_err *err)
{
    /* The header's total length describes the original datagram, not a
     * quote (which is cut short): check only what is here. */
    if (qlen < IPV4_HDR_LEN || (q[0] >> 4) != 4)
        return -EBADMSG;
    size_t hlen = (size_t)(q[0] & 0x0f) * 4;
    if (hlen < IPV4_HDR_LEN || qlen < hlen + 8)
        return -EBADMSG;
    memset(err, 0, sizeof(*err));
    err->proto = q[9];
    err->src = ip_ld32(q + 12);
    err->dst = ip_ld32(q + 16);
    memcpy(err->l4, q + hlen, 8);
    return 0;
}

int icmp_quote_parse(const struct icmp_view *v, struct lyra_l3_icmp_err *err)
{
    if (icmp_datagram_parse(icmp_view_body(v), icmp_view_body_len(v), err))
        return -EBADMSG;
    err->type = icmp_view_type(v);
    err->code = icmp_view_code(v);
    if (err->type == ICMP_DEST_UNREACH && err->code == ICMP_CODE_FRAG_NEEDED)
        err->mtu = icmp_view_mtu(v);
    return 0;
}

void icmp_hdr_emit(uint8_t *buf, uint8_t type, uint8_t code, uint32_t rest)
{
    buf[0] = type;
    buf[1] = code;
    buf[2] = buf[3] = 0;
    ip_st32(buf + 4, rest);
}

void icmp_set_csum(uint8_t *msg, size_t hdr_len, uint32_t body_sum)
{
    msg[2] = msg[3] = 0;
    uint32_t s = lyra_csum_add(msg, hdr_len, 0);
    /* Fold both sums first: each may be near 32 bits for long messages. */
    s = (uint32_t)lyra_csum_fold(s) + lyra_csum_fold(body_sum);
    ip_st16(msg + 2, (uint16_t)~lyra_csum_fold(s));
}
