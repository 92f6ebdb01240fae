/* ICMP (RFC 792) as a host needs it (RFC 1122 section 3.2.2): echo
 * replies, destination unreachable and time exceeded about datagrams we
 * received, rate-limited, and received errors passed to the transport whose
 * datagram they quote. Echo replies, and errors about our echo requests,
 * go to the ping sockets (icmp_sock.c).
 *
 * Ownership: icmp_input takes the skb; every path below ends in a hand-over
 * (ip_output, a user's rx) or a lyra_skb_free next to its counter. */
#include <errno.h>
#include <string.h>

#include "icmp_wire.h"
#include "ip_internal.h"
#include "lyra/inet_csum.h"

#define NS_PER_S 1000000000ull

/* ----- rate limit --------------------------------------------------------- */

void icmp_tb_init(struct ip_tbucket *tb, uint32_t rate, uint32_t burst, uint64_t now)
{
    tb->rate = rate;
    tb->burst = burst;
    tb->level = (uint64_t)burst * NS_PER_S; /* start full */
    tb->last = now;
}

bool icmp_tb_take(struct ip_tbucket *tb, uint64_t now)
{
    uint64_t cap = (uint64_t)tb->burst * NS_PER_S;
    if (tb->rate == 0)
        return false; /* icmp_rate=0: no errors at all */
    uint64_t dt = now > tb->last ? now - tb->last : 0;
    tb->last = now;
    /* dt * rate cannot overflow below cap (burst <= 1000, rate <= 10000) */
    if (dt >= cap)
        tb->level = cap;
    else if (tb->level + dt * tb->rate >= cap)
        tb->level = cap;
    else
        tb->level += dt * tb->rate;
    if (tb->level < NS_PER_S)
        return false;
    tb->level -= NS_PER_S;
    return true;
}

/* ----- errors we send ----------------------------------------------------- */

/* RFC 1122 section 3.2.2: a source that is not one host (zero, broadcast,
 * multicast, class E, loopback) gets no error. */
static bool src_is_unique_host(const struct ip *ip, uint32_t a)
{
    return a != 0 && !ipv4_is_mcast(a) && !ipv4_is_class_e(a) && !ipv4_is_loopback(a) &&
           !ip_addr_is_bcast(ip, a);
}

int icmp_send_error(struct ip *ip, const struct lyra_skb *orig, uint8_t type, uint8_t code,
                    uint32_t mtu)
{
    if (!ip->started || !orig)
        return -ENETDOWN;
    /* The datagram's IP header is at l3_off (l3.h); only the linear part
     * is read, and only what is there. */
    const uint8_t *end = orig->data + orig->len;
    if (orig->l3_off > orig->size || orig->head + orig->l3_off > end ||
        end - (orig->head + orig->l3_off) < IPV4_HDR_LEN) {
        ip->st.icmp_err_suppressed++;
        return -EINVAL;
    }
    const uint8_t *h = orig->head + orig->l3_off;
    if ((h[0] >> 4) != 4) {
        ip->st.icmp_err_suppressed++;
        return -EINVAL;
    }
    size_t avail = (size_t)(end - h);
    size_t hlen = (size_t)(h[0] & 0x0f) * 4;
    size_t tot = ip_ld16(h + 2);
    if (hlen < IPV4_HDR_LEN || hlen > avail || tot < hlen) {
        ip->st.icmp_err_suppressed++;
        return -EINVAL;
    }
    uint32_t src = ip_ld32(h + 12), dst = ip_ld32(h + 16);
    uint8_t proto = h[9];
    bool nonfirst = (ip_ld16(h + 6) & IPV4_OFF_MASK) != 0;
    /* RFC 1122 section 3.2.2: never about an ICMP error (or a message whose
     * type we cannot see), a datagram to a broadcast or multicast address
     * (IP or link layer), a fragment other than the first, or a source that
     * is not a single host. */
    bool about_icmp_err = proto == LYRA_IPPROTO_ICMP &&
                          (avail <= hlen || icmp_type_is_error(h[hlen]));
    if (about_icmp_err || nonfirst || ip_addr_is_bcast(ip, dst) || ipv4_is_mcast(dst) ||
        (orig->flags & (LYRA_SKB_F_BCAST | LYRA_SKB_F_MCAST)) || !src_is_unique_host(ip, src)) {
        ip->st.icmp_err_suppressed++;
        return -EAGAIN;
    }
    if (!icmp_tb_take(&ip->icmp_tb, lyra_now(&ip->os))) {
        ip->st.icmp_rate_limited++;
        return -EAGAIN;
    }
    size_t q = tot < avail ? tot : avail;
    if (q > IP_ICMP_ERR_MAX - IPV4_HDR_LEN - ICMP_HDR_LEN)
        q = IP_ICMP_ERR_MAX - IPV4_HDR_LEN - ICMP_HDR_LEN;
    uint32_t n = (uint32_t)(ICMP_HDR_LEN + q);
    /* An error is a control segment: it may use the control reserve. */
    struct lyra_skb *skb =
        lyra_skb_alloc_cls(ip->skb, ip->skb_self, LYRA_SKB_CTL, ip_headroom(ip), n);
    uint8_t *p = skb ? lyra_skb_put(skb, n) : NULL;
    if (!p) {
        ip->st.icmp_out_nobuf++;
        lyra_skb_free(skb);
        return -ENOBUFS;
    }
    icmp_hdr_emit(p, type, code,
                  type == ICMP_DEST_UNREACH && code == ICMP_CODE_FRAG_NEEDED ? (mtu & 0xffff) : 0);
    memcpy(p + ICMP_HDR_LEN, h, q);
    ip->copy_bytes += q;
    icmp_set_csum(p, n, 0);
    ip->st.icmp_out_errors++;
    /* From the address the datagram was sent to when it is ours (it is,
     * broadcasts having been refused above); TOS internetwork control as
     * RFC 1812 4.3.2.5 suggests and Linux does. */
    return ip_output(ip, skb, dst == ip->addr ? dst : 0, src, LYRA_IPPROTO_ICMP, 0, 0xc0, 0);
}

/* ----- received messages -------------------------------------------------- */

/* RFC 792 echo: the reply carries the request's identifier, sequence
 * number and data; only the type and the checksum change. Built in place
 * when the request's buffer can carry it (the usual case). */
static void echo_reply(struct ip *ip, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info)
{
    ip->st.icmp_echo_requests++;
    /* RFC 1122 3.2.2.6: an echo request to a broadcast address may be
     * silently discarded; we do (no smurf amplifier). */
    if ((info->flags & (LYRA_L3_F_BCAST | LYRA_L3_F_MCAST)) ||
        (skb->flags & (LYRA_SKB_F_BCAST | LYRA_SKB_F_MCAST))) {
        ip->st.icmp_echo_bcast++;
        lyra_skb_free(skb);
        return;
    }
    if (!lyra_skb_is_linear(skb) || lyra_skb_headroom(skb) < ip_headroom(ip)) {
        struct lyra_skb *c = ip->skb->alloc(ip->skb_self, ip_headroom(ip), lyra_skb_total(skb));
        uint8_t *p = c ? lyra_skb_put(c, lyra_skb_total(skb)) : NULL;
        if (!p || ip->skb->copy_out(ip->skb_self, skb, 0, p, lyra_skb_total(skb)) < 0) {
            ip->st.icmp_echo_nobuf++;
            lyra_skb_free(c);
            lyra_skb_free(skb);
            return;
        }
        ip->copy_bytes += lyra_skb_total(skb);
        lyra_skb_free(skb);
        skb = c;
    }
    uint8_t *m = skb->data;
    m[0] = ICMP_ECHO_REPLY;
    m[1] = 0;
    icmp_set_csum(m, skb->len, 0);
    skb->flags &= (uint16_t)~(LYRA_SKB_F_BCAST | LYRA_SKB_F_MCAST | LYRA_SKB_F_HOST |
                              LYRA_SKB_F_CSUM_OK | LYRA_SKB_F_CSUM_TX | LYRA_SKB_F_L3CSUM_OK);
    if (ip_output(ip, skb, info->dst, info->src, LYRA_IPPROTO_ICMP, 0, info->tos, 0) == 0)
        ip->st.icmp_echo_replies++;
}

/* An error about a datagram we sent: to the transport that sent it, or
 * to the ping socket whose echo request it quotes. */
static void deliver_error(struct ip *ip, struct lyra_l3_icmp_err *err)
{
    if (err->proto == LYRA_IPPROTO_ICMP && icmp_sock_error(ip, err))
        return;
    const struct ip_proto *p = ip_proto_find(ip, err->proto);
    if (!p || !p->ev->icmp_error) {
        ip->st.icmp_in_error_unclaimed++;
        return;
    }
    p->ev->icmp_error(p->user, err);
}

/* A received error message about a datagram we sent. */
static void error_input(struct ip *ip, const struct icmp_view *v)
{
    struct lyra_l3_icmp_err err;
    ip->st.icmp_in_errors++;
    if (icmp_quote_parse(v, &err) || err.src != ip->addr) {
        ip->st.icmp_in_error_bad++; /* not a datagram of ours */
        return;
    }
    if (err.type == ICMP_DEST_UNREACH && err.code == ICMP_CODE_FRAG_NEEDED) {
        /* RFC 1191: the transport decides whether to believe it (l3.h);
         * a router of before RFC 1191 sends no MTU (section 5): guess the
         * plateau below the length of what it could not forward */
        ip->st.icmp_in_frag_needed++;
        if (err.mtu == 0) {
            ip->st.icmp_in_mtu_guessed++;
            err.mtu = pmtu_plateau(ip_ld16(icmp_view_body(v) + 2));
        }
    }
    deliver_error(ip, &err);
}

/* l2 2.2: the link gave up on one of our datagrams (its next hop never
 * answered ARP). Its sender learns it as ICMP host unreachable would have
 * told it, as Linux reports a failed neighbour (ip_link_failure), marked
 * local (l3 2.4): it ends a TCP connect, and is a soft error to an open
 * connection (tcp_icmp.c); an error to a connected UDP socket, "host
 * unreachable" to a ping socket. */
void icmp_link_unreachable(struct ip *ip, const struct lyra_skb *skb)
{
    uint8_t q[60 + 8]; /* the longest IPv4 header and 8 bytes behind it */
    struct lyra_l3_icmp_err err;
    uint32_t n = lyra_skb_flatten(skb, q, sizeof(q));
    if (icmp_datagram_parse(q, n, &err) || err.src != ip->addr)
        return; /* not a datagram of ours with 8 transport bytes */
    ip->st.tx_link_unreachable++;
    err.type = ICMP_DEST_UNREACH;
    err.code = ICMP_CODE_HOST_UNREACH;
    err.local = 1; /* l3 2.4 */
    deliver_error(ip, &err);
}

void icmp_input(struct ip *ip, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info)
{
    struct icmp_view v;
    ip->st.icmp_in++;
    if (icmp_view_init(&v, skb->data, skb->len)) {
        ip->st.icmp_in_short++;
        lyra_skb_free(skb);
        return;
    }
    if (!icmp_view_csum_ok(&v)) {
        ip->st.icmp_in_csum++;
        lyra_skb_free(skb);
        return;
    }
    switch (icmp_view_type(&v)) {
    case ICMP_ECHO:
        echo_reply(ip, skb, info);
        return;
    case ICMP_DEST_UNREACH:
    case ICMP_TIME_EXCEEDED:
    case ICMP_PARAM_PROBLEM:
        error_input(ip, &v);
        lyra_skb_free(skb);
        return;
    case ICMP_ECHO_REPLY:
        /* RFC 792: the identifier says which of our echo requests it
         * answers, so which ping socket gets it (RFC 1122 3.2.2.6: passed
         * to the application). */
        ip->st.icmp_echo_reply_in++;
        if (icmp_sock_input(ip, skb, info))
            return;
        if (!ip_proto_find(ip, LYRA_IPPROTO_ICMP)) {
            ip->st.icmp_sock_no_endpoint++;
            lyra_skb_free(skb);
            return;
        }
        break; /* to the protocol 1 user below */
    case ICMP_SOURCE_QUENCH: /* RFC 6633: ignored */
    case ICMP_REDIRECT:      /* one link, no route cache to update */
        ip->st.icmp_in_ignored++;
        lyra_skb_free(skb);
        return;
    default:
        break;
    }
    /* The rest (and echo replies no socket took) go to a user that
     * registered ICMP. */
    const struct ip_proto *p = ip_proto_find(ip, LYRA_IPPROTO_ICMP);
    if (!p) {
        ip->st.icmp_in_unhandled++;
        lyra_skb_free(skb);
        return;
    }
    ip->st.icmp_in_delivered++;
    p->ev->rx(p->user, skb, info);
}
