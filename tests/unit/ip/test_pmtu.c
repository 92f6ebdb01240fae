/* Path MTU discovery (RFC 1191) in ip: the table alone (pmtu.c: floor,
 * never raised by a claim, aging, eviction, the plateau table), then the
 * component (ip_fixture.h, ip at 192.0.2.2/25 behind the router
 * 192.0.2.1): a Linux router's real "fragmentation needed"
 * (tests/data/ip/tcp-frag-needed-linux.pcap, README.txt there) goes up to
 * the TCP user with its next-hop MTU and changes nothing until the user
 * believes it (l3 2.1 pmtu_update); then route, output's fragmentation and
 * DF refusal follow the path MTU, per destination, until it ages out on
 * the fake clock. */
#include "ip_fixture.h"
#include "pmtu.h"

#define PEER IP(192, 0, 2, 130) /* beyond the router, its link of MTU 1280 */
#define ROUTER IP(192, 0, 2, 1)
#define OTHER IP(192, 0, 2, 200)
#define MIN10 (600 * S)

/* ----- the table alone ----------------------------------------------------- */

/* RFC 1191 section 7, table 7-1: the largest plateau below the length. */
Test(pmtu_table, plateau_below_the_quoted_length)
{
    cr_assert_eq(pmtu_plateau(1512), 1492); /* a 1500-byte link's full TCP segment */
    cr_assert_eq(pmtu_plateau(1500), 1492);
    cr_assert_eq(pmtu_plateau(1492), 1006); /* strictly below: 1492 itself did not pass */
    cr_assert_eq(pmtu_plateau(65535), 32000);
    cr_assert_eq(pmtu_plateau(70000), 65535);
    cr_assert_eq(pmtu_plateau(576), 508);
    cr_assert_eq(pmtu_plateau(69), 68);
    cr_assert_eq(pmtu_plateau(68), 0, "no plateau below the minimum");
    cr_assert_eq(pmtu_plateau(0), 0);
}

/* RFC 1191 3 (a host never believes less than 68; here the floor, 552 as
 * Linux's min_pmtu: RFC 5927 section 7), 6.3 (a Datagram Too Big never
 * raises the estimate; never above the link's). */
Test(pmtu_table, only_lowered_within_floor_and_link)
{
    struct pmtu_entry mem[4];
    struct pmtu_table t;
    pmtu_init(&t, mem, 4, 552, MIN10);
    cr_assert_eq(pmtu_get(&t, PEER, 1500, 0), 1500);
    cr_assert_eq(pmtu_update(&t, PEER, 551, 1500, 0), -ERANGE);
    cr_assert_eq(t.st.below_min, 1);
    cr_assert_eq(t.n, 0);
    cr_assert_eq(pmtu_update(&t, PEER, 1500, 1500, 0), 1500, "the link's MTU is no news");
    cr_assert_eq(pmtu_update(&t, PEER, 9000, 1500, 0), 1500, "never above the link");
    cr_assert_eq(t.n, 0);
    cr_assert_eq(pmtu_update(&t, PEER, 1280, 1500, 0), 1280);
    cr_assert_eq(pmtu_update(&t, PEER, 1400, 1500, 1), 1280, "a claim raised it");
    cr_assert_eq(pmtu_update(&t, PEER, 1280, 1500, 2), 1280);
    cr_assert_eq(t.st.not_lower, 4);
    cr_assert_eq(pmtu_update(&t, PEER, 552, 1500, 3), 552);
    cr_assert_eq(t.st.lowered, 2);
    cr_assert_eq(t.n, 1);
    cr_assert_eq(pmtu_get(&t, PEER, 1500, 4), 552);
    cr_assert_eq(pmtu_get(&t, OTHER, 1500, 4), 1500, "per destination");
    cr_assert_eq(t.low, 552);
}

/* RFC 1191 6.3: the estimate goes back to the link's `timeout` after its
 * last lowering (not after the first). */
Test(pmtu_table, ages_out_after_the_last_lowering)
{
    struct pmtu_entry mem[2];
    struct pmtu_table t;
    pmtu_init(&t, mem, 2, 552, MIN10);
    cr_assert_eq(pmtu_update(&t, PEER, 1400, 1500, 0), 1400);
    cr_assert_eq(pmtu_update(&t, PEER, 1280, 1500, 100 * S), 1280);
    cr_assert_eq(pmtu_update(&t, PEER, 1300, 1500, 200 * S), 1280); /* not a lowering */
    cr_assert_eq(pmtu_get(&t, PEER, 1500, 100 * S + MIN10 - 1), 1280);
    cr_assert_eq(pmtu_get(&t, PEER, 1500, 100 * S + MIN10), 1500);
    cr_assert_eq(t.st.expired, 1);
    cr_assert_eq(t.n, 0);
    cr_assert_eq(t.low, UINT32_MAX);
}

/* pmtu.h's eviction rule: a full table takes a new destination in place of
 * an aged-out entry, else of the one lowered longest ago. */
Test(pmtu_table, full_table_replaces_aged_out_then_oldest)
{
    struct pmtu_entry mem[2];
    struct pmtu_table t;
    pmtu_init(&t, mem, 2, 552, MIN10);
    uint32_t a = IP(192, 0, 2, 131), b = IP(192, 0, 2, 132), c = IP(192, 0, 2, 133);
    cr_assert_eq(pmtu_update(&t, a, 1400, 1500, 0), 1400);
    cr_assert_eq(pmtu_update(&t, b, 1400, 1500, 10 * S), 1400);
    cr_assert_eq(pmtu_update(&t, a, 1280, 1500, 20 * S), 1280); /* a lowered again: b is older */
    cr_assert_eq(pmtu_update(&t, c, 1000, 1500, 30 * S), 1000);
    cr_assert_eq(t.st.evicted, 1);
    cr_assert_eq(pmtu_get(&t, a, 1500, 31 * S), 1280);
    cr_assert_eq(pmtu_get(&t, b, 1500, 31 * S), 1500, "b, lowered longest ago, should have gone");
    cr_assert_eq(pmtu_get(&t, c, 1500, 31 * S), 1000);
    /* now a (20 s) is the older: b comes back in its place */
    cr_assert_eq(pmtu_update(&t, b, 1300, 1500, 40 * S), 1300);
    cr_assert_eq(t.st.evicted, 2);
    cr_assert_eq(pmtu_get(&t, a, 1500, 41 * S), 1500);
    cr_assert_eq(pmtu_get(&t, c, 1500, 41 * S), 1000);
    cr_assert_eq(t.low, 1000);
    /* once c has aged out, a newcomer takes its place, not a live one */
    uint64_t late = 30 * S + MIN10;
    cr_assert_eq(pmtu_update(&t, a, 900, 1500, late), 900);
    cr_assert_eq(t.st.evicted, 2, "a live entry went while an aged-out one was there");
    cr_assert_eq(t.st.expired, 1);
    cr_assert_eq(pmtu_get(&t, b, 1500, late), 1300);
    cr_assert_eq(pmtu_get(&t, a, 1500, late), 900);
    cr_assert_eq(t.low, 900);
}

/* ----- the component ------------------------------------------------------- */

#define BEHIND_ROUTER(...) \
    ((const char *const[]){"addr=192.0.2.2/25", "gateway=192.0.2.1", __VA_ARGS__, NULL})

/* ip behind the router, a TCP user registered. */
static void up(struct fx *f, const char *const *params)
{
    fx_up(f, params ? params : BEHIND_ROUTER("ttl=64"), NULL);
    cr_assert_eq(f->l3->register_proto(f->ip->self, LYRA_IPPROTO_TCP, &user_ev, &f->udp), 0);
}

static uint32_t route_mtu(struct fx *f, uint32_t dst, uint32_t *link)
{
    struct lyra_l3_route rt;
    memset(&rt, 0, sizeof(rt));
    cr_assert_eq(f->l3->route(f->ip->self, dst, &rt), 0);
    if (link)
        *link = rt.link_mtu;
    return rt.mtu;
}

/* The capture: Linux at 192.0.2.1 forwarding our 1512-byte TCP segment
 * (DF, seq 3909870329) toward 192.0.2.130 over its 1280-byte link. */
static void load_frag_needed(struct frame *fr)
{
    load_frame("ip/tcp-frag-needed-linux.pcap", 1, fr);
    cr_assert_eq(l3_len(fr), 576, "RFC 1812 4.3.2.3: Linux quotes up to 576 bytes");
}

/* RFC 1191 4 (the next-hop MTU in the low 16 bits of the unused field),
 * RFC 792 (the quote: IP header and the first 8 bytes of TCP), l3.h 2.1:
 * ip passes the error up with the router's MTU and records nothing itself:
 * the transport has to believe it first (RFC 5927 4.1). */
Test(ip_pmtu, linux_frag_needed_reaches_the_transport_with_its_mtu)
{
    struct fx f;
    up(&f, NULL);
    struct frame fr;
    load_frag_needed(&fr);
    deliver_frame(&f, &fr);
    cr_assert_eq(f.udp.errs, 1);
    const struct lyra_l3_icmp_err *e = &f.udp.err;
    cr_assert_eq(e->type, 3);
    cr_assert_eq(e->code, 4);
    cr_assert_eq(e->mtu, 1280);
    cr_assert_eq(e->src, STACK_IP);
    cr_assert_eq(e->dst, PEER);
    cr_assert_eq(e->proto, LYRA_IPPROTO_TCP);
    cr_assert_eq(ip_ld16(e->l4), 38816);
    cr_assert_eq(ip_ld16(e->l4 + 2), 9);
    cr_assert_eq(ip_ld32(e->l4 + 4), 3909870329u);
    cr_assert_eq(st(&f, "icmp_in_frag_needed"), 1);
    cr_assert_eq(st(&f, "icmp_in_mtu_guessed"), 0);
    uint32_t link;
    cr_assert_eq(route_mtu(&f, PEER, &link), 1500, "ip believed an ICMP nobody checked");
    cr_assert_eq(link, 1500);
    cr_assert_eq(st(&f, "pmtu_entries"), 0);
    fx_down(&f);
}

/* RFC 1191 section 5: a router of before RFC 1191 sends 0 in the MTU field
 * (the capture with its MTU field zeroed and the ICMP checksum made again:
 * Linux never sends one); ip passes up the largest plateau below the
 * quoted datagram's total length, 1512: 1492. */
Test(ip_pmtu, old_style_router_gets_the_plateau)
{
    struct fx f;
    up(&f, NULL);
    struct frame fr;
    load_frag_needed(&fr);
    uint8_t b[576];
    memcpy(b, l3(&fr), sizeof(b));
    cr_assert_eq(ip_ld16(b + 20 + 6), 1280);
    ip_st16(b + 20 + 6, 0);
    icmp_set_csum(b + 20, sizeof(b) - 20, 0);
    deliver_ip(&f, b, sizeof(b), LYRA_SKB_F_HOST);
    cr_assert_eq(f.udp.errs, 1);
    cr_assert_eq(f.udp.err.mtu, 1492);
    cr_assert_eq(st(&f, "icmp_in_mtu_guessed"), 1);
    fx_down(&f);
}

/* RFC 1191 3: once believed, the path MTU bounds what ip sends to that
 * destination: route says it (the link's beside it, for the MSS we
 * announce), a DF datagram above it is refused (EMSGSIZE: the transport
 * sends smaller), one without DF is fragmented to it; other destinations
 * keep the link's MTU. */
Test(ip_pmtu, believed_mtu_bounds_route_and_output_per_destination)
{
    struct fx f;
    up(&f, NULL);
    cr_assert_eq(f.l3->pmtu_update(f.ip->self, PEER, 1280), 1280);
    cr_assert_eq(st(&f, "pmtu_updates"), 1);
    cr_assert_eq(st(&f, "pmtu_entries"), 1);
    uint32_t link;
    cr_assert_eq(route_mtu(&f, PEER, &link), 1280);
    cr_assert_eq(link, 1500);
    cr_assert_eq(route_mtu(&f, OTHER, NULL), 1500);
    /* DF: 1260 bytes of IP fit, 1281 do not */
    struct lyra_skb *s = payload(&f, 1281 - 20);
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, PEER, LYRA_IPPROTO_TCP, 0, 0, 1), -EMSGSIZE);
    cr_assert_eq(st(&f, "tx_df_too_big"), 1);
    lyra_skb_free(s);
    s = payload(&f, 1280 - 20);
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, PEER, LYRA_IPPROTO_TCP, 0, 0, 1), 0);
    cr_assert_eq(f.l2.nout, 1);
    cr_assert_eq(f.l2.out[0].len, 1280);
    cr_assert_eq(f.l2.out[0].next_hop, ROUTER);
    /* the same DF datagram to another destination: the link's 1500 */
    s = payload(&f, 1400);
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, OTHER, LYRA_IPPROTO_TCP, 0, 0, 1), 0);
    cr_assert_eq(f.l2.nout, 2);
    cr_assert_eq(f.l2.out[1].len, 1420);
    /* without DF (udp): fragments of at most 1280 bytes */
    s = payload(&f, 1400);
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, PEER, LYRA_IPPROTO_UDP, 0, 0, 0), 0);
    cr_assert_eq(f.l2.nout, 4);
    struct ipv4_view v;
    for (unsigned i = 2; i < 4; i++) {
        check_ip(&f.l2.out[i], &v);
        cr_assert_leq(f.l2.out[i].len, 1280);
    }
    cr_assert_eq(f.l2.out[2].len, 1276); /* 1256 data bytes: a multiple of 8 */
    cr_assert_eq(st(&f, "tx_fragmented"), 1);
    fx_down(&f);
}

/* RFC 1191 6.3 on the fake clock: 10 minutes (pmtu_timeout's default)
 * after the last lowering the path is back at the link's MTU; a shorter
 * pmtu_timeout is honoured. */
Test(ip_pmtu, estimate_ages_out_on_the_clock)
{
    struct fx f;
    up(&f, NULL);
    cr_assert_eq(f.l3->pmtu_update(f.ip->self, PEER, 1280), 1280);
    fake_os_advance(f.os->self, MIN10 - 1);
    cr_assert_eq(route_mtu(&f, PEER, NULL), 1280);
    fake_os_advance(f.os->self, 1);
    cr_assert_eq(route_mtu(&f, PEER, NULL), 1500);
    cr_assert_eq(st(&f, "pmtu_expired"), 1);
    cr_assert_eq(st(&f, "pmtu_entries"), 0);
    struct lyra_skb *s = payload(&f, 1400);
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, PEER, LYRA_IPPROTO_TCP, 0, 0, 1), 0);
    cr_assert_eq(f.l2.out[0].len, 1420);
    fx_down(&f);

    up(&f, BEHIND_ROUTER("pmtu_timeout=30s"));
    cr_assert_eq(f.l3->pmtu_update(f.ip->self, PEER, 1280), 1280);
    fake_os_advance(f.os->self, 30 * S - 1);
    cr_assert_eq(route_mtu(&f, PEER, NULL), 1280);
    fake_os_advance(f.os->self, 1);
    cr_assert_eq(route_mtu(&f, PEER, NULL), 1500);
    fx_down(&f);
}

/* RFC 5927 section 7: a claim below pmtu_min (552 by default, as Linux's
 * min_pmtu) is ignored, so a forged message cannot make every segment
 * tiny; pmtu_min=68 (RFC 1191's minimum) takes it. */
Test(ip_pmtu, floor_refuses_tiny_claims)
{
    struct fx f;
    up(&f, NULL);
    cr_assert_eq(f.l3->pmtu_update(f.ip->self, PEER, 296), -ERANGE);
    cr_assert_eq(f.l3->pmtu_update(f.ip->self, PEER, 68), -ERANGE);
    cr_assert_eq(st(&f, "pmtu_below_min"), 2);
    cr_assert_eq(route_mtu(&f, PEER, NULL), 1500);
    cr_assert_eq(f.l3->pmtu_update(f.ip->self, PEER, 552), 552);
    cr_assert_eq(f.l3->pmtu_update(f.ip->self, PEER, 9000), 552);
    cr_assert_eq(st(&f, "pmtu_not_lower"), 1);
    cr_assert_eq(f.l3->pmtu_update(f.ip->self, 0, 1280), -ENETUNREACH, "no route to 0.0.0.0");
    fx_down(&f);

    up(&f, BEHIND_ROUTER("pmtu_min=68"));
    cr_assert_eq(f.l3->pmtu_update(f.ip->self, PEER, 296), 296);
    cr_assert_eq(route_mtu(&f, PEER, NULL), 296);
    fx_down(&f);
}

/* pmtu_entries sizes the table (os memory at start, freed at stop: the
 * leak check of fx_down); a full one replaces the entry lowered longest
 * ago. */
Test(ip_pmtu, pmtu_entries_bounds_the_table)
{
    struct fx f;
    up(&f, BEHIND_ROUTER("pmtu_entries=2"));
    for (unsigned k = 0; k < 3; k++) {
        uint32_t d = IP(192, 0, 2, 131 + k);
        cr_assert_eq(f.l3->pmtu_update(f.ip->self, d, 1400 - k), (int)(1400 - k));
        fake_os_advance(f.os->self, S);
    }
    cr_assert_eq(st(&f, "pmtu_entries"), 2);
    cr_assert_eq(st(&f, "pmtu_evicted"), 1);
    cr_assert_eq(route_mtu(&f, IP(192, 0, 2, 131), NULL), 1500, "the oldest stayed");
    cr_assert_eq(route_mtu(&f, IP(192, 0, 2, 132), NULL), 1399);
    cr_assert_eq(route_mtu(&f, IP(192, 0, 2, 133), NULL), 1398);
    fx_down(&f);
}
