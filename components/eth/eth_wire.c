/* Ethernet II header parse and build (see eth_wire.h). */
#include "eth_wire.h"

#include <errno.h>

const uint8_t eth_addr_bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

int eth_view_init(struct eth_view *v, const uint8_t *buf, size_t len)
{
    /* The one length check: every accessor reads within the first 14 bytes. */
    if (!buf || len < ETH_HDR_LEN)
        return -EBADMSG;
    v->p = buf;
    v->len = len;
    return 0;
}

int eth_repr_parse(const uint8_t *buf, size_t len, struct eth_repr *out)
{
    struct eth_view v;
    int r = eth_view_init(&v, buf, len);
    if (r)
        return r;
    memcpy(out->dst, eth_view_dst(&v), ETH_ALEN);
    memcpy(out->src, eth_view_src(&v), ETH_ALEN);
    out->type = eth_view_type(&v);
    return 0;
}

void eth_repr_emit(const struct eth_repr *r, uint8_t *buf)
{
    memcpy(buf, r->dst, ETH_ALEN);
    memcpy(buf + ETH_ALEN, r->src, ETH_ALEN);
    wire_st16(buf + 2 * ETH_ALEN, r->type);
}

void eth_ipv4_mcast_mac(uint32_t group, uint8_t mac[ETH_ALEN])
{
    mac[0] = 0x01;
    mac[1] = 0x00;
    mac[2] = 0x5e;
    mac[3] = (uint8_t)((group >> 16) & 0x7f);
    mac[4] = (uint8_t)(group >> 8);
    mac[5] = (uint8_t)group;
}
