/* What a transport asks ip before it builds a datagram (l3 route and
 * pmtu_update): source, next hop, path MTU (pmtu.c's table), the NIC's
 * offloads. */
#include <errno.h>

#include "ip_internal.h"

uint32_t ip_path_mtu(struct ip *ip, uint32_t dst)
{
    return ip->pmtu.n ? pmtu_get(&ip->pmtu, dst, ip->mtu, lyra_now(&ip->os)) : ip->mtu;
}

int ip_l3_route(void *self, uint32_t dst, struct lyra_l3_route *rt)
{
    struct ip *ip = self;
    uint32_t nh, src;
    if (!rt)
        return -EINVAL;
    if (ip_resolve_cached(ip, dst, &nh, &src))
        return -ENETUNREACH;
    rt->src = src;
    rt->next_hop = nh;
    rt->mtu = ip_path_mtu(ip, dst);
    rt->csum_tx = ip->csum_tx;
    rt->gso_segs = ip->gso_segs;
    rt->link_mtu = (uint16_t)ip->mtu; /* at most IPV4_MAX_LEN (ip_start) */
    return 0;
}

/* l3 2.1: a transport believed a "fragmentation needed" (l3.h). */
int ip_l3_pmtu_update(void *self, uint32_t dst, uint32_t mtu)
{
    struct ip *ip = self;
    uint32_t nh, src;
    if (ip_resolve(ip, dst, &nh, &src))
        return -ENETUNREACH;
    return pmtu_update(&ip->pmtu, dst, mtu, ip->mtu, lyra_now(&ip->os));
}
