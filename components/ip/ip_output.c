/* ip output (RFC 791): one datagram, or fragments (frag.c), handed to l2.
 * Ownership follows l3 2.0 / l2 2.0 (l3.h): ip_output_keep leaves a
 * refused skb with its caller; ip_output, for ip's own ICMP, frees it. */
#include <errno.h>
#include <stdbool.h>

#include "frag.h"
#include "ip_internal.h"

/* Hands one finished datagram (data at its IP header) to l2. 0: taken;
 * negative: l2 refused it and we keep it (l2 2.0). */
static int l2_send(struct ip *ip, struct lyra_skb *skb, uint32_t next_hop)
{
    uint32_t len = lyra_skb_total(skb); /* read now: l2 may free it once taken */
    skb->protocol = LYRA_ETHERTYPE_IPV4;
    int r = ip->l2->output(ip->l2_self, skb, LYRA_ETHERTYPE_IPV4, next_hop);
    if (r) {
        ip->st.tx_l2_error++;
        return r;
    }
    ip->st.tx_packets++;
    ip->st.tx_bytes += len;
    return 0;
}

/* Counts an output refusal by its reason; returns err (the caller keeps
 * the skb, l3 2.0). */
static int refuse(uint64_t *counter, int err)
{
    (*counter)++;
    return err;
}

int ip_output_keep(struct ip *ip, struct lyra_skb *skb, uint32_t src, uint32_t dst,
                   uint8_t proto, uint8_t ttl, uint8_t tos, int df)
{
    if (!skb)
        return -EINVAL;
    if (!ip->started)
        return refuse(&ip->st.tx_down, -ENETDOWN);
    uint32_t next_hop, rsrc;
    if (ip_resolve_cached(ip, dst, &next_hop, &rsrc))
        return refuse(&ip->st.tx_noroute, -ENETUNREACH);
    if (src && src != ip->addr)
        return refuse(&ip->st.tx_bad_src, -EADDRNOTAVAIL);
    uint32_t n = lyra_skb_total(skb);
    if (n > IPV4_MAX_LEN - IPV4_HDR_LEN)
        return refuse(&ip->st.tx_too_big, -EMSGSIZE);
    /* RFC 1122 3.2.1.7: never a TTL of zero; 0 from a user means ours. */
    struct ipv4_repr h = {.src = src ? src : rsrc, .dst = dst, .proto = proto,
                          .ttl = ttl ? ttl : ip->ttl, .tos = tos, .id = ip->next_id++,
                          .df = df != 0, .payload_len = n};
    /* RFC 1191: no larger than the path MTU (a lookup only when some
     * destination has one below this datagram's size) */
    uint32_t mtu = ip->mtu;
    if (n + IPV4_HDR_LEN > ip->pmtu.low)
        mtu = ip_path_mtu(ip, dst);
    bool fits = n + IPV4_HDR_LEN <= mtu;
    if (skb->gso_size) {
        /* TSO (l3 2.2): sent whole for the NIC to cut, each of its
         * segments (the linear part is the TCP header) within the MTU */
        if (!ip->gso_segs)
            return refuse(&ip->st.tx_gso_refused, -EOPNOTSUPP);
        if (!df || proto != LYRA_IPPROTO_TCP || skb->nseg > ip->gso_segs ||
            skb->len + skb->gso_size + IPV4_HDR_LEN > mtu)
            return refuse(&ip->st.tx_gso_refused, -EMSGSIZE);
        ip->st.tx_gso++;
        fits = true;
    }
    if (fits) {
        uint8_t *p = lyra_skb_headroom(skb) >= ip_headroom(ip) ? lyra_skb_push(skb, IPV4_HDR_LEN)
                                                               : NULL;
        if (!p)
            return refuse(&ip->st.tx_headroom, -ENOBUFS);
        ipv4_repr_emit(&h, p);
        uint32_t l3_off = skb->l3_off;
        uint16_t protocol = skb->protocol;
        skb->l3_off = (uint32_t)(skb->data - skb->head);
        int r = l2_send(ip, skb, next_hop);
        if (r) { /* refused: back to the caller as it came */
            lyra_skb_pull(skb, IPV4_HDR_LEN);
            skb->l3_off = l3_off;
            skb->protocol = protocol;
        }
        return r;
    }
    if (df) /* RFC 791: DF set and too big: the datagram is not sent (RFC 1191 3:
             * the transport hears of it and sends smaller) */
        return refuse(&ip->st.tx_df_too_big, -EMSGSIZE);
    /* The NIC would sum the whole transport message; it will only ever
     * see fragments, so the sum is done here. skb.h counts csum_start
     * from head; nothing is pushed yet, so data is at the transport
     * header and the sum starts csum_start - headroom bytes into it. */
    if (skb->flags & LYRA_SKB_F_CSUM_TX) {
        uint32_t at = lyra_skb_headroom(skb);
        if (skb->csum_start < at ||
            frag_csum_resolve(skb, skb->csum_start - at, skb->csum_off, proto == LYRA_IPPROTO_UDP))
            return refuse(&ip->st.tx_bad_csum, -EINVAL);
    }
    struct lyra_skb_queue q;
    int r = frag_split(ip->skb, ip->skb_self, skb, &h, mtu, ip->l2_headroom, &q);
    if (r) {
        if (r == -ENOBUFS)
            ip->st.tx_nobuf++;
        else
            ip->st.tx_too_big++;
        return r;
    }
    /* The datagram is taken from here on: a fragment l2 refuses is counted
     * (tx_l2_error) and dropped, and the rest still go; the loss shows as
     * a reassembly timeout at the receiver, as a drop on the path would. */
    ip->st.tx_fragmented++;
    ip->copy_bytes += n; /* frag_split copied the payload into the fragments */
    struct lyra_skb *f;
    while ((f = lyra_skbq_pop(&q))) {
        ip->st.tx_fragments++;
        if (l2_send(ip, f, next_hop))
            lyra_skb_free(f);
    }
    return 0;
}

int ip_output(struct ip *ip, struct lyra_skb *skb, uint32_t src, uint32_t dst, uint8_t proto,
              uint8_t ttl, uint8_t tos, int df)
{
    int r = ip_output_keep(ip, skb, src, dst, proto, ttl, tos, df);
    if (r)
        lyra_skb_free(skb);
    return r;
}
