/* ICMP echo ("ping") sockets: ip's l4 provider (SOCK_DGRAM, protocol 1),
 * driven through its ops table as the socket layer would, with ip wired to
 * the fake l2 of ip_fixture.h. What is sent is checked on the wire (IP
 * header, ICMP checksum with lyra/inet_csum.h), replies come back as a
 * peer sends them, and the 3000-byte ping of the Linux capture is replayed
 * both ways (tests/data/ip/README.txt). Every test ends with fx_down's leak
 * check: queued replies must all be back in the pool after close or stop. */
#include "icmp_sock.h"
#include "ip_fixture.h"
#include "lyra/l4.h"

/* One receive buffer as the l4 recv's iovec. */
#define IOV1(b, l) (&(struct lyra_iov){(b), (l)})

/* ----- helpers ------------------------------------------------------------ */

static const struct lyra_l4_ops *l4_of(struct fx *f)
{
    const struct lyra_l4_ops *o = lt_ops(f->ip, LYRA_L4_IFACE);
    cr_assert_not_null(o, "ip provides no l4");
    cr_assert_eq(o->type, LYRA_SOCK_DGRAM);
    cr_assert_eq(o->protocol, LYRA_IPPROTO_ICMP);
    return o;
}

static uint8_t data_byte(size_t i, uint16_t seq)
{
    return (uint8_t)(i * 5 + seq);
}

/* An echo request as an application writes it (RFC 792): type 8, code 0,
 * a checksum and an identifier the stack replaces, seq, ndata bytes. */
static size_t make_req(uint8_t *m, uint16_t id, uint16_t seq, size_t ndata)
{
    m[0] = ICMP_ECHO;
    m[1] = 0;
    m[2] = 0xde;
    m[3] = 0xad;
    ip_st16(m + 4, id);
    ip_st16(m + 6, seq);
    for (size_t i = 0; i < ndata; i++)
        m[8 + i] = data_byte(i, seq);
    return ICMP_HDR_LEN + ndata;
}

/* An echo reply (an IP packet) from src to dst, as a peer answers. */
static uint32_t make_reply(uint8_t *b, uint32_t src, uint32_t dst, uint16_t id, uint16_t seq,
                           const uint8_t *data, uint32_t n)
{
    struct ipv4_repr r = {.src = src, .dst = dst, .proto = LYRA_IPPROTO_ICMP, .ttl = 64,
                          .id = seq, .payload_len = ICMP_HDR_LEN + n};
    ipv4_repr_emit(&r, b);
    uint8_t *m = b + IPV4_HDR_LEN;
    icmp_hdr_emit(m, ICMP_ECHO_REPLY, 0, (uint32_t)id << 16 | seq);
    if (n)
        memcpy(m + ICMP_HDR_LEN, data, n);
    icmp_set_csum(m, ICMP_HDR_LEN + n, 0);
    return IPV4_HDR_LEN + ICMP_HDR_LEN + n;
}

/* The peer answers datagram o (an echo request we sent, not fragmented). */
static void answer(struct fx *f, const struct out_rec *o)
{
    static uint8_t b[1600];
    struct ipv4_view v;
    check_ip(o, &v);
    const uint8_t *m = ipv4_view_payload(&v);
    uint32_t n = (uint32_t)ipv4_view_payload_len(&v) - ICMP_HDR_LEN;
    uint32_t len = make_reply(b, ipv4_view_dst(&v), ipv4_view_src(&v), ip_ld16(m + 4),
                              ip_ld16(m + 6), m + ICMP_HDR_LEN, n);
    deliver_ip(f, b, len, LYRA_SKB_F_HOST);
}

/* The endpoint's identifier (its local port). */
static uint16_t ident(struct fx *f, int h)
{
    struct lyra_sockaddr4 a;
    cr_assert_eq(l4_of(f)->name(f->ip->self, h, 0, &a), 0);
    return a.port;
}

static long send_to(struct fx *f, int h, uint32_t dst, uint16_t seq, size_t ndata)
{
    static uint8_t m[9000];
    size_t n = make_req(m, 0x1234, seq, ndata);
    struct lyra_sockaddr4 to = {.addr = dst, .port = 0};
    return l4_of(f)->send(f->ip->self, h, m, n, &to, 0);
}

static void zero_random(void *self, void *buf, size_t len)
{
    (void)self;
    memset(buf, 0, len);
}

/* ----- sending ------------------------------------------------------------ */

Test(icmp_sock, provided_as_l4_dgram_protocol_1)
{
    const struct lyra_component *c = &lyra_component_ip;
    int found = 0;
    for (unsigned i = 0; i < c->n_provides; i++) {
        if (strcmp(c->provides[i].iface, LYRA_L4_IFACE))
            continue;
        const struct lyra_l4_ops *o = c->provides[i].ops;
        const char *why = NULL;
        cr_assert_eq(lyra_ops_check(o, LYRA_L4_IFACE, LYRA_L4_MAJOR, LYRA_L4_MINOR,
                                    sizeof(struct lyra_l4_ops), &why),
                     0, "%s", why);
        cr_assert_eq(o->type, LYRA_SOCK_DGRAM);
        cr_assert_eq(o->protocol, 1);
        found++;
    }
    cr_assert_eq(found, 1);
    int k = lyra_component_param(c, "icmp_sockets");
    cr_assert_geq(k, 0);
    cr_assert_str_eq(c->params[k].def, "4");
    const struct lyra_param *pp = &c->params[k];
    struct lyra_value v;
    char err[128];
    cr_assert_eq(lyra_value_parse(pp->type, "0", pp->min, pp->max, &v, err, sizeof(err)), 0);
    cr_assert_eq(lyra_value_parse(pp->type, "256", pp->min, pp->max, &v, err, sizeof(err)), 0);
    cr_assert_eq(lyra_value_parse(pp->type, "257", pp->min, pp->max, &v, err, sizeof(err)),
                 -ERANGE);
    cr_assert_str_eq(c->provides[0].iface, LYRA_L3_IFACE, "l3 stays the first");
}

Test(icmp_sock, sends_a_well_formed_echo_request)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    int h = l4->open(f.ip->self);
    cr_assert_geq(h, 0);
    cr_assert_eq(ident(&f, h), 0, "no identifier before bind or send");
    cr_assert_eq(send_to(&f, h, LINUX_IP, 7, 56), 64);
    uint16_t id = ident(&f, h);
    cr_assert_neq(id, 0, "an ephemeral identifier was picked at send");
    cr_assert_eq(f.l2.nout, 1);
    const struct out_rec *o = &f.l2.out[0];
    struct ipv4_view v;
    check_ip(o, &v);
    cr_assert_eq(o->next_hop, LINUX_IP);
    cr_assert_eq(ipv4_view_src(&v), STACK_IP);
    cr_assert_eq(ipv4_view_dst(&v), LINUX_IP);
    cr_assert_eq(ipv4_view_proto(&v), LYRA_IPPROTO_ICMP);
    cr_assert_eq(ipv4_view_ttl(&v), 64);
    cr_assert_eq(ipv4_view_tos(&v), 0);
    cr_assert_eq(ipv4_view_payload_len(&v), 64);
    const uint8_t *m = ipv4_view_payload(&v);
    /* RFC 792: type 8, code 0, the checksum over the whole message */
    cr_assert_eq(m[0], ICMP_ECHO);
    cr_assert_eq(m[1], 0);
    cr_assert_eq(lyra_csum_fold(lyra_csum_add(m, 64, 0)), 0xffff, "bad ICMP checksum");
    cr_assert_eq(ip_ld16(m + 4), id, "the identifier is the endpoint's, not the app's");
    cr_assert_eq(ip_ld16(m + 6), 7, "the sequence number is the app's");
    for (size_t i = 0; i < 56; i++)
        cr_assert_eq(m[8 + i], data_byte(i, 7));
    /* the same identifier for the next one */
    cr_assert_eq(send_to(&f, h, LINUX_IP, 8, 0), 8);
    cr_assert_eq(ip_ld16(f.l2.out[1].b + 24), id);
    cr_assert_eq(lyra_csum_fold(lyra_csum_add(f.l2.out[1].b + 20, 8, 0)), 0xffff);
    cr_assert_eq(st(&f, "icmp_sock_tx"), 2);
    l4->close(f.ip->self, h);
    fx_down(&f);
}

Test(icmp_sock, send_refuses_what_is_not_an_echo_request)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"addr=192.0.2.2/24", "gateway=192.0.2.254", NULL}, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    void *ip = f.ip->self;
    int h = l4->open(ip);
    uint8_t m[64];
    struct lyra_sockaddr4 to = {.addr = LINUX_IP};
    size_t n = make_req(m, 1, 1, 8);
    cr_assert_eq(l4->send(ip, h, m, 7, &to, 0), -EINVAL, "shorter than the header");
    m[0] = ICMP_ECHO_REPLY;
    cr_assert_eq(l4->send(ip, h, m, n, &to, 0), -EINVAL, "type 0");
    m[0] = ICMP_ECHO;
    m[1] = 1;
    cr_assert_eq(l4->send(ip, h, m, n, &to, 0), -EINVAL, "code 1");
    m[1] = 0;
    cr_assert_eq(l4->send(ip, h, NULL, n, &to, 0), -EFAULT);
    cr_assert_eq(l4->send(ip, h, m, 65536, &to, 0), -EMSGSIZE);
    cr_assert_eq(l4->send(ip, h, m, n, NULL, 0), -EDESTADDRREQ, "not connected");
    to.addr = IP(192, 0, 2, 255);
    cr_assert_eq(l4->send(ip, h, m, n, &to, 0), -EACCES, "broadcast");
    to.addr = IPV4_BCAST;
    cr_assert_eq(l4->send(ip, h, m, n, &to, 0), -EACCES);
    to.addr = 0;
    cr_assert_eq(l4->send(ip, h, m, n, &to, 0), -ENETUNREACH);
    cr_assert_eq(l4->send(ip, h + 1, m, n, &to, 0), -EBADF, "not open");
    cr_assert_eq(l4->send(ip, -1, m, n, &to, 0), -EBADF);
    cr_assert_eq(f.l2.nout, 0);
    /* through the gateway */
    to.addr = IP(198, 51, 100, 7);
    cr_assert_eq(l4->send(ip, h, m, n, &to, 0), (long)n);
    cr_assert_eq(f.l2.out[0].next_hop, IP(192, 0, 2, 254));
    /* no socket-only ops */
    struct lyra_sockaddr4 a;
    cr_assert_eq(l4->listen(ip, h, 5), -EOPNOTSUPP);
    cr_assert_eq(l4->accept(ip, h, &a), -EOPNOTSUPP);
    cr_assert_eq(l4->shutdown(ip, h, 2), -EOPNOTSUPP);
    fx_down(&f); /* closed by stop */
}

Test(icmp_sock, no_buffer_is_back_pressure)
{
    struct fx f;
    /* segs=100: fake_skb_split (the _split build) then holds 6400 bytes */
    fx_up_p(&f, NULL, (const char *const[]){"count=4", "segs=100", NULL}, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    int h = l4->open(f.ip->self);
    cr_assert(l4->poll(f.ip->self, h) & LYRA_POLL_OUT);
    struct lyra_skb *hold[4];
    for (int i = 0; i < 4; i++)
        cr_assert_not_null(hold[i] = f.so->alloc(f.skb->self, 0, 10));
    cr_assert_eq(l4->poll(f.ip->self, h) & LYRA_POLL_OUT, 0, "no buffer: not writable");
    cr_assert_eq(send_to(&f, h, LINUX_IP, 1, 10), -EAGAIN);
    lyra_skb_free(hold[0]);
    cr_assert(l4->poll(f.ip->self, h) & LYRA_POLL_OUT);
    /* the pool could never hold it (4 buffers, no big ones): an error at
     * once, not back-pressure a blocking send would wait on */
    cr_assert_eq(send_to(&f, h, LINUX_IP, 1, 8500), -EMSGSIZE);
    cr_assert_eq(st(&f, "icmp_sock_tx_nobuf"), 1);
    cr_assert_eq(send_to(&f, h, LINUX_IP, 1, 10), 18);
    for (int i = 1; i < 4; i++)
        lyra_skb_free(hold[i]);

    fx_down(&f);
}

/* skb 2.0: a message larger than a buffer (max_alloc bounds the linear
 * part) goes out with its body chained behind the header, fragmented by
 * ip, as with big buffers. */
Test(icmp_sock, larger_than_a_buffer_chained)
{
    struct fx f;
    fx_up_p(&f, NULL, (const char *const[]){"count=8", NULL}, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    int h = l4->open(f.ip->self);
    cr_assert_gt(3008, f.so->max_alloc(f.skb->self, 0));
    cr_assert_eq(send_to(&f, h, LINUX_IP, 1, 3000), 3008);
    cr_assert_eq(f.l2.nout, 3, "three fragments");
    cr_assert_eq(lt_stat(f.skb, "in_use"), 0);
    fx_down(&f);
}

Test(icmp_sock, options_ttl_tos_and_so_error)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    void *ip = f.ip->self;
    int h = l4->open(ip), v = -1;
    cr_assert_eq(l4->getopt(ip, h, LYRA_IP_TTL, &v), 0);
    cr_assert_eq(v, 64, "ip's ttl parameter by default");
    cr_assert_eq(l4->getopt(ip, h, LYRA_SO_ERROR, &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(l4->setopt(ip, h, LYRA_IP_TTL, 5), 0);
    cr_assert_eq(l4->setopt(ip, h, LYRA_IP_TOS, 0x10), 0);
    cr_assert_eq(l4->setopt(ip, h, LYRA_IP_TTL, 0), -EINVAL);
    cr_assert_eq(l4->setopt(ip, h, LYRA_IP_TTL, 256), -EINVAL);
    cr_assert_eq(l4->setopt(ip, h, LYRA_IP_TOS, 256), -EINVAL);
    cr_assert_eq(l4->setopt(ip, h, LYRA_SO_ERROR, 1), -ENOPROTOOPT);
    cr_assert_eq(l4->setopt(ip, h, LYRA_SO_BROADCAST, 1), -ENOPROTOOPT);
    cr_assert_eq(l4->setopt(ip, h, LYRA_TCP_NODELAY, 1), -ENOPROTOOPT);
    cr_assert_eq(l4->getopt(ip, h, LYRA_SO_RCVBUF, &v), -ENOPROTOOPT);
    cr_assert_eq(l4->setopt(ip, 3, LYRA_IP_TTL, 5), -EBADF);
    cr_assert_eq(send_to(&f, h, LINUX_IP, 1, 4), 12);
    struct ipv4_view iv;
    check_ip(&f.l2.out[0], &iv);
    cr_assert_eq(ipv4_view_ttl(&iv), 5);
    cr_assert_eq(ipv4_view_tos(&iv), 0x10);
    cr_assert_eq(l4->getopt(ip, h, LYRA_IP_TTL, &v), 0);
    cr_assert_eq(v, 5);
    cr_assert_eq(l4->getopt(ip, h, LYRA_IP_TOS, &v), 0);
    cr_assert_eq(v, 0x10);
    cr_assert_eq(l4->setopt(ip, h, LYRA_IP_TTL, -1), 0, "-1: back to the default");
    cr_assert_eq(l4->getopt(ip, h, LYRA_IP_TTL, &v), 0);
    cr_assert_eq(v, 64);
    l4->close(ip, h);
    fx_down(&f);
}

/* ----- identifiers -------------------------------------------------------- */

Test(icmp_sock, endpoints_get_different_identifiers)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"addr=192.0.2.2/24", "icmp_sockets=64", NULL}, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    uint16_t ids[64];
    for (int i = 0; i < 64; i++) {
        int h = l4->open(f.ip->self);
        cr_assert_eq(h, i);
        struct lyra_sockaddr4 any = {0};
        if (i & 1)
            cr_assert_eq(l4->bind(f.ip->self, h, &any), 0);
        else
            cr_assert_eq(send_to(&f, h, LINUX_IP, 1, 0), 8);
        ids[i] = ident(&f, h);
        cr_assert_neq(ids[i], 0);
        for (int k = 0; k < i; k++)
            cr_assert_neq(ids[i], ids[k], "endpoints %d and %d share identifier %u", k, i,
                          ids[i]);
    }
    cr_assert_eq(l4->open(f.ip->self), -ENOBUFS, "the table is full");
    fx_down(&f);
}

Test(icmp_sock, ephemeral_identifier_skips_those_in_use)
{
    /* os random always 0: the first ephemeral identifier is 1, then the
     * next free ones */
    static struct lyra_os_ops zos;
    zos = *(const struct lyra_os_ops *)lyra_component_fake_os.provides[0].ops;
    zos.random = zero_random;
    struct fx f;
    fx_up_p(&f, NULL, NULL, &zos);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    void *ip = f.ip->self;
    int a = l4->open(ip), b = l4->open(ip), c = l4->open(ip);
    struct lyra_sockaddr4 two = {.port = 2}, any = {0};
    cr_assert_eq(l4->bind(ip, a, &two), 0);
    cr_assert_eq(l4->bind(ip, b, &any), 0);
    cr_assert_eq(ident(&f, b), 1);
    cr_assert_eq(l4->bind(ip, c, &any), 0);
    cr_assert_eq(ident(&f, c), 3, "2 is taken");
    l4->close(ip, b);
    int d = l4->open(ip);
    cr_assert_eq(d, b, "the closed slot is reused");
    cr_assert_eq(send_to(&f, d, LINUX_IP, 1, 0), 8);
    cr_assert_eq(ident(&f, d), 1, "1 is free again");
    fx_down(&f);
}

Test(icmp_sock, bind_rules)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    void *ip = f.ip->self;
    int a = l4->open(ip), b = l4->open(ip);
    struct lyra_sockaddr4 s = {.addr = STACK_IP, .port = 0x5f1a}, out;
    cr_assert_eq(l4->bind(ip, a, &s), 0);
    cr_assert_eq(l4->name(ip, a, 0, &out), 0);
    cr_assert_eq(out.addr, STACK_IP);
    cr_assert_eq(out.port, 0x5f1a);
    cr_assert_eq(l4->bind(ip, a, &s), -EINVAL, "bound already");
    struct lyra_sockaddr4 same = {.port = 0x5f1a};
    cr_assert_eq(l4->bind(ip, b, &same), -EADDRINUSE);
    struct lyra_sockaddr4 other = {.addr = LINUX_IP, .port = 9};
    cr_assert_eq(l4->bind(ip, b, &other), -EADDRNOTAVAIL, "not our address");
    struct lyra_sockaddr4 bc = {.addr = IP(192, 0, 2, 255), .port = 9};
    cr_assert_eq(l4->bind(ip, b, &bc), -EADDRNOTAVAIL, "broadcast");
    cr_assert_eq(l4->bind(ip, b, NULL), -EINVAL);
    cr_assert_eq(l4->name(ip, b, 1, &out), -ENOTCONN);
    cr_assert_eq(l4->name(ip, 7, 0, &out), -EBADF);
    l4->close(ip, a);
    cr_assert_eq(l4->bind(ip, b, &same), 0, "free once a is closed");
    l4->close(ip, a); /* closing twice is harmless */
    cr_assert_eq(l4->poll(ip, a), LYRA_POLL_ERR, "a closed handle");
    fx_down(&f);
}

Test(icmp_sock, table_sizes_and_lifecycle)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"addr=192.0.2.2/24", "icmp_sockets=0", NULL}, NULL);
    cr_assert_eq(l4_of(&f)->open(f.ip->self), -ENOBUFS, "icmp_sockets=0: no ping sockets");
    fx_down(&f);
    fx_up(&f, NULL, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(l4->open(f.ip->self), i, "the default is 4");
    cr_assert_eq(l4->open(f.ip->self), -ENOBUFS);
    lt_stop(f.ip);
    cr_assert_eq(l4->open(f.ip->self), -ENETDOWN);
    cr_assert_eq(send_to(&f, 0, LINUX_IP, 1, 0), -EBADF, "stop closed every endpoint");
    cr_assert_eq(lt_start(f.ip), 0);
    cr_assert_eq(l4->open(f.ip->self), 0);
    fx_down(&f);
}

/* ----- receiving ---------------------------------------------------------- */

Test(icmp_sock, reply_lands_on_the_right_endpoint)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    void *ip = f.ip->self;
    int a = l4->open(ip), b = l4->open(ip);
    cr_assert_eq(send_to(&f, a, LINUX_IP, 1, 16), 24);
    cr_assert_eq(send_to(&f, b, LINUX_IP, 2, 32), 40);
    cr_assert_neq(ident(&f, a), ident(&f, b));
    cr_assert_eq(l4->poll(ip, a) & LYRA_POLL_IN, 0);
    uint8_t buf[128];
    struct lyra_sockaddr4 from = {.addr = 1, .port = 1};
    cr_assert_eq(l4->recv(ip, a, IOV1(buf, sizeof(buf)), 1, &from, NULL, 0), -EAGAIN);
    answer(&f, &f.l2.out[1]); /* b's first */
    cr_assert_eq(l4->poll(ip, a) & LYRA_POLL_IN, 0);
    cr_assert(l4->poll(ip, b) & LYRA_POLL_IN);
    cr_assert_eq(l4->recv(ip, a, IOV1(buf, sizeof(buf)), 1, &from, NULL, 0), -EAGAIN);
    /* recv: the ICMP header and data, as Linux's ping sockets */
    struct lyra_l4_dst to = {0, 0, 0};
    uint8_t head[3];
    struct lyra_iov v[2] = {{head, sizeof(head)}, {buf + 3, sizeof(buf) - 3}};
    cr_assert_eq(l4->recv(ip, b, v, 2, &from, &to, 0), 40, "scattered over two pieces");
    memcpy(buf, head, sizeof(head));
    cr_assert_eq(from.addr, LINUX_IP);
    cr_assert_eq(from.port, 0);
    cr_assert_eq(to.addr, STACK_IP, "the reply's destination");
    cr_assert_eq(to.local, STACK_IP);
    cr_assert_eq(to.port, ident(&f, b));
    cr_assert_eq(buf[0], ICMP_ECHO_REPLY);
    cr_assert_eq(ip_ld16(buf + 4), ident(&f, b));
    cr_assert_eq(ip_ld16(buf + 6), 2);
    for (size_t i = 0; i < 32; i++)
        cr_assert_eq(buf[8 + i], data_byte(i, 2));
    cr_assert_eq(l4->poll(ip, b) & LYRA_POLL_IN, 0);
    answer(&f, &f.l2.out[0]);
    cr_assert_eq(l4->recv(ip, a, IOV1(buf, sizeof(buf)), 1, NULL, NULL, 0), 24);
    cr_assert_eq(ip_ld16(buf + 6), 1);
    cr_assert_eq(st(&f, "icmp_echo_reply_in"), 2);
    cr_assert_eq(st(&f, "icmp_sock_rx"), 2);
    cr_assert_eq(st(&f, "icmp_in_unhandled"), 0);
    l4->close(ip, a);
    l4->close(ip, b);
    fx_down(&f);
}

Test(icmp_sock, wrong_identifier_counted)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    void *ip = f.ip->self;
    int h = l4->open(ip);
    struct lyra_sockaddr4 s = {.port = 100};
    cr_assert_eq(l4->bind(ip, h, &s), 0);
    uint8_t b[64];
    uint32_t n = make_reply(b, LINUX_IP, STACK_IP, 101, 1, NULL, 0);
    deliver_ip(&f, b, n, LYRA_SKB_F_HOST);
    cr_assert_eq(st(&f, "icmp_echo_reply_in"), 1);
    cr_assert_eq(st(&f, "icmp_sock_no_endpoint"), 1);
    cr_assert_eq(l4->poll(ip, h) & LYRA_POLL_IN, 0);
    /* an open endpoint without an identifier takes nothing either */
    int u = l4->open(ip);
    n = make_reply(b, LINUX_IP, STACK_IP, 0, 1, NULL, 0);
    deliver_ip(&f, b, n, LYRA_SKB_F_HOST);
    cr_assert_eq(st(&f, "icmp_sock_no_endpoint"), 2);
    cr_assert_eq(l4->poll(ip, u) & LYRA_POLL_IN, 0);
    /* a bad checksum never reaches a socket */
    n = make_reply(b, LINUX_IP, STACK_IP, 100, 1, NULL, 0);
    b[IPV4_HDR_LEN + 2] ^= 1;
    deliver_ip(&f, b, n, LYRA_SKB_F_HOST);
    cr_assert_eq(st(&f, "icmp_in_csum"), 1);
    cr_assert_eq(l4->poll(ip, h) & LYRA_POLL_IN, 0);
    /* the right one does */
    b[IPV4_HDR_LEN + 2] ^= 1;
    deliver_ip(&f, b, n, LYRA_SKB_F_HOST);
    cr_assert(l4->poll(ip, h) & LYRA_POLL_IN);
    cr_assert_eq(st(&f, "icmp_sock_rx"), 1);
    fx_down(&f); /* the queued reply goes back at stop */
}

Test(icmp_sock, unmatched_replies_still_reach_a_protocol_1_user)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    struct user ping = {.l3 = f.l3, .ip = f.ip->self};
    cr_assert_eq(f.l3->register_proto(f.ip->self, LYRA_IPPROTO_ICMP, &user_ev, &ping), 0);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    int h = l4->open(f.ip->self);
    struct lyra_sockaddr4 s = {.port = 100};
    cr_assert_eq(l4->bind(f.ip->self, h, &s), 0);
    uint8_t b[64];
    deliver_ip(&f, b, make_reply(b, LINUX_IP, STACK_IP, 100, 1, NULL, 0), LYRA_SKB_F_HOST);
    deliver_ip(&f, b, make_reply(b, LINUX_IP, STACK_IP, 200, 1, NULL, 0), LYRA_SKB_F_HOST);
    cr_assert_eq(ping.rx, 1, "the socket's reply is the socket's");
    cr_assert_eq(ip_ld16(ping.last + 4), 200);
    cr_assert_eq(st(&f, "icmp_sock_rx"), 1);
    cr_assert_eq(st(&f, "icmp_in_delivered"), 1);
    cr_assert_eq(st(&f, "icmp_sock_no_endpoint"), 0);
    fx_down(&f);
}

Test(icmp_sock, queue_is_bounded)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    void *ip = f.ip->self;
    int h = l4->open(ip);
    struct lyra_sockaddr4 s = {.port = 7};
    cr_assert_eq(l4->bind(ip, h, &s), 0);
    uint8_t b[64];
    for (uint16_t seq = 0; seq < ICMP_SOCK_QLEN + 3; seq++)
        deliver_ip(&f, b, make_reply(b, LINUX_IP, STACK_IP, 7, seq, NULL, 0), LYRA_SKB_F_HOST);
    cr_assert_eq(st(&f, "icmp_sock_rx"), ICMP_SOCK_QLEN);
    cr_assert_eq(st(&f, "icmp_sock_queue_full"), 3);
    cr_assert_eq(lt_stat(f.skb, "in_use"), ICMP_SOCK_QLEN, "the dropped ones went back");
    uint8_t buf[16];
    for (uint16_t seq = 0; seq < ICMP_SOCK_QLEN; seq++) {
        cr_assert_eq(l4->recv(ip, h, IOV1(buf, sizeof(buf)), 1, NULL, NULL, 0), 8);
        cr_assert_eq(ip_ld16(buf + 6), seq, "in order, the first 8 kept");
    }
    cr_assert_eq(l4->recv(ip, h, IOV1(buf, sizeof(buf)), 1, NULL, NULL, 0), -EAGAIN);
    cr_assert_eq(lt_stat(f.skb, "in_use"), 0);
    /* room again */
    deliver_ip(&f, b, make_reply(b, LINUX_IP, STACK_IP, 7, 99, NULL, 0), LYRA_SKB_F_HOST);
    cr_assert_eq(l4->recv(ip, h, IOV1(buf, sizeof(buf)), 1, NULL, NULL, 0), 8);
    fx_down(&f);
}

Test(icmp_sock, close_and_stop_free_queued_replies)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    void *ip = f.ip->self;
    int a = l4->open(ip), b = l4->open(ip);
    struct lyra_sockaddr4 sa = {.port = 1}, sb = {.port = 2};
    cr_assert_eq(l4->bind(ip, a, &sa), 0);
    cr_assert_eq(l4->bind(ip, b, &sb), 0);
    uint8_t p[64];
    for (uint16_t seq = 0; seq < 3; seq++) {
        deliver_ip(&f, p, make_reply(p, LINUX_IP, STACK_IP, 1, seq, NULL, 0), LYRA_SKB_F_HOST);
        deliver_ip(&f, p, make_reply(p, LINUX_IP, STACK_IP, 2, seq, NULL, 0), LYRA_SKB_F_HOST);
    }
    cr_assert_eq(lt_stat(f.skb, "in_use"), 6);
    l4->close(ip, a);
    cr_assert_eq(lt_stat(f.skb, "in_use"), 3, "close frees what a held");
    /* b still holds 3: stop frees them (fx_down checks the pool is empty) */
    fx_down(&f);
}

Test(icmp_sock, recv_peek_trunc_and_short_buffers)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    void *ip = f.ip->self;
    int h = l4->open(ip);
    struct lyra_sockaddr4 s = {.port = 9};
    cr_assert_eq(l4->bind(ip, h, &s), 0);
    uint8_t d[100], b[256];
    for (int i = 0; i < 100; i++)
        d[i] = (uint8_t)i;
    deliver_ip(&f, b, make_reply(b, LINUX_IP, STACK_IP, 9, 1, d, 100), LYRA_SKB_F_HOST);
    deliver_ip(&f, b, make_reply(b, LINUX_IP, STACK_IP, 9, 2, d, 10), LYRA_SKB_F_HOST);
    uint8_t buf[200];
    cr_assert_eq(l4->recv(ip, h, IOV1(buf, 12), 1, NULL, NULL, LYRA_MSG_PEEK), 12);
    cr_assert_eq(l4->recv(ip, h, IOV1(buf, 12), 1, NULL, NULL, LYRA_MSG_PEEK | LYRA_MSG_TRUNC),
                 108);
    cr_assert_eq(l4->recv(ip, h, IOV1(buf, sizeof(buf)), 1, NULL, NULL, LYRA_MSG_PEEK),
                 108, "still there");
    cr_assert_eq(ip_ld16(buf + 6), 1);
    cr_assert_eq(l4->recv(ip, h, IOV1(NULL, 10), 1, NULL, NULL, 0), -EFAULT);
    /* short buffer: the rest of the datagram is discarded */
    cr_assert_eq(l4->recv(ip, h, IOV1(buf, 10), 1, NULL, NULL, 0), 10);
    cr_assert_eq(buf[8], 0);
    cr_assert_eq(buf[9], 1);
    cr_assert_eq(l4->recv(ip, h, IOV1(buf, 4), 1, NULL, NULL, LYRA_MSG_TRUNC),
                 18, "the real length");
    cr_assert_eq(l4->recv(ip, h, IOV1(buf, sizeof(buf)), 1, NULL, NULL, 0), -EAGAIN);
    fx_down(&f);
}

/* ----- connected endpoints and errors ------------------------------------- */

Test(icmp_sock, connect_sets_the_peer_and_filters_replies)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    void *ip = f.ip->self;
    int h = l4->open(ip);
    struct lyra_sockaddr4 peer = {.addr = LINUX_IP, .port = 77}, out;
    cr_assert_eq(l4->connect(ip, h, &peer), 0);
    cr_assert_neq(ident(&f, h), 0, "connect picks an identifier");
    cr_assert_eq(l4->name(ip, h, 1, &out), 0);
    cr_assert_eq(out.addr, LINUX_IP);
    cr_assert_eq(out.port, 0);
    uint8_t m[16];
    size_t n = make_req(m, 0, 3, 8);
    cr_assert_eq(l4->send(ip, h, m, n, NULL, 0), 16, "to the peer");
    cr_assert_eq(f.l2.out[0].next_hop, LINUX_IP);
    uint16_t id = ident(&f, h);
    uint8_t b[64];
    /* from another host: not for this endpoint */
    deliver_ip(&f, b, make_reply(b, IP(192, 0, 2, 9), STACK_IP, id, 3, NULL, 0),
               LYRA_SKB_F_HOST);
    cr_assert_eq(st(&f, "icmp_sock_no_endpoint"), 1);
    deliver_ip(&f, b, make_reply(b, LINUX_IP, STACK_IP, id, 3, NULL, 0), LYRA_SKB_F_HOST);
    cr_assert(l4->poll(ip, h) & LYRA_POLL_IN);
    cr_assert_eq(l4->recv(ip, h, IOV1(b, sizeof(b)), 1, NULL, NULL, 0), 8);
    /* dissolved: replies from anyone again, and a destination is needed */
    struct lyra_sockaddr4 none = {0};
    cr_assert_eq(l4->connect(ip, h, &none), 0);
    cr_assert_eq(l4->name(ip, h, 1, &out), -ENOTCONN);
    cr_assert_eq(l4->send(ip, h, m, n, NULL, 0), -EDESTADDRREQ);
    deliver_ip(&f, b, make_reply(b, IP(192, 0, 2, 9), STACK_IP, id, 4, NULL, 0),
               LYRA_SKB_F_HOST);
    cr_assert_eq(st(&f, "icmp_sock_rx"), 2);
    struct lyra_sockaddr4 bc = {.addr = IPV4_BCAST}, far = {.addr = IP(198, 51, 100, 1)};
    cr_assert_eq(l4->connect(ip, h, &bc), -EACCES);
    cr_assert_eq(l4->connect(ip, h, &far), -ENETUNREACH, "no gateway");
    cr_assert_eq(l4->connect(ip, h, NULL), -EINVAL);
    fx_down(&f);
}

/* An ICMP error from `from` quoting the datagram o we sent (RFC 792: its
 * IP header and the first 8 bytes of its data). */
static void error_about(struct fx *f, const struct out_rec *o, uint32_t from, uint8_t type,
                        uint8_t code)
{
    uint8_t b[128];
    struct ipv4_repr r = {.src = from, .dst = STACK_IP, .proto = LYRA_IPPROTO_ICMP, .ttl = 64,
                          .payload_len = ICMP_HDR_LEN + 28};
    ipv4_repr_emit(&r, b);
    icmp_hdr_emit(b + 20, type, code, 0);
    memcpy(b + 28, o->b, 28);
    icmp_set_csum(b + 20, ICMP_HDR_LEN + 28, 0);
    deliver_ip(f, b, 20 + ICMP_HDR_LEN + 28, LYRA_SKB_F_HOST);
}

Test(icmp_sock, icmp_errors_set_a_pending_error_when_connected)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    void *ip = f.ip->self;
    int c = l4->open(ip), u = l4->open(ip);
    struct lyra_sockaddr4 peer = {.addr = IP(192, 0, 2, 9)};
    cr_assert_eq(l4->connect(ip, c, &peer), 0);
    uint8_t m[16];
    size_t n = make_req(m, 0, 1, 8);
    cr_assert_eq(l4->send(ip, c, m, n, NULL, 0), 16);
    cr_assert_eq(send_to(&f, u, IP(192, 0, 2, 9), 1, 8), 16);
    /* host unreachable from the router (RFC 792 type 3 code 1) */
    error_about(&f, &f.l2.out[0], LINUX_IP, ICMP_DEST_UNREACH, 1);
    cr_assert(l4->poll(ip, c) & LYRA_POLL_ERR);
    int v = 0;
    cr_assert_eq(l4->getopt(ip, c, LYRA_SO_ERROR, &v), 0);
    cr_assert_eq(v, EHOSTUNREACH);
    cr_assert_eq(l4->getopt(ip, c, LYRA_SO_ERROR, &v), 0);
    cr_assert_eq(v, 0, "read once");
    cr_assert_eq(l4->poll(ip, c) & LYRA_POLL_ERR, 0);
    /* time exceeded: returned by the next recv, once */
    error_about(&f, &f.l2.out[0], LINUX_IP, ICMP_TIME_EXCEEDED, 0);
    uint8_t buf[32];
    cr_assert_eq(l4->recv(ip, c, IOV1(buf, sizeof(buf)), 1, NULL, NULL, 0), -EHOSTUNREACH);
    cr_assert_eq(l4->recv(ip, c, IOV1(buf, sizeof(buf)), 1, NULL, NULL, 0), -EAGAIN);
    /* or by the next send */
    error_about(&f, &f.l2.out[0], LINUX_IP, ICMP_DEST_UNREACH, 3);
    cr_assert_eq(l4->send(ip, c, m, n, NULL, 0), -ECONNREFUSED);
    cr_assert_eq(l4->send(ip, c, m, n, NULL, 0), 16);
    /* the unconnected endpoint's request: claimed, no error (as Linux) */
    error_about(&f, &f.l2.out[1], LINUX_IP, ICMP_DEST_UNREACH, 1);
    cr_assert_eq(l4->poll(ip, u) & LYRA_POLL_ERR, 0);
    cr_assert_eq(st(&f, "icmp_sock_errors"), 3);
    cr_assert_eq(st(&f, "icmp_in_error_unclaimed"), 0);
    /* a request of an identifier nobody has: unclaimed */
    uint8_t q[28];
    memcpy(q, f.l2.out[1].b, 28);
    uint16_t nobody = (uint16_t)(ident(&f, u) + 1);
    while (nobody == 0 || nobody == ident(&f, u) || nobody == ident(&f, c))
        nobody++;
    ip_st16(q + 24, nobody);
    struct out_rec fake = {.len = 28, .type = LYRA_ETHERTYPE_IPV4};
    memcpy(fake.b, q, 28);
    error_about(&f, &fake, LINUX_IP, ICMP_DEST_UNREACH, 1);
    cr_assert_eq(st(&f, "icmp_in_error_unclaimed"), 1);
    cr_assert_eq(icmp_sock_errno(ICMP_DEST_UNREACH, 0), ENETUNREACH);
    cr_assert_eq(icmp_sock_errno(ICMP_DEST_UNREACH, 2), ENOPROTOOPT);
    cr_assert_eq(icmp_sock_errno(ICMP_DEST_UNREACH, 4), EMSGSIZE);
    cr_assert_eq(icmp_sock_errno(ICMP_DEST_UNREACH, 200), EHOSTUNREACH);
    cr_assert_eq(icmp_sock_errno(ICMP_DEST_UNREACH, 8), EHOSTUNREACH, "not Linux-only ENONET");
    cr_assert_eq(icmp_sock_errno(ICMP_PARAM_PROBLEM, 0), EPROTO);
    fx_down(&f);
}

/* ----- ping -s 3000, as the Linux capture ------------------------------- */

Test(icmp_sock, ping_s_3000_like_linux_and_the_kernels_reply_received)
{
    /* ip plays the kernel's side (192.0.2.1), with big buffers for the
     * 3008-byte message; the socket takes the capture's identifier */
    struct fx f;
    fx_up_p(&f, (const char *const[]){"addr=192.0.2.1/24", NULL},
            (const char *const[]){"count=64", "buf_size=2048", "big_count=2", NULL}, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&f);
    void *ip = f.ip->self;
    int h = l4->open(ip);
    struct lyra_sockaddr4 s = {.port = 0x5f1a};
    cr_assert_eq(l4->bind(ip, h, &s), 0);
    struct frame fr[6];
    static uint8_t req[3008], rep[3008], buf[4000];
    uint32_t at = 0, rat = 0;
    for (unsigned i = 0; i < 6; i++) {
        load_frame("ip/ping-frag-linux.pcap", i + 1, &fr[i]);
        uint32_t n = l3_len(&fr[i]) - 20;
        if (i < 3) {
            memcpy(req + at, l3(&fr[i]) + 20, n);
            at += n;
        } else {
            memcpy(rep + rat, l3(&fr[i]) + 20, n);
            rat += n;
        }
    }
    cr_assert_eq(at, 3008);
    cr_assert_eq(rat, 3008);
    req[2] = req[3] = 0; /* the stack computes it */
    struct lyra_sockaddr4 to = {.addr = STACK_IP};
    cr_assert_eq(l4->send(ip, h, req, sizeof(req), &to, 0), 3008);
    /* the kernel's three fragments, but the IP ID and header checksum */
    cr_assert_eq(f.l2.nout, 3);
    for (unsigned i = 0; i < 3; i++) {
        struct ipv4_view v;
        check_ip(&f.l2.out[i], &v);
        same_as_linux(&f.l2.out[i], l3(&fr[i]), l3_len(&fr[i]));
    }
    cr_assert_eq(lt_stat(f.skb, "big_alloc"), 1, "the message took a big buffer");
    cr_assert_eq(lt_stat(f.skb, "big_in_use"), 0);
    /* the kernel's reply, fragmented: reassembled, then on the socket */
    for (unsigned i = 3; i < 6; i++)
        deliver_frame(&f, &fr[i]);
    cr_assert_eq(st(&f, "reass_ok"), 1);
    cr_assert(l4->poll(ip, h) & LYRA_POLL_IN);
    struct lyra_sockaddr4 from;
    cr_assert_eq(l4->recv(ip, h, IOV1(buf, sizeof(buf)), 1, &from, NULL, 0), 3008);
    cr_assert_eq(memcmp(buf, rep, 3008), 0, "the ICMP message as the kernel sent it");
    cr_assert_eq(from.addr, STACK_IP);
    cr_assert_eq(lt_stat(f.skb, "big_alloc"), 2);
    cr_assert_eq(lt_stat(f.skb, "big_in_use"), 0);
    fx_down(&f);
}

Test(icmp_sock, two_instances_side_by_side)
{
    struct fx a, b;
    fx_up(&a, NULL, NULL);
    fx_up(&b, NULL, NULL);
    const struct lyra_l4_ops *l4 = l4_of(&a);
    cr_assert_eq(l4, l4_of(&b), "one ops table");
    int ha = l4->open(a.ip->self), hb = l4->open(b.ip->self);
    struct lyra_sockaddr4 s = {.port = 5};
    cr_assert_eq(l4->bind(a.ip->self, ha, &s), 0);
    cr_assert_eq(l4->bind(b.ip->self, hb, &s), 0, "identifiers are per instance");
    uint8_t p[64];
    deliver_ip(&a, p, make_reply(p, LINUX_IP, STACK_IP, 5, 1, NULL, 0), LYRA_SKB_F_HOST);
    cr_assert(l4->poll(a.ip->self, ha) & LYRA_POLL_IN);
    cr_assert_eq(l4->poll(b.ip->self, hb) & LYRA_POLL_IN, 0);
    fx_down(&b);
    fx_down(&a);
}
