/* The ip component wired to a hand-written fake l2, fake_os and skb_copy
 * (ip_fixture.h): echo, reassembly (with skb_copy's big buffers too),
 * fragmentation, routing, ICMP errors, malformed input, lifecycle. Every
 * test ends with fx_down's leak check. The ping sockets are tested in
 * test_icmp_sock.c. */
#include "ip_fixture.h"

/* ----- echo --------------------------------------------------------------- */

Test(ip, echo_reply_to_linux_request)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    for (unsigned k = 0; k < 2; k++) {
        struct frame q, a;
        load_frame("eth/ping-linux.pcap", 3 + 2 * k, &q);
        load_frame("eth/ping-linux.pcap", 4 + 2 * k, &a);
        deliver_frame(&f, &q);
        cr_assert_eq(f.l2.nout, k + 1);
        const struct out_rec *o = &f.l2.out[k];
        cr_assert_eq(o->next_hop, LINUX_IP);
        struct ipv4_view v;
        check_ip(o, &v);
        /* RFC 792: addresses reversed, type 0, code 0, checksum over the
         * message; identifier, sequence number and data as in the request */
        cr_assert_eq(ipv4_view_src(&v), STACK_IP);
        cr_assert_eq(ipv4_view_dst(&v), LINUX_IP);
        cr_assert_eq(ipv4_view_proto(&v), 1);
        cr_assert_eq(ipv4_view_ttl(&v), 64);
        cr_assert(!ipv4_view_is_frag(&v));
        struct icmp_view iv;
        cr_assert_eq(icmp_view_init(&iv, ipv4_view_payload(&v), ipv4_view_payload_len(&v)), 0);
        cr_assert_eq(icmp_view_type(&iv), ICMP_ECHO_REPLY);
        cr_assert_eq(icmp_view_code(&iv), 0);
        cr_assert(icmp_view_csum_ok(&iv));
        cr_assert_eq(memcmp(o->b + 24, l3(&q) + 24, l3_len(&q) - 24), 0,
                     "id, seq or data differ from the request");
        /* and the whole datagram is the kernel's own reply, but its IP ID */
        same_as_linux(o, l3(&a), l3_len(&a));
    }
    cr_assert_eq(st(&f, "icmp_echo_requests"), 2);
    cr_assert_eq(st(&f, "icmp_echo_replies"), 2);
    cr_assert_eq(st(&f, "tx_packets"), 2);
    /* IDs come from the counter: consecutive */
    cr_assert_eq((uint16_t)(ip_ld16(f.l2.out[0].b + 4) + 1), ip_ld16(f.l2.out[1].b + 4));
    fx_down(&f);
}

/* A received datagram whose payload sits in segments (a NIC or provider
 * that does not copy): ip pulls it up (counted) and answers as for
 * a linear one; with no room to pull it up, it is dropped and counted. */
Test(ip, nonlinear_request_pulled_up_and_answered)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    struct frame q, a;
    load_frame("eth/ping-linux.pcap", 3, &q);
    load_frame("eth/ping-linux.pcap", 4, &a);
    uint32_t n = l3_len(&q);
    static uint8_t rest[2048];
    memcpy(rest, l3(&q) + 24, n - 24);
    struct lyra_skb *s = f.so->alloc_rx(f.skb->self, n);
    memcpy(lyra_skb_put(s, 24), l3(&q), 24); /* IP header and 4 bytes of ICMP */
    /* descriptors live as long as the test: ip frees s before rx returns */
    struct lyra_skb_seg g[2] = {{.ptr = rest, .len = 10}, {.ptr = rest + 10, .len = n - 34}};
    lyra_skb_seg_append(s, &g[0]);
    lyra_skb_seg_append(s, &g[1]);
    s->protocol = LYRA_ETHERTYPE_IPV4;
    struct lyra_l2_rxinfo info = {.ethertype = LYRA_ETHERTYPE_IPV4, .flags = LYRA_SKB_F_HOST};
    s->flags |= LYRA_SKB_F_HOST;
    f.l2.ev->rx(f.l2.user, s, &info);
    cr_assert_eq(f.l2.nout, 1);
    same_as_linux(&f.l2.out[0], l3(&a), l3_len(&a));
    cr_assert_eq(st(&f, "rx_nonlinear"), 0);
    cr_assert_geq(st(&f, "copy_bytes"), n - 24, "the pull-up is a counted copy");

    /* a full buffer: no room to pull the segment up */
    s = f.so->alloc_rx(f.skb->self, 8);
    uint32_t room = s->size - lyra_skb_headroom(s);
    memset(lyra_skb_put(s, room), 0, room);
    g[0] = (struct lyra_skb_seg){.ptr = rest, .len = 100};
    lyra_skb_seg_append(s, &g[0]);
    f.l2.ev->rx(f.l2.user, s, &info);
    cr_assert_eq(st(&f, "rx_nonlinear"), 1);
    cr_assert_eq(f.l2.nout, 1);
    fx_down(&f);
}

Test(ip, echo_reply_with_options_and_padding)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    struct frame q;
    load_frame("eth/ping-linux.pcap", 3, &q);
    /* the same request with a 4-byte options field (NOP x3, EOL) and 6
     * bytes of Ethernet padding after it */
    uint8_t b[128] = {0};
    memcpy(b, l3(&q), 20);
    memcpy(b + 24, l3(&q) + 20, 64);
    b[0] = 0x46;
    b[20] = b[21] = b[22] = 1;
    ip_st16(b + 2, 88);
    ipv4_hdr_set_csum(b, 24);
    deliver_ip(&f, b, 94, LYRA_SKB_F_HOST);
    cr_assert_eq(f.l2.nout, 1);
    struct ipv4_view v;
    check_ip(&f.l2.out[0], &v);
    cr_assert_eq(ipv4_view_hlen(&v), 20, "no options in the reply");
    cr_assert_eq(v.len, 84);
    cr_assert_eq(memcmp(f.l2.out[0].b + 24, b + 28, 60), 0);
    fx_down(&f);
}

Test(ip, echo_to_broadcast_ignored)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    struct frame q;
    load_frame("eth/ping-linux.pcap", 3, &q);
    uint8_t b[128];
    memcpy(b, l3(&q), l3_len(&q));
    ip_st32(b + 16, IP(192, 0, 2, 255));
    ipv4_hdr_set_csum(b, 20);
    deliver_ip(&f, b, l3_len(&q), LYRA_SKB_F_BCAST);
    ip_st32(b + 16, IPV4_BCAST);
    ipv4_hdr_set_csum(b, 20);
    deliver_ip(&f, b, l3_len(&q), LYRA_SKB_F_BCAST);
    cr_assert_eq(f.l2.nout, 0);
    cr_assert_eq(st(&f, "icmp_echo_bcast"), 2);
    fx_down(&f);
}

Test(ip, icmp_user_gets_echo_replies)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"addr=192.0.2.1/24", NULL}, NULL);
    struct user ping = {.l3 = f.l3, .ip = f.ip->self};
    cr_assert_eq(f.l3->register_proto(f.ip->self, LYRA_IPPROTO_ICMP, &user_ev, &ping), 0);
    struct frame a;
    load_frame("eth/ping-linux.pcap", 4, &a); /* the kernel's reply to .1 */
    deliver_frame(&f, &a);
    cr_assert_eq(ping.rx, 1);
    cr_assert_eq(ping.last_len, 64);
    cr_assert_eq(ping.last[0], ICMP_ECHO_REPLY);
    cr_assert_eq(ping.info.src, STACK_IP);
    cr_assert(ping.l3_off_ok);
    fx_down(&f);
}

/* ----- reassembly --------------------------------------------------------- */

static void load_frag_ping(struct frame fr[6], unsigned first)
{
    for (unsigned i = 0; i < 6; i++)
        load_frame("ip/ping-frag-linux.pcap", first + i, &fr[i]);
}

/* Our reply to a reassembled 3000-byte echo request, as three fragments,
 * equals the kernel's three fragments except the IP ID and checksum. */
static void check_frag_reply(struct fx *f, unsigned at, struct frame fr[6])
{
    cr_assert_eq(f->l2.nout, at + 3);
    uint16_t id = ip_ld16(f->l2.out[at].b + 4);
    for (unsigned i = 0; i < 3; i++) {
        const struct out_rec *o = &f->l2.out[at + i];
        struct ipv4_view v;
        check_ip(o, &v);
        cr_assert_eq(ipv4_view_id(&v), id, "fragments of one datagram share its ID");
        cr_assert_eq(o->next_hop, LINUX_IP);
        same_as_linux(o, l3(&fr[3 + i]), l3_len(&fr[3 + i]));
    }
}

Test(ip, reassembles_linux_ping_in_order_reversed_dup)
{
    struct fx f;
    fx_up(&f, NULL, "buf_size=4096");
    struct frame fr[6];
    load_frag_ping(fr, 1);
    deliver_frame(&f, &fr[0]);
    deliver_frame(&f, &fr[1]);
    cr_assert_eq(f.l2.nout, 0);
    deliver_frame(&f, &fr[2]);
    check_frag_reply(&f, 0, fr);

    load_frag_ping(fr, 7); /* the second request: reversed, with duplicates */
    deliver_frame(&f, &fr[2]);
    deliver_frame(&f, &fr[2]);
    deliver_frame(&f, &fr[1]);
    deliver_frame(&f, &fr[2]);
    deliver_frame(&f, &fr[1]);
    cr_assert_eq(f.l2.nout, 3);
    deliver_frame(&f, &fr[0]);
    check_frag_reply(&f, 3, fr);
    cr_assert_eq(st(&f, "reass_ok"), 2);
    cr_assert_eq(st(&f, "reass_dup"), 3);
    cr_assert_eq(st(&f, "rx_frags"), 9);
    cr_assert_eq(st(&f, "tx_fragmented"), 2);
    cr_assert_eq(st(&f, "tx_fragments"), 6);
    cr_assert_eq(st(&f, "reass_in_progress"), 0);
    cr_assert_eq(fake_os_timers_armed(f.os->self), 0);
    fx_down(&f);
}

Test(ip, overlap_with_different_data_dropped)
{
    struct fx f;
    fx_up(&f, NULL, "buf_size=4096");
    struct frame fr[6];
    load_frag_ping(fr, 1);
    struct frame bad = fr[1];
    bad.b[ETH_HLEN + 20 + 100] ^= 0xff; /* same fragment, one byte different */
    deliver_frame(&f, &fr[0]);
    deliver_frame(&f, &fr[1]);
    deliver_frame(&f, &bad);
    deliver_frame(&f, &fr[2]);
    cr_assert_eq(f.l2.nout, 0, "no reply to a datagram with conflicting fragments");
    cr_assert_eq(st(&f, "reass_overlap"), 1);
    cr_assert_eq(st(&f, "reass_in_progress"), 1); /* fr[2] started over */
    fx_down(&f);
}

Test(ip, reassembly_timeout_30s)
{
    struct fx f;
    fx_up(&f, NULL, "buf_size=4096");
    struct frame fr[6];
    load_frag_ping(fr, 1);
    fake_os_advance(f.os->self, 1 * S);
    deliver_frame(&f, &fr[0]);
    deliver_frame(&f, &fr[1]);
    cr_assert_eq(fake_os_timers_armed(f.os->self), 1);
    fake_os_advance(f.os->self, 30 * S - 1);
    cr_assert_eq(st(&f, "reass_timeout"), 0);
    cr_assert_eq(st(&f, "reass_in_progress"), 1);
    fake_os_advance(f.os->self, 1);
    cr_assert_eq(st(&f, "reass_timeout"), 1);
    cr_assert_eq(st(&f, "reass_in_progress"), 0);
    cr_assert_eq(fake_os_timers_armed(f.os->self), 0);
    /* RFC 1122 3.3.2: fragment zero came, so time exceeded (reassembly) */
    cr_assert_eq(f.l2.nout, 1);
    struct ipv4_view v;
    check_ip(&f.l2.out[0], &v);
    cr_assert_eq(ipv4_view_dst(&v), LINUX_IP);
    struct icmp_view iv;
    cr_assert_eq(icmp_view_init(&iv, ipv4_view_payload(&v), ipv4_view_payload_len(&v)), 0);
    cr_assert(icmp_view_csum_ok(&iv));
    cr_assert_eq(icmp_view_type(&iv), ICMP_TIME_EXCEEDED);
    cr_assert_eq(icmp_view_code(&iv), ICMP_CODE_REASS_TIME);
    cr_assert_eq(memcmp(icmp_view_body(&iv), l3(&fr[0]), 20), 0, "quotes fragment zero");
    /* without fragment zero: dropped silently */
    deliver_frame(&f, &fr[2]);
    fake_os_advance(f.os->self, 31 * S);
    cr_assert_eq(st(&f, "reass_timeout"), 2);
    cr_assert_eq(f.l2.nout, 1);
    fx_down(&f);
}

Test(ip, reassembly_bounds)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"addr=192.0.2.2/24", "reass_max=2", NULL}, "buf_size=4096");
    uint8_t b[64], d[8] = {0};
    for (uint16_t id = 1; id <= 3; id++) {
        make_frag(b, LINUX_IP, STACK_IP, id, 17, 0, 1, d, 8);
        deliver_ip(&f, b, 28, LYRA_SKB_F_HOST);
    }
    cr_assert_eq(st(&f, "reass_in_progress"), 2);
    cr_assert_eq(st(&f, "reass_full"), 1);
    fx_down(&f);
}

Test(ip, reassembled_too_big_for_pool_buffers)
{
    struct fx f;
    fx_up(&f, NULL, NULL); /* 2048-byte buffers: 3028 bytes cannot be one skb */
    struct frame fr[6];
    load_frag_ping(fr, 1);
    for (unsigned i = 0; i < 3; i++)
        deliver_frame(&f, &fr[i]);
    cr_assert_eq(f.l2.nout, 0);
    cr_assert_eq(st(&f, "reass_too_big"), 1);
    fx_down(&f);
}

/* ----- big datagrams: skb_copy's big buffers ------------------------------ */

/* 2048-byte normal buffers, as a NIC needs, and a few big ones. */
#define SKB_BIG(n) \
    ((const char *const[]){"count=64", "buf_size=2048", "big_count=" #n, "big_size=16k", NULL})

static uint64_t skb_st(struct fx *f, const char *name)
{
    uint64_t v = lt_stat(f->skb, name);
    cr_assert_neq(v, UINT64_MAX, "skb_copy reports no counter %s", name);
    return v;
}

Test(ip, big_buffer_reassembles_ping_s_3000_and_the_reply_is_fragmented)
{
    struct fx f;
    fx_up_p(&f, NULL, SKB_BIG(2), NULL);
    struct frame fr[6];
    load_frag_ping(fr, 1);
    for (unsigned i = 0; i < 3; i++)
        deliver_frame(&f, &fr[i]);
    /* the 3028-byte request went into one big buffer; the reply was built
     * in it and cut into the kernel's three fragments, from normal buffers */
    check_frag_reply(&f, 0, fr);
    cr_assert_eq(st(&f, "reass_ok"), 1);
    cr_assert_eq(st(&f, "reass_too_big"), 0);
    cr_assert_eq(skb_st(&f, "big_alloc"), 1);
    cr_assert_eq(skb_st(&f, "alloc"), 3, "the fragments are normal buffers");
    cr_assert_eq(skb_st(&f, "big_in_use"), 0, "the big buffer went back");
    cr_assert_eq(skb_st(&f, "in_use"), 0);
    cr_assert_eq(st(&f, "icmp_echo_replies"), 1);
    cr_assert_eq(st(&f, "tx_fragments"), 3);

    load_frag_ping(fr, 7); /* the second request, reversed */
    for (unsigned i = 3; i-- > 0;)
        deliver_frame(&f, &fr[i]);
    check_frag_reply(&f, 3, fr);
    cr_assert_eq(skb_st(&f, "big_alloc"), 2);
    cr_assert_eq(skb_st(&f, "big_high_water"), 1);
    fx_down(&f);
}

Test(ip, big_buffer_8k_udp_datagram_end_to_end)
{
    /* a sends an 8 KB UDP datagram (8192 bytes of data behind its 8-byte
     * header) held in one big buffer; b reassembles it into one */
    struct fx a, b;
    fx_up_p(&a, (const char *const[]){"addr=192.0.2.1/24", NULL}, SKB_BIG(1), NULL);
    fx_up_p(&b, NULL, SKB_BIG(1), NULL);
    cr_assert_eq(b.l3->register_proto(b.ip->self, LYRA_IPPROTO_UDP, &user_ev, &b.udp), 0);
    struct lyra_skb *dg = payload(&a, 8200);
    cr_assert_eq(dg->size, 16384, "an 8 KB datagram takes a big buffer");
    cr_assert_eq(skb_st(&a, "big_in_use"), 1);
    uint64_t normal_before = skb_st(&a, "alloc");
    cr_assert_eq(a.l3->output(a.ip->self, dg, 0, STACK_IP, LYRA_IPPROTO_UDP, 0, 0, 0), 0);
    /* ceil(8200 / 1480) = 6 fragments, each from a normal buffer */
    cr_assert_eq(a.l2.nout, 6);
    cr_assert_eq(skb_st(&a, "alloc") - normal_before, 6);
    cr_assert_eq(skb_st(&a, "big_alloc"), 1);
    cr_assert_eq(skb_st(&a, "big_in_use"), 0);
    for (unsigned i = 0; i < 6; i++) {
        struct ipv4_view v;
        check_ip(&a.l2.out[i], &v);
        cr_assert_eq(ipv4_view_frag_off(&v), 1480 * i);
        cr_assert_eq(ipv4_view_mf(&v), i < 5);
        cr_assert_eq(v.len, i < 5 ? 1500u : 20u + 8200 - 5 * 1480);
    }
    /* out of order at b: the last fragment first */
    for (unsigned k = 0; k < 6; k++) {
        const struct out_rec *o = &a.l2.out[(k + 5) % 6];
        deliver_ip(&b, o->b, o->len, LYRA_SKB_F_HOST);
    }
    cr_assert_eq(b.udp.rx, 1);
    cr_assert_eq(b.udp.last_len, 8200);
    cr_assert_eq(b.udp.info.src, LINUX_IP);
    cr_assert(b.udp.l3_off_ok);
    for (uint32_t i = 0; i < 8200; i++)
        cr_assert_eq(b.udp.last[i], (uint8_t)(i * 7 + 3), "byte %u", i);
    cr_assert_eq(st(&b, "reass_ok"), 1);
    cr_assert_eq(skb_st(&b, "big_alloc"), 1);
    cr_assert_eq(skb_st(&b, "big_in_use"), 0);
    fx_down(&b);
    fx_down(&a);
}

Test(ip, big_buffers_exhausted_drop_the_datagram_not_the_stack)
{
    struct fx f;
    fx_up_p(&f, NULL, SKB_BIG(1), NULL);
    struct lyra_skb *hold = f.so->alloc(f.skb->self, 0, 5000); /* the only big buffer */
    cr_assert_not_null(hold);
    struct frame fr[6];
    load_frag_ping(fr, 1);
    for (unsigned i = 0; i < 3; i++)
        deliver_frame(&f, &fr[i]);
    cr_assert_eq(f.l2.nout, 0);
    /* a big buffer could hold it (skb max_alloc), none was free: no
     * buffer, not too big */
    cr_assert_eq(st(&f, "reass_nobuf"), 1);
    cr_assert_eq(st(&f, "reass_too_big"), 0);
    cr_assert_eq(skb_st(&f, "big_alloc_fail_empty"), 1);
    cr_assert_eq(st(&f, "reass_in_progress"), 0);
    lyra_skb_free(hold);
    load_frag_ping(fr, 7);
    for (unsigned i = 0; i < 3; i++)
        deliver_frame(&f, &fr[i]);
    check_frag_reply(&f, 0, fr);
    fx_down(&f);
}

Test(ip, datagram_larger_than_a_big_buffer_dropped)
{
    struct fx f;
    fx_up_p(&f, NULL,
            (const char *const[]){"count=64", "buf_size=2048", "big_count=1", "big_size=3000",
                                  NULL},
            NULL);
    struct frame fr[6];
    load_frag_ping(fr, 1); /* 3028 bytes + headroom: more than 3000 */
    for (unsigned i = 0; i < 3; i++)
        deliver_frame(&f, &fr[i]);
    cr_assert_eq(f.l2.nout, 0);
    cr_assert_eq(st(&f, "reass_too_big"), 1);
    cr_assert_eq(skb_st(&f, "alloc_fail_size"), 1);
    cr_assert_eq(skb_st(&f, "big_alloc"), 0);
    fx_down(&f);
}

/* ----- output and fragmentation ------------------------------------------- */

/* l3 2.0: a refused skb is the caller's, as it was handed in (payload()'s
 * n bytes at data, no IP header left on it); frees it. */
static void refused(struct lyra_skb *s, uint32_t n)
{
    cr_assert_eq(lyra_skb_total(s), n, "a refused skb comes back as it was handed in");
    for (uint32_t i = 0; i < s->len; i++)
        cr_assert_eq(s->data[i], (uint8_t)(i * 7 + 3), "byte %u of a refused skb changed",
                     (unsigned)i);
    lyra_skb_free(s);
}

Test(ip, fragments_3000_bytes_to_mtu_1500)
{
    struct fx f;
    fx_up(&f, NULL, "buf_size=4096");
    cr_assert_eq(f.l3->headroom(f.ip->self), 34);
    cr_assert_eq(st(&f, "copy_bytes"), 0);
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 3000), 0, LINUX_IP, 17, 0, 0, 0), 0);
    cr_assert_eq(f.l2.nout, 3);
    cr_assert_eq(st(&f, "copy_bytes"), 3000, "fragmenting copies the payload once");
    static const uint32_t len[3] = {1500, 1500, 60}, off[3] = {0, 1480, 2960};
    uint8_t all[3000];
    uint16_t id = ip_ld16(f.l2.out[0].b + 4);
    for (unsigned i = 0; i < 3; i++) {
        struct ipv4_view v;
        check_ip(&f.l2.out[i], &v);
        cr_assert_eq(v.len, len[i]);
        cr_assert_eq(ipv4_view_frag_off(&v), off[i]);
        cr_assert_eq(ipv4_view_mf(&v), i < 2);
        cr_assert(!ipv4_view_df(&v));
        cr_assert_eq(ipv4_view_id(&v), id);
        cr_assert_eq(ipv4_view_proto(&v), 17);
        cr_assert_eq(ipv4_view_src(&v), STACK_IP);
        cr_assert_eq(off[i] % 8, 0);
        memcpy(all + off[i], ipv4_view_payload(&v), ipv4_view_payload_len(&v));
    }
    for (uint32_t i = 0; i < 3000; i++)
        cr_assert_eq(all[i], (uint8_t)(i * 7 + 3));
    /* DF: not sent; the caller keeps it */
    struct lyra_skb *s = payload(&f, 3000);
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, LINUX_IP, 17, 0, 0, 1), -EMSGSIZE);
    refused(s, 3000);
    cr_assert_eq(st(&f, "tx_df_too_big"), 1);
    cr_assert_eq(f.l2.nout, 3);
    /* exactly the MTU: one datagram, DF kept */
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 1480), 0, LINUX_IP, 6, 0, 0, 1), 0);
    cr_assert_eq(f.l2.nout, 4);
    struct ipv4_view v;
    check_ip(&f.l2.out[3], &v);
    cr_assert(ipv4_view_df(&v));
    cr_assert(!ipv4_view_is_frag(&v));
    cr_assert_eq(v.len, 1500);
    fx_down(&f);
}

/* payload() with `extra` bytes of headroom beyond what ip asks for. */
static struct lyra_skb *payload_hr(struct fx *f, uint32_t n, uint32_t extra)
{
    struct lyra_skb *s = f->so->alloc(f->skb->self, f->l3->headroom(f->ip->self) + extra, n);
    cr_assert_not_null(s);
    cr_assert_geq(lyra_skb_headroom(s), f->l3->headroom(f->ip->self) + extra);
    uint8_t *p = lyra_skb_put(s, n);
    cr_assert_not_null(p);
    for (uint32_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + 3);
    return s;
}

Test(ip, checksum_offload_resolved_before_fragmenting)
{
    struct fx f;
    fx_up(&f, NULL, "buf_size=4096");
    uint32_t ph = (STACK_IP >> 16) + (STACK_IP & 0xffff) + (LINUX_IP >> 16) +
                  (LINUX_IP & 0xffff) + 17 + 3000;
    /* a UDP message asking the NIC for its checksum (skb.h: csum_start
     * counted from head, at the UDP header), seeded with the pseudo-header
     * sum as transports do for offload; once with the headroom ip asks
     * for (or the pool's more), once with 300 bytes more than that */
    for (unsigned k = 0; k < 2; k++) {
        struct lyra_skb *s = payload_hr(&f, 3000, k ? 300 : 0);
        uint8_t *u = s->data;
        ip_st16(u, 40000);
        ip_st16(u + 2, 9);
        ip_st16(u + 4, 3000);
        ip_st16(u + 6, lyra_csum_fold(ph));
        s->flags |= LYRA_SKB_F_CSUM_TX;
        s->csum_start = (uint16_t)lyra_skb_headroom(s);
        s->csum_off = 6;
        cr_assert_eq(f.l3->output(f.ip->self, s, 0, LINUX_IP, 17, 0, 0, 0), 0);
        cr_assert_eq(f.l2.nout, 3 * (k + 1));
        uint8_t all[3000];
        for (unsigned i = 0; i < 3; i++) {
            struct ipv4_view v;
            check_ip(&f.l2.out[3 * k + i], &v);
            memcpy(all + ipv4_view_frag_off(&v), ipv4_view_payload(&v),
                   ipv4_view_payload_len(&v));
        }
        cr_assert_neq(ip_ld16(all + 6), 0);
        cr_assert_eq(lyra_csum_fold(lyra_csum_add(all, 3000, ph)), 0xffff,
                     "the UDP checksum of the fragmented datagram does not verify (%u)", k);
    }
    cr_assert_eq(st(&f, "tx_bad_csum"), 0);
    /* offsets that cannot be: dropped, counted */
    struct lyra_skb *s = payload(&f, 3000);
    s->flags |= LYRA_SKB_F_CSUM_TX;
    s->csum_start = 10; /* inside the headroom, before the datagram */
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, LINUX_IP, 17, 0, 0, 0), -EINVAL);
    lyra_skb_free(s); /* refused: still ours */
    s = payload(&f, 3000);
    s->flags |= LYRA_SKB_F_CSUM_TX;
    s->csum_start = (uint16_t)(lyra_skb_headroom(s) - 1); /* one byte before it */
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, LINUX_IP, 17, 0, 0, 0), -EINVAL);
    lyra_skb_free(s); /* refused: still ours */
    s = payload(&f, 3000);
    s->flags |= LYRA_SKB_F_CSUM_TX;
    s->csum_start = (uint16_t)(lyra_skb_headroom(s) + 2999); /* the field beyond the end */
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, LINUX_IP, 17, 0, 0, 0), -EINVAL);
    lyra_skb_free(s); /* refused: still ours */
    cr_assert_eq(st(&f, "tx_bad_csum"), 3);
    cr_assert_eq(f.l2.nout, 6);
    fx_down(&f);
}

Test(ip, fragments_to_small_mtu_and_pool_exhaustion)
{
    struct fx f;
    fx_make(&f, NULL, "buf_size=4096");
    f.l2.mtu = 576;
    cr_assert_eq(lt_start(f.ip), 0);
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 1200), 0, LINUX_IP, 17, 0, 0, 0), 0);
    cr_assert_eq(f.l2.nout, 3); /* 552 + 552 + 96 */
    struct ipv4_view v;
    check_ip(&f.l2.out[2], &v);
    cr_assert_eq(ipv4_view_frag_off(&v), 1104);
    cr_assert_eq(v.len, 116);
    /* an empty pool: nothing sent, counted, nothing leaked */
    struct lyra_skb *hold[64];
    unsigned n = 0;
    struct lyra_skb *big = payload(&f, 3000);
    while (n < 64 && (hold[n] = f.so->alloc(f.skb->self, 0, 16)))
        n++;
    lyra_skb_free(hold[--n]); /* one buffer left: not enough for 6 fragments */
    cr_assert_eq(f.l3->output(f.ip->self, big, 0, LINUX_IP, 17, 0, 0, 0), -ENOBUFS);
    cr_assert_eq(st(&f, "tx_nobuf"), 1);
    refused(big, 3000);
    while (n)
        lyra_skb_free(hold[--n]);
    fx_down(&f);
}

Test(ip, output_errors)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    /* no route off the subnet without a gateway */
    struct lyra_skb *k = payload(&f, 10);
    cr_assert_eq(f.l3->output(f.ip->self, k, 0, IP(198, 51, 100, 7), 17, 0, 0, 0), -ENETUNREACH);
    refused(k, 10);
    cr_assert_eq(st(&f, "tx_noroute"), 1);
    /* a source that is not ours */
    k = payload(&f, 10);
    cr_assert_eq(f.l3->output(f.ip->self, k, IP(192, 0, 2, 9), LINUX_IP, 17, 0, 0, 0),
                 -EADDRNOTAVAIL);
    refused(k, 10);
    /* too little headroom for IP and Ethernet */
    struct lyra_skb *s = f.so->alloc(f.skb->self, 0, 10);
    lyra_skb_put(s, 10);
    lyra_skb_push(s, lyra_skb_headroom(s) > 20 ? lyra_skb_headroom(s) - 20 : 0);
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, LINUX_IP, 17, 0, 0, 0), -ENOBUFS);
    lyra_skb_free(s);
    cr_assert_eq(st(&f, "tx_headroom"), 1);
    /* l2's error is returned and counted; l2 and ip both leave the skb to
     * the caller (2.0), IP header pulled back off */
    f.l2.output_err = -EHOSTUNREACH;
    k = payload(&f, 10);
    uint32_t hr = lyra_skb_headroom(k);
    cr_assert_eq(f.l3->output(f.ip->self, k, 0, LINUX_IP, 17, 0, 0, 0), -EHOSTUNREACH);
    cr_assert_eq(lyra_skb_headroom(k), hr);
    refused(k, 10);
    cr_assert_eq(st(&f, "tx_l2_error"), 1);
    f.l2.output_err = 0;
    /* ttl and tos as given; 0 is the ttl parameter */
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 10), STACK_IP, LINUX_IP, 17, 7, 0x10, 0),
                 0);
    struct ipv4_view v;
    check_ip(&f.l2.out[f.l2.nout - 1], &v);
    cr_assert_eq(ipv4_view_ttl(&v), 7);
    cr_assert_eq(ipv4_view_tos(&v), 0x10);
    /* broadcast goes to the link broadcast */
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 10), 0, IP(192, 0, 2, 255), 17, 0, 0, 0),
                 0);
    cr_assert_eq(f.l2.out[f.l2.nout - 1].next_hop, LYRA_L2_BROADCAST);
    fx_down(&f);
}

/* ----- routing ------------------------------------------------------------ */

Test(ip, routing_longest_prefix)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"addr=192.0.2.2/24", "gateway=192.0.2.254", NULL}, NULL);
    struct lyra_l3_route rt;
    cr_assert_eq(f.l3->route(f.ip->self, IP(198, 51, 100, 7), &rt), 0);
    cr_assert_eq(rt.next_hop, IP(192, 0, 2, 254));
    cr_assert_eq(rt.src, STACK_IP);
    cr_assert_eq(rt.mtu, 1500);
    cr_assert_eq(f.l3->route(f.ip->self, IP(192, 0, 2, 77), &rt), 0);
    cr_assert_eq(rt.next_hop, IP(192, 0, 2, 77));
    cr_assert_eq(f.l3->route(f.ip->self, IPV4_BCAST, &rt), 0);
    cr_assert_eq(rt.next_hop, LYRA_L2_BROADCAST);
    cr_assert_eq(f.l3->route(f.ip->self, 0, &rt), -ENETUNREACH);
    /* a host route beats the default */
    struct ip *ip = f.ip->self;
    cr_assert_eq(route_add(&ip->routes, IP(198, 51, 100, 7), 32, IP(192, 0, 2, 253), STACK_IP), 0);
    cr_assert_eq(f.l3->route(f.ip->self, IP(198, 51, 100, 7), &rt), 0);
    cr_assert_eq(rt.next_hop, IP(192, 0, 2, 253));
    cr_assert_eq(f.l3->route(f.ip->self, IP(198, 51, 100, 8), &rt), 0);
    cr_assert_eq(rt.next_hop, IP(192, 0, 2, 254));
    cr_assert_eq(f.l3->output(f.ip->self, payload(&f, 8), 0, IP(198, 51, 100, 7), 17, 0, 0, 0),
                 0);
    cr_assert_eq(f.l2.out[0].next_hop, IP(192, 0, 2, 253));
    cr_assert(f.l3->is_local(f.ip->self, STACK_IP));
    cr_assert(f.l3->is_local(f.ip->self, IP(192, 0, 2, 255)));
    cr_assert(f.l3->is_local(f.ip->self, IPV4_BCAST));
    cr_assert(!f.l3->is_local(f.ip->self, LINUX_IP));
    fx_down(&f);
}

/* ----- ICMP errors -------------------------------------------------------- */

Test(ip, port_unreachable_matches_linux_and_is_rate_limited)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"addr=192.0.2.2/24", "icmp_rate=10", "icmp_burst=4", NULL},
          NULL);
    f.udp.icmp_error_on_rx = 1;
    cr_assert_eq(f.l3->register_proto(f.ip->self, LYRA_IPPROTO_UDP, &user_ev, &f.udp), 0);
    struct frame q, a;
    load_frame("ip/udp-unreach-linux.pcap", 1, &q);
    load_frame("ip/udp-unreach-linux.pcap", 2, &a);
    deliver_frame(&f, &q);
    cr_assert_eq(f.udp.rx, 1);
    cr_assert_eq(f.udp.last_len, 16);
    cr_assert_eq(f.udp.info.src, LINUX_IP);
    cr_assert_eq(f.udp.info.proto, 17);
    cr_assert(f.udp.l3_off_ok);
    cr_assert_eq(f.udp.last_icmp_ret, 0);
    cr_assert_eq(f.l2.nout, 1);
    struct ipv4_view v;
    check_ip(&f.l2.out[0], &v);
    struct icmp_view iv;
    cr_assert_eq(icmp_view_init(&iv, ipv4_view_payload(&v), ipv4_view_payload_len(&v)), 0);
    cr_assert(icmp_view_csum_ok(&iv));
    /* the kernel's own port unreachable for this datagram, but its IP ID */
    same_as_linux(&f.l2.out[0], l3(&a), l3_len(&a));
    /* a burst of 4, then 10 per second */
    for (unsigned i = 0; i < 20; i++)
        deliver_frame(&f, &q);
    cr_assert_eq(f.l2.nout, 4);
    cr_assert_eq(st(&f, "icmp_rate_limited"), 17);
    cr_assert_eq(f.udp.last_icmp_ret, -EAGAIN);
    fake_os_advance(f.os->self, 100 * MS);
    deliver_frame(&f, &q);
    deliver_frame(&f, &q);
    cr_assert_eq(f.l2.nout, 5);
    fake_os_advance(f.os->self, 10 * S);
    for (unsigned i = 0; i < 10; i++)
        deliver_frame(&f, &q);
    cr_assert_eq(f.l2.nout, 9); /* the bucket holds 4 at most */
    cr_assert_eq(st(&f, "icmp_out_errors"), 9);
    fx_down(&f);
}

Test(ip, no_icmp_error_about_broadcast_fragments_or_errors)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    f.udp.icmp_error_on_rx = 1;
    cr_assert_eq(f.l3->register_proto(f.ip->self, LYRA_IPPROTO_UDP, &user_ev, &f.udp), 0);
    struct frame q;
    load_frame("ip/udp-unreach-linux.pcap", 1, &q);
    uint8_t b[64];
    memcpy(b, l3(&q), l3_len(&q));
    /* to the subnet broadcast, and to 255.255.255.255 */
    ip_st32(b + 16, IP(192, 0, 2, 255));
    ipv4_hdr_set_csum(b, 20);
    deliver_ip(&f, b, l3_len(&q), LYRA_SKB_F_BCAST);
    cr_assert_eq(f.udp.rx, 1);
    cr_assert(f.udp.info.flags & LYRA_L3_F_BCAST);
    cr_assert_eq(f.udp.last_icmp_ret, -EAGAIN);
    ip_st32(b + 16, IPV4_BCAST);
    ipv4_hdr_set_csum(b, 20);
    deliver_ip(&f, b, l3_len(&q), LYRA_SKB_F_BCAST);
    cr_assert_eq(f.udp.rx, 2);
    cr_assert_eq(f.udp.last_icmp_ret, -EAGAIN);
    /* unicast IP in a link-layer multicast frame never reaches the user
     * (RFC 1122 3.3.6) */
    deliver_ip(&f, l3(&q), l3_len(&q), LYRA_SKB_F_MCAST);
    cr_assert_eq(f.udp.rx, 2);
    cr_assert_eq(st(&f, "rx_l2_bcast"), 1);
    /* hand-made originals: a non-first fragment, an ICMP error, a
     * broadcast source */
    struct lyra_skb *s = f.so->alloc(f.skb->self, 64, 64);
    uint8_t *p = lyra_skb_put(s, 36);
    make_frag(p, LINUX_IP, STACK_IP, 1, 17, 8, 0, (const uint8_t[16]){0}, 16);
    s->l3_off = (uint32_t)(s->data - s->head);
    cr_assert_eq(f.l3->icmp_error(f.ip->self, s, 3, 3), -EAGAIN);
    make_frag(p, LINUX_IP, STACK_IP, 1, 1, 0, 0, (const uint8_t[16]){3, 3}, 16);
    cr_assert_eq(f.l3->icmp_error(f.ip->self, s, 3, 2), -EAGAIN);
    make_frag(p, IP(192, 0, 2, 255), STACK_IP, 1, 17, 0, 0, (const uint8_t[16]){0}, 16);
    cr_assert_eq(f.l3->icmp_error(f.ip->self, s, 3, 3), -EAGAIN);
    make_frag(p, 0, STACK_IP, 1, 17, 0, 0, (const uint8_t[16]){0}, 16);
    cr_assert_eq(f.l3->icmp_error(f.ip->self, s, 3, 3), -EAGAIN);
    /* but an echo request (not an error) gets one */
    make_frag(p, LINUX_IP, STACK_IP, 1, 1, 0, 0, (const uint8_t[16]){8}, 16);
    cr_assert_eq(f.l3->icmp_error(f.ip->self, s, 3, 2), 0);
    s->l3_off = s->size + 10; /* nonsense offset: refused, not read */
    cr_assert_eq(f.l3->icmp_error(f.ip->self, s, 3, 3), -EINVAL);
    lyra_skb_free(s);
    cr_assert_eq(f.l2.nout, 1);
    cr_assert_eq(st(&f, "icmp_err_suppressed"), 7);
    fx_down(&f);
}

Test(ip, protocol_unreachable)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    struct frame q;
    load_frame("ip/udp-unreach-linux.pcap", 1, &q); /* nobody registered UDP */
    deliver_frame(&f, &q);
    cr_assert_eq(st(&f, "rx_proto_unreach"), 1);
    cr_assert_eq(f.l2.nout, 1);
    struct ipv4_view v;
    check_ip(&f.l2.out[0], &v);
    struct icmp_view iv;
    cr_assert_eq(icmp_view_init(&iv, ipv4_view_payload(&v), ipv4_view_payload_len(&v)), 0);
    cr_assert_eq(icmp_view_type(&iv), ICMP_DEST_UNREACH);
    cr_assert_eq(icmp_view_code(&iv), ICMP_CODE_PROTO_UNREACH);
    cr_assert(icmp_view_csum_ok(&iv));
    cr_assert_eq(icmp_view_body_len(&iv), 36);
    cr_assert_eq(memcmp(icmp_view_body(&iv), l3(&q), 36), 0);
    fx_down(&f);
}

Test(ip, received_icmp_error_goes_to_the_transport)
{
    struct fx f;
    /* ip as the Linux side (192.0.2.1), the kernel's answer arriving */
    fx_up(&f, (const char *const[]){"addr=192.0.2.1/24", NULL}, NULL);
    cr_assert_eq(f.l3->register_proto(f.ip->self, LYRA_IPPROTO_UDP, &user_ev, &f.udp), 0);
    struct frame a;
    load_frame("ip/udp-unreach-linux.pcap", 2, &a);
    deliver_frame(&f, &a);
    cr_assert_eq(f.udp.errs, 1);
    cr_assert_eq(f.udp.err.type, 3);
    cr_assert_eq(f.udp.err.code, 3);
    cr_assert_eq(f.udp.err.src, LINUX_IP);
    cr_assert_eq(f.udp.err.dst, STACK_IP);
    cr_assert_eq(f.udp.err.proto, 17);
    cr_assert_eq(memcmp(f.udp.err.l4, l3(&a) + 48, 8), 0);
    cr_assert_eq(st(&f, "icmp_in_errors"), 1);
    cr_assert_eq(f.l2.nout, 0, "never an error about an error");
    /* not about a datagram of ours (we are not 192.0.2.1 here) */
    struct fx g;
    fx_up(&g, (const char *const[]){"addr=192.0.2.3/24", NULL}, NULL);
    uint8_t b[128];
    memcpy(b, l3(&a), l3_len(&a));
    ip_st32(b + 16, IP(192, 0, 2, 3));
    ipv4_hdr_set_csum(b, 20);
    deliver_ip(&g, b, l3_len(&a), LYRA_SKB_F_HOST);
    cr_assert_eq(lt_stat(g.ip, "icmp_in_error_bad"), 1);
    fx_down(&g);
    fx_down(&f);
}

/* l2 2.2: a datagram the link gave up on (no ARP answer) as eth hands it
 * back, data at its IPv4 header; in the _split build the transport bytes
 * are a segment of their own, as a TCP segment's payload would be. */
static void link_unreachable(struct fx *f, const uint8_t *p, uint32_t len)
{
    uint32_t lin = LT_SKB_SPLIT_ON && len > 20 ? 20 : len;
    struct lyra_skb *s = f->so->alloc(f->skb->self, 64, len);
    cr_assert_not_null(s);
    memcpy(lyra_skb_put(s, lin), p, lin);
    if (lin < len)
        cr_assert_eq(f->so->add_data(f->skb->self, s, p + lin, len - lin, 0, NULL),
                     (int)(len - lin));
    cr_assert(LYRA_L2E_HAS(f->l2.ev, 2, unreachable), "ip takes l2 2.2's unreachable");
    f->l2.ev->unreachable(f->l2.user, s);
    lyra_skb_free(s); /* eth's to free: the user only reads it */
}

/* The sender of a datagram whose next hop never answered ARP hears "host
 * unreachable", as Linux reports a failed neighbour (ip_link_failure): the
 * transport's icmp_error with type 3 code 1 and the datagram's first 8
 * transport bytes. Not for a datagram that is not ours, nor for one too
 * short to name its sender; nothing is sent on the wire. */
Test(ip, a_datagram_the_link_gave_up_on_is_host_unreachable)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    cr_assert_eq(f.l3->register_proto(f.ip->self, LYRA_IPPROTO_UDP, &user_ev, &f.udp), 0);
    uint8_t d[20 + 8 + 4] = {0x45, 0, 0, sizeof(d), 0, 1, 0x40, 0, 64, LYRA_IPPROTO_UDP};
    ip_st32(d + 12, STACK_IP);
    ip_st32(d + 16, IP(192, 0, 2, 99));
    ipv4_hdr_set_csum(d, 20);
    const uint8_t udp[8] = {0x9c, 0x40, 0x13, 0x89, 0, 12, 0xab, 0xcd};
    memcpy(d + 20, udp, 8);
    memcpy(d + 28, "ping", 4);
    link_unreachable(&f, d, sizeof(d));
    cr_assert_eq(f.udp.errs, 1);
    cr_assert_eq(f.udp.err.type, 3);
    cr_assert_eq(f.udp.err.code, 1);
    cr_assert_eq(f.udp.err.src, STACK_IP);
    cr_assert_eq(f.udp.err.dst, IP(192, 0, 2, 99));
    cr_assert_eq(f.udp.err.proto, LYRA_IPPROTO_UDP);
    cr_assert_eq(memcmp(f.udp.err.l4, udp, 8), 0);
    cr_assert_eq(st(&f, "tx_link_unreachable"), 1);
    /* not ours: another source address */
    ip_st32(d + 12, IP(192, 0, 2, 7));
    link_unreachable(&f, d, sizeof(d));
    /* too short to carry 8 transport bytes */
    ip_st32(d + 12, STACK_IP);
    link_unreachable(&f, d, 27);
    cr_assert_eq(f.udp.errs, 1);
    cr_assert_eq(st(&f, "tx_link_unreachable"), 1);
    cr_assert_eq(f.l2.nout, 0, "nothing on the wire");
    fx_down(&f);
}

/* ----- malformed input ---------------------------------------------------- */

Test(ip, malformed_headers_counted)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    struct frame q;
    load_frame("eth/ping-linux.pcap", 3, &q);
    uint8_t b[128];
#define MUT(expr, counter)                                                      \
    do {                                                                        \
        memcpy(b, l3(&q), 84);                                                  \
        uint32_t n = 84;                                                        \
        uint64_t before = st(&f, counter);                                      \
        expr;                                                                   \
        deliver_ip(&f, b, n, LYRA_SKB_F_HOST);                                  \
        cr_assert_eq(st(&f, counter), before + 1, "%s not counted", counter);   \
        cr_assert_eq(f.l2.nout, 0);                                             \
    } while (0)
    MUT(n = 19, "rx_short");
    MUT(b[0] = 0x65, "rx_version");
    MUT(b[0] = 0x44, "rx_hdrlen");
    MUT((b[0] = 0x4f, n = 40), "rx_hdrlen");
    MUT(ip_st16(b + 2, 200), "rx_totlen");
    MUT(b[8] = 1, "rx_csum");
    MUT((ip_st32(b + 16, LINUX_IP), ipv4_hdr_set_csum(b, 20)), "rx_not_ours");
    MUT((ip_st32(b + 12, IP(224, 0, 0, 1)), ipv4_hdr_set_csum(b, 20)), "rx_bad_src");
    MUT((ip_st32(b + 16, IP(224, 0, 0, 1)), ipv4_hdr_set_csum(b, 20)), "rx_not_ours");
    MUT((b[24 + 2] ^= 1), "icmp_in_csum");
    MUT((ip_st16(b + 2, 24), ipv4_hdr_set_csum(b, 20), n = 24), "icmp_in_short");
#undef MUT
    cr_assert_eq(st(&f, "rx_hdrlen"), 2);
    cr_assert_eq(st(&f, "rx_not_ours"), 2);
    cr_assert_eq(st(&f, "rx_ttl"), 0);
    /* TTL 0 for us is fine (RFC 1122 3.2.1.7) */
    memcpy(b, l3(&q), 84);
    b[8] = 0;
    ipv4_hdr_set_csum(b, 20);
    deliver_ip(&f, b, 84, LYRA_SKB_F_HOST);
    cr_assert_eq(f.l2.nout, 1);
    /* random junk: only counters move */
    for (unsigned i = 0; i < 200; i++) {
        for (unsigned k = 0; k < sizeof(b); k++)
            b[k] = (uint8_t)(i * 31 + k * 17 + (k >> 3));
        b[0] = (uint8_t)(0x40 | (i & 15));
        deliver_ip(&f, b, 20 + i % 100, LYRA_SKB_F_HOST);
    }
    cr_assert_eq(st(&f, "rx_packets"), 12 + 200);
    fx_down(&f);
}

/* A header whose checksum the card verified (skb.h L3CSUM_OK) is not
 * summed again: ip takes the card's word, and sums it itself without. */
Test(ip, card_checked_header_not_summed_again)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    struct frame q;
    load_frame("eth/ping-linux.pcap", 3, &q);
    uint8_t b[128];
    memcpy(b, l3(&q), 84);
    b[10] ^= 0x10; /* a sum that is wrong here */
    deliver_ip(&f, b, 84, LYRA_SKB_F_HOST);
    cr_assert_eq(st(&f, "rx_csum"), 1);
    cr_assert_eq(f.l2.nout, 0);
    deliver_ip(&f, b, 84, LYRA_SKB_F_HOST | LYRA_SKB_F_L3CSUM_OK);
    cr_assert_eq(st(&f, "rx_csum"), 1, "summed again");
    cr_assert_eq(f.l2.nout, 1, "no echo reply");
    /* the reply is the received skb sent back: the card's word is not its */
    cr_assert(!(f.l2.out[0].flags & LYRA_SKB_F_L3CSUM_OK), "echo reply keeps L3CSUM_OK");
    fx_down(&f);
}

/* ----- lifecycle ---------------------------------------------------------- */

Test(ip, two_instances_side_by_side)
{
    struct fx a, b;
    fx_up(&a, NULL, NULL);
    fx_up(&b, (const char *const[]){"addr=192.0.2.3/24", "ttl=32", NULL}, NULL);
    struct frame q;
    load_frame("eth/ping-linux.pcap", 3, &q);
    deliver_frame(&a, &q);
    uint8_t p[84];
    memcpy(p, l3(&q), 84);
    ip_st32(p + 16, IP(192, 0, 2, 3));
    ipv4_hdr_set_csum(p, 20);
    deliver_ip(&b, p, 84, LYRA_SKB_F_HOST);
    deliver_ip(&b, p, 84, LYRA_SKB_F_HOST);
    cr_assert_eq(a.l2.nout, 1);
    cr_assert_eq(b.l2.nout, 2);
    cr_assert_eq(ip_ld32(a.l2.out[0].b + 12), STACK_IP);
    cr_assert_eq(ip_ld32(b.l2.out[0].b + 12), IP(192, 0, 2, 3));
    cr_assert_eq(a.l2.out[0].b[8], 64);
    cr_assert_eq(b.l2.out[0].b[8], 32);
    cr_assert_eq(st(&a, "icmp_echo_replies"), 1);
    cr_assert_eq(st(&b, "icmp_echo_replies"), 2);
    cr_assert_eq(a.l2.addrs[0], STACK_IP);
    cr_assert_eq(b.l2.addrs[0], IP(192, 0, 2, 3));
    fx_down(&b);
    fx_down(&a);
}

Test(ip, start_needs_an_address)
{
    struct fx f;
    fx_make(&f, (const char *const[]){NULL}, NULL);
    cr_assert_eq(lt_start(f.ip), -EADDRNOTAVAIL);
    cr_assert(fake_os_log_count(f.os->self, LYRA_LOG_ERROR) >= 1);
    cr_assert(strstr(fake_os_last_log(f.os->self), "ip.addr") != NULL, "log: %s",
              fake_os_last_log(f.os->self));
    cr_assert(!f.l2.registered);
    fx_down(&f);
}

Test(ip, bad_parameters_refused)
{
    struct lt_inst *i = NULL;
    static const char *const bad[][3] = {
        {"addr=192.0.2.0/24", NULL},                        /* network address */
        {"addr=192.0.2.255/24", NULL},                      /* broadcast */
        {"addr=224.0.0.1/24", NULL},                        /* multicast */
        {"addr=0.0.0.0/0", NULL},
        {"addr=192.0.2.2/24", "gateway=198.51.100.1"},      /* off the subnet */
        {"addr=192.0.2.2/24", "gateway=192.0.2.2"},         /* ourselves */
        {"gateway=192.0.2.1", NULL},                        /* without addr */
    };
    for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
        cr_assert_neq(lt_try_create(&lyra_component_ip, bad[k], &i), 0, "case %u accepted", k);
    cr_assert_eq(lt_try_create(&lyra_component_ip,
                               (const char *const[]){"addr=192.0.2.2/32", NULL}, &i),
                 0);
    lt_destroy(i);
}

Test(ip, restart_and_stop_purges)
{
    struct fx f;
    fx_up(&f, NULL, "buf_size=4096");
    struct frame fr[6];
    load_frag_ping(fr, 1);
    deliver_frame(&f, &fr[0]);
    lt_stop(f.ip);
    cr_assert_eq(lt_stat(f.skb, "in_use"), 0, "stop frees held fragments");
    deliver_frame(&f, &fr[1]); /* while stopped: dropped */
    cr_assert_eq(st(&f, "rx_down"), 1);
    cr_assert_eq(lt_start(f.ip), 0); /* l2 says -EEXIST: fine, it is ours */
    load_frag_ping(fr, 7);
    for (unsigned i = 0; i < 3; i++)
        deliver_frame(&f, &fr[i]);
    check_frag_reply(&f, 0, fr);
    fx_down(&f);
}

/* ----- TCP segmentation offload (l3 2.2) ------------------------------------ */

static uint8_t tso_pay[8][1500];
static struct lyra_skb_seg tso_seg[8];

/* A TCP message as tcp hands a TSO frame down: a 20-byte header in the
 * linear part, nseg payload segments of seglen bytes (caller's memory) */
static struct lyra_skb *tso_skb(struct fx *f, unsigned nseg, uint32_t seglen)
{
    struct lyra_skb *s = payload_hr(f, 20, 0);
    for (unsigned i = 0; i < nseg; i++) {
        memset(tso_pay[i], 'a' + (int)i, seglen);
        tso_seg[i] = (struct lyra_skb_seg){.ptr = tso_pay[i], .len = seglen};
        lyra_skb_seg_append(s, &tso_seg[i]);
    }
    s->gso_size = (uint16_t)seglen;
    return s;
}

static void tso_up(struct fx *f, uint8_t csum_tx, uint16_t tso_segs)
{
    fx_make(f, NULL, NULL);
    f->l2.csum_tx = csum_tx;
    f->l2.tso_segs = tso_segs;
    cr_assert_eq(lt_start(f->ip), 0);
}

Test(ip, a_tso_datagram_goes_whole_when_the_nic_segments)
{
    struct fx f;
    tso_up(&f, LYRA_CSUM_TCP, 4);
    struct lyra_l3_route rt;
    cr_assert_eq(f.l3->route(f.ip->self, LINUX_IP, &rt), 0);
    cr_assert_eq(rt.gso_segs, 4, "the NIC's tso_segs");
    cr_assert_eq(f.l3->output(f.ip->self, tso_skb(&f, 3, 1460), 0, LINUX_IP, 6, 0, 0, 1), 0);
    cr_assert_eq(f.l2.nout, 1, "one datagram, not fragments");
    cr_assert_eq(f.l2.out[0].total, 20 + 20 + 3 * 1460);
    cr_assert_eq(f.l2.out[0].gso_size, 1460);
    const uint8_t *h = f.l2.out[0].b; /* b holds the first 1600 bytes only */
    cr_assert_eq(ip_ld16(h + 2), 20 + 20 + 3 * 1460, "the whole datagram's length");
    cr_assert_eq(ip_ld16(h + 6), 0x4000, "DF, not a fragment");
    cr_assert_eq(h[9], 6);
    cr_assert_eq(lyra_csum_fold(lyra_csum_add(h, 20, 0)), 0xffff, "a valid header checksum");
    cr_assert_eq(h[40], 'a');
    cr_assert_eq(st(&f, "tx_gso"), 1);
    cr_assert_eq(st(&f, "tx_fragmented"), 0);
    fx_down(&f);
}

Test(ip, a_tso_datagram_is_refused_whole_when_it_breaks_a_rule)
{
    struct fx f;
    tso_up(&f, LYRA_CSUM_TCP, 4);
    struct lyra_skb *s = tso_skb(&f, 3, 1460);
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, LINUX_IP, 6, 0, 0, 0), -EMSGSIZE, "without DF");
    lyra_skb_free(s);
    s = tso_skb(&f, 5, 1000);
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, LINUX_IP, 6, 0, 0, 1), -EMSGSIZE,
                 "more segments than the NIC takes");
    lyra_skb_free(s);
    s = tso_skb(&f, 2, 1461);
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, LINUX_IP, 6, 0, 0, 1), -EMSGSIZE,
                 "a segment of 20 + 20 + 1461 B is over the MTU");
    lyra_skb_free(s);
    s = tso_skb(&f, 2, 1000);
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, LINUX_IP, 17, 0, 0, 1), -EMSGSIZE, "not TCP");
    lyra_skb_free(s);
    cr_assert_eq(st(&f, "tx_gso_refused"), 4);
    cr_assert_eq(f.l2.nout, 0);
    fx_down(&f);
}

Test(ip, no_tso_without_tcp_checksum_offload)
{
    struct fx f;
    tso_up(&f, 0, 4); /* the NIC would cut but not sum: each segment needs its own sum */
    struct lyra_l3_route rt;
    cr_assert_eq(f.l3->route(f.ip->self, LINUX_IP, &rt), 0);
    cr_assert_eq(rt.gso_segs, 0);
    struct lyra_skb *s = tso_skb(&f, 2, 1000);
    cr_assert_eq(f.l3->output(f.ip->self, s, 0, LINUX_IP, 6, 0, 0, 1), -EOPNOTSUPP);
    lyra_skb_free(s);
    cr_assert_eq(f.l2.nout, 0);
    fx_down(&f);
}
