/* The TCP header and checksum (see tcp_wire.h); options in tcp_wire_opts.c. */
#include "tcp_wire.h"

#include "lyra/inet_csum.h"

static const char *const result_names[TCP_PARSE_NRESULTS] = {
    [TCP_OK] = "ok",
    [TCP_E_SHORT] = "short",
    [TCP_E_DOFF_SMALL] = "doff_small",
    [TCP_E_DOFF_BEYOND] = "doff_beyond",
    [TCP_E_OPT_TRUNC] = "opt_trunc",
    [TCP_E_OPT_LEN] = "opt_len",
    [TCP_E_OPT_OVERRUN] = "opt_overrun",
    [TCP_E_MSS_LEN] = "mss_len",
    [TCP_E_WS_LEN] = "ws_len",
    [TCP_E_SACK_PERM_LEN] = "sack_perm_len",
    [TCP_E_SACK_LEN] = "sack_len",
    [TCP_E_TS_LEN] = "ts_len",
};

const char *tcp_parse_result_name(enum tcp_parse_result r)
{
    return (unsigned)r < TCP_PARSE_NRESULTS ? result_names[r] : "?";
}

enum tcp_parse_result tcp_repr_parse(const uint8_t *p, uint32_t len, struct tcp_repr *r)
{
    if (len < TCP_HDR_LEN)
        return TCP_E_SHORT;
    uint32_t hlen = (uint32_t)(p[12] >> 4) * 4;
    if (hlen < TCP_HDR_LEN)
        return TCP_E_DOFF_SMALL; /* RFC 9293 3.1: at least 5 words */
    if (hlen > len)
        return TCP_E_DOFF_BEYOND;
    r->sport = tcp_ld16(p);
    r->dport = tcp_ld16(p + 2);
    r->seq = tcp_seq(tcp_ld32(p + 4));
    r->ack = tcp_seq(tcp_ld32(p + 8));
    r->hlen = (uint8_t)hlen;
    r->reserved = p[12] & 0x0f;
    r->flags = p[13];
    r->window = tcp_ld16(p + 14);
    r->csum = tcp_ld16(p + 16);
    r->urg = tcp_ld16(p + 18);
    r->payload_off = (uint16_t)hlen;
    r->payload_len = len - hlen;
    return tcp_opts_parse(p + TCP_HDR_LEN, hlen - TCP_HDR_LEN, &r->opt);
}

uint32_t tcp_repr_build(uint8_t *p, uint32_t cap, const struct tcp_repr *r)
{
    const struct tcp_hdr_opts *o = &r->opt;
    if ((o->has & TCP_HAS_SACK) && (o->nsack < 1 || o->nsack > TCP_SACK_MAX))
        return 0;
    uint32_t olen = tcp_opts_len(o);
    uint32_t hlen = TCP_HDR_LEN + olen;
    if (olen > TCP_OPT_MAX || hlen > cap)
        return 0;
    tcp_st16(p, r->sport);
    tcp_st16(p + 2, r->dport);
    tcp_st32(p + 4, r->seq.v);
    tcp_st32(p + 8, r->ack.v);
    p[12] = (uint8_t)((hlen / 4) << 4 | (r->reserved & 0x0f));
    p[13] = r->flags;
    tcp_st16(p + 14, r->window);
    tcp_st16(p + 16, r->csum);
    tcp_st16(p + 18, r->urg);
    tcp_opts_build(p + TCP_HDR_LEN, o);
    return hlen;
}

uint32_t tcp_pseudo_sum(uint32_t src, uint32_t dst, uint32_t tcp_len)
{
    /* the length is 16 bits in the pseudo header (RFC 9293 3.1) */
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + TCP_PROTO +
           (tcp_len & 0xffff);
}

bool tcp_csum_sum_ok(uint32_t sum)
{
    return lyra_csum_fold(sum) == 0xffff;
}

bool tcp_csum_verify(const uint8_t *p, uint32_t len, uint32_t src, uint32_t dst)
{
    uint32_t sum = lyra_csum_fold(tcp_pseudo_sum(src, dst, len));
    return tcp_csum_sum_ok(lyra_csum_fold(lyra_csum_add(p, len, sum)));
}

void tcp_csum_fill(uint8_t *p, uint32_t len, uint32_t src, uint32_t dst)
{
    tcp_st16(p + TCP_CSUM_OFF, 0);
    uint32_t sum = lyra_csum_fold(tcp_pseudo_sum(src, dst, len));
    /* unlike UDP's, a computed 0 is sent as 0: TCP has no "no checksum" */
    tcp_st16(p + TCP_CSUM_OFF, (uint16_t)~lyra_csum_fold(lyra_csum_add(p, len, sum)));
}
