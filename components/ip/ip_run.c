/* Runs of TCP segments from a coalescing driver (skb 2.6 LYRA_SKB_F_GRO,
 * l3 2.3): each datagram of a run is counted, and a protocol built before
 * l3 2.3 gets them one by one. Out of ip.c's path for single datagrams. */
#include "ip_internal.h"

void ip_count_run(struct ip *ip, const struct lyra_skb *head)
{
    uint32_t n = lyra_skb_chained(head, &ip->st.rx_bytes);
    ip->st.rx_packets += n;
    ip->st.rx_bytes += (uint64_t)n * IPV4_HDR_LEN; /* their headers, the head's but for length */
}

void ip_deliver_run(struct ip *ip, const struct ip_proto *p, struct lyra_skb *head,
                    const struct lyra_l3_rxinfo *info)
{
    ip->st.rx_delivered += lyra_skb_chained(head, NULL);
    if (p->ev->hdr.minor >= 3) {
        p->ev->rx(p->user, head, info);
        return;
    }
    struct lyra_skb *chain = lyra_skb_unchain(head), *c;
    p->ev->rx(p->user, head, info);
    while ((c = lyra_skb_pop(&chain))) /* at its TCP header, its offsets set (skb 2.6) */
        p->ev->rx(p->user, c, info);
}
