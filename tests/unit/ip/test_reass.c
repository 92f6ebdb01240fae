/* reass.c alone, over an skb_copy pool: the real 3000-byte fragmented ping
 * from Linux in order, reversed and with duplicates; overlaps; timeout;
 * bounds. Every test ends with every skb back in the pool. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "fake_os.h"
#include "ip_test_util.h"
#include "lyra/inet_csum.h"
#include "reass.h"

extern const struct lyra_component lyra_component_skb_copy;

struct fx {
    struct lt_inst *os, *skb;
    const struct lyra_skb_ops *so;
    struct reass_dgram mem[8];
    struct reass r;
    struct frame f[3]; /* the kernel's fragments of one echo request */
    uint8_t whole[3028];
};

static void fx_up(struct fx *x, const char *buf_size, unsigned max, uint32_t bytes)
{
    memset(x, 0, sizeof(*x));
    x->os = lt_create(&lyra_component_fake_os, NULL);
    x->skb = lt_create(&lyra_component_skb_copy,
                       (const char *const[]){"count=32", buf_size, NULL});
    cr_assert_eq(lt_bind(x->skb, "os", x->os), 0);
    cr_assert_eq(lt_start(x->os), 0);
    cr_assert_eq(lt_start(x->skb), 0);
    x->so = lt_ops(x->skb, "skb");
    reass_init(&x->r, x->mem, max, bytes, 30 * S, x->so, x->skb->self, 34);
    for (unsigned i = 0; i < 3; i++)
        load_frame("ip/ping-frag-linux.pcap", i + 1, &x->f[i]);
    /* the datagram they carry: first header (offset/MF cleared), payloads */
    memcpy(x->whole, l3(&x->f[0]), 20);
    for (unsigned i = 0; i < 3; i++)
        memcpy(x->whole + 20 + 1480 * i, l3(&x->f[i]) + 20, l3_len(&x->f[i]) - 20);
    ip_st16(x->whole + 2, 3028);
    ip_st16(x->whole + 6, 0);
    ipv4_hdr_set_csum(x->whole, 20);
}

static void fx_down(struct fx *x)
{
    reass_purge(&x->r);
    cr_assert_eq(x->r.bytes_held, 0);
    cr_assert_eq(lt_stat(x->skb, "in_use"), 0, "skbs leaked: %llu",
                 (unsigned long long)lt_stat(x->skb, "in_use"));
    cr_assert_eq(lt_stat(x->skb, "bad_free"), 0, "an skb was freed twice");
    lt_destroy(x->skb);
    lt_destroy(x->os);
}

static struct lyra_skb *mk(struct fx *x, const uint8_t *p, uint32_t len)
{
    struct lyra_skb *s = x->so->alloc_rx(x->skb->self, len);
    cr_assert_not_null(s);
    memcpy(lyra_skb_put(s, len), p, len);
    return s;
}

/* Feeds fragment i of the capture; returns the datagram if it completed. */
static struct lyra_skb *feed(struct fx *x, unsigned i, uint64_t now)
{
    struct lyra_skb *out;
    bool done = reass_input(&x->r, mk(x, l3(&x->f[i]), l3_len(&x->f[i])), now, &out);
    cr_assert_eq(done, out != NULL);
    return out;
}

static void check_whole(struct fx *x, struct lyra_skb *s)
{
    cr_assert_not_null(s);
    cr_assert_eq(s->len, 3028);
    cr_assert_eq(memcmp(s->data, x->whole, 3028), 0, "reassembled bytes differ");
    struct ipv4_view v;
    cr_assert_eq(ipv4_view_init(&v, s->data, s->len), IPV4_OK);
    cr_assert(ipv4_view_csum_ok(&v));
    cr_assert(!ipv4_view_is_frag(&v));
    /* the ICMP checksum of the whole message holds: nothing was lost */
    cr_assert_eq(lyra_csum_fold(lyra_csum_add(s->data + 20, 3008, 0)), 0xffff);
    cr_assert(lyra_skb_headroom(s) >= 34);
    lyra_skb_free(s);
}

Test(reass, linux_in_order)
{
    struct fx x;
    fx_up(&x, "buf_size=4096", 8, 64 * 1024);
    cr_assert_null(feed(&x, 0, 0));
    cr_assert_null(feed(&x, 1, 0));
    cr_assert_eq(reass_count(&x.r), 1);
    check_whole(&x, feed(&x, 2, 0));
    cr_assert_eq(reass_count(&x.r), 0);
    cr_assert_eq(x.r.st.reassembled, 1);
    cr_assert_eq(x.r.st.copy_bytes, 3008);
    fx_down(&x);
}

Test(reass, linux_reversed)
{
    struct fx x;
    fx_up(&x, "buf_size=4096", 8, 64 * 1024);
    cr_assert_null(feed(&x, 2, 0));
    cr_assert_null(feed(&x, 1, 0));
    check_whole(&x, feed(&x, 0, 0));
    fx_down(&x);
}

Test(reass, linux_with_duplicates)
{
    struct fx x;
    fx_up(&x, "buf_size=4096", 8, 64 * 1024);
    cr_assert_null(feed(&x, 1, 0));
    cr_assert_null(feed(&x, 1, 0));
    cr_assert_null(feed(&x, 2, 0));
    cr_assert_null(feed(&x, 1, 0));
    cr_assert_null(feed(&x, 2, 0));
    check_whole(&x, feed(&x, 0, 0));
    cr_assert_eq(x.r.st.dup, 3);
    cr_assert_eq(x.r.st.overlap, 0);
    /* a late duplicate starts a new datagram, which times out */
    cr_assert_null(feed(&x, 1, 0));
    cr_assert_eq(reass_count(&x.r), 1);
    fx_down(&x);
}

Test(reass, overlap_same_bytes_is_fine)
{
    struct fx x;
    fx_up(&x, "buf_size=4096", 8, 64 * 1024);
    /* a refragmented piece straddling fragments 0 and 1, same bytes */
    uint8_t b[64];
    make_frag(b, LINUX_IP, STACK_IP, ip_ld16(x.whole + 4), 1, 1472, 1, x.whole + 20 + 1472, 16);
    struct lyra_skb *out;
    cr_assert_null(feed(&x, 0, 0));
    cr_assert(!reass_input(&x.r, mk(&x, b, 36), 0, &out));
    cr_assert_null(feed(&x, 2, 0));
    check_whole(&x, feed(&x, 1, 0));
    cr_assert_eq(x.r.st.overlap, 0);
    fx_down(&x);
}

Test(reass, overlap_different_bytes_drops_datagram)
{
    struct fx x;
    fx_up(&x, "buf_size=4096", 8, 64 * 1024);
    uint8_t data[16];
    memcpy(data, x.whole + 20 + 1472, 16);
    data[15] ^= 0x55; /* differs inside fragment 1's range */
    uint8_t b[64];
    make_frag(b, LINUX_IP, STACK_IP, ip_ld16(x.whole + 4), 1, 1472, 1, data, 16);
    struct lyra_skb *out;
    cr_assert_null(feed(&x, 0, 0));
    cr_assert_null(feed(&x, 1, 0));
    cr_assert(!reass_input(&x.r, mk(&x, b, 36), 0, &out));
    cr_assert_eq(x.r.st.overlap, 1);
    cr_assert_eq(reass_count(&x.r), 0);
    cr_assert_eq(lt_stat(x.skb, "in_use"), 0);
    /* the last fragment alone then starts over, and never completes */
    cr_assert_null(feed(&x, 2, 0));
    cr_assert_eq(reass_count(&x.r), 1);
    fx_down(&x);
}

Test(reass, timeout_30s)
{
    struct fx x;
    fx_up(&x, "buf_size=4096", 8, 64 * 1024);
    uint64_t t0 = 5 * S;
    cr_assert_null(feed(&x, 0, t0));
    cr_assert_null(feed(&x, 2, t0 + 10 * S)); /* later fragments do not extend it */
    cr_assert_eq(reass_next_deadline(&x.r), t0 + 30 * S);
    struct lyra_skb *f0;
    cr_assert(!reass_expire(&x.r, t0 + 30 * S - 1, &f0));
    cr_assert(reass_expire(&x.r, t0 + 30 * S, &f0));
    cr_assert_not_null(f0); /* fragment zero, for ICMP time exceeded */
    cr_assert_eq(memcmp(f0->data, l3(&x.f[0]), 20), 0);
    lyra_skb_free(f0);
    cr_assert_eq(x.r.st.timeout, 1);
    cr_assert_eq(reass_count(&x.r), 0);
    cr_assert_eq(reass_next_deadline(&x.r), UINT64_MAX);
    /* without fragment zero: no fragment to report */
    cr_assert_null(feed(&x, 1, t0));
    cr_assert(reass_expire(&x.r, t0 + 31 * S, &f0));
    cr_assert_null(f0);
    fx_down(&x);
}

Test(reass, bound_on_datagrams)
{
    struct fx x;
    fx_up(&x, "buf_size=4096", 2, 64 * 1024);
    uint8_t b[64], d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct lyra_skb *out;
    for (uint16_t id = 1; id <= 3; id++) {
        make_frag(b, LINUX_IP, STACK_IP, id, 17, 0, 1, d, 8);
        cr_assert(!reass_input(&x.r, mk(&x, b, 28), id * S, &out));
    }
    cr_assert_eq(reass_count(&x.r), 2);
    cr_assert_eq(x.r.st.full, 1); /* id 1, the oldest, made room */
    /* id 1's last fragment now starts a datagram of its own (evicting 2) */
    make_frag(b, LINUX_IP, STACK_IP, 1, 17, 8, 0, d, 8);
    cr_assert(!reass_input(&x.r, mk(&x, b, 28), 4 * S, &out));
    cr_assert_eq(x.r.st.full, 2);
    /* id 3 completes */
    make_frag(b, LINUX_IP, STACK_IP, 3, 17, 8, 0, d, 8);
    cr_assert(reass_input(&x.r, mk(&x, b, 28), 4 * S, &out));
    cr_assert_eq(out->len, 36);
    lyra_skb_free(out);
    fx_down(&x);
}

Test(reass, bound_on_bytes)
{
    struct fx x;
    /* 4096-byte buffers, 10000 bytes: two fragments held at most */
    fx_up(&x, "buf_size=4096", 8, 10000);
    cr_assert_null(feed(&x, 0, 0));
    uint8_t b[64], d[8] = {0};
    make_frag(b, LINUX_IP, STACK_IP, 99, 17, 0, 1, d, 8);
    struct lyra_skb *out;
    cr_assert(!reass_input(&x.r, mk(&x, b, 28), 1, &out));
    cr_assert_eq(x.r.bytes_held, 8192);
    /* a third buffer: the oldest datagram (the ping) goes */
    make_frag(b, LINUX_IP, STACK_IP, 99, 17, 8, 1, d, 8);
    cr_assert(!reass_input(&x.r, mk(&x, b, 28), 2, &out));
    cr_assert_eq(x.r.st.full, 1);
    cr_assert_eq(reass_count(&x.r), 1);
    /* a datagram that cannot fit alone is dropped whole */
    make_frag(b, LINUX_IP, STACK_IP, 99, 17, 16, 1, d, 8);
    cr_assert(!reass_input(&x.r, mk(&x, b, 28), 3, &out));
    cr_assert_eq(x.r.st.full, 2);
    cr_assert_eq(reass_count(&x.r), 0);
    cr_assert_eq(x.r.bytes_held, 0);
    fx_down(&x);
}

Test(reass, too_big_for_one_buffer)
{
    struct fx x;
    fx_up(&x, "buf_size=2048", 8, 64 * 1024);
    cr_assert_null(feed(&x, 0, 0));
    cr_assert_null(feed(&x, 1, 0));
    cr_assert_null(feed(&x, 2, 0));
    cr_assert_eq(x.r.st.too_big, 1);
    cr_assert_eq(x.r.st.reassembled, 0);
    cr_assert_eq(reass_count(&x.r), 0);
    fx_down(&x);
}

Test(reass, big_buffer_when_a_normal_one_is_too_small)
{
    struct fx x;
    /* 2048-byte buffers (the default) and two of skb_copy's big ones */
    fx_up(&x, "big_count=2", 8, 64 * 1024);
    cr_assert_null(feed(&x, 2, 0));
    cr_assert_null(feed(&x, 0, 0));
    struct lyra_skb *s = feed(&x, 1, 0);
    cr_assert_not_null(s);
    cr_assert_gt(s->size, 2048, "a big buffer");
    cr_assert_eq(lt_stat(x.skb, "big_in_use"), 1);
    cr_assert_eq(lt_stat(x.skb, "in_use"), 1, "the fragments went back");
    check_whole(&x, s);
    cr_assert_eq(x.r.st.too_big, 0);
    cr_assert_eq(lt_stat(x.skb, "big_in_use"), 0);
    fx_down(&x);
}

Test(reass, impossible_lengths)
{
    struct fx x;
    fx_up(&x, "buf_size=4096", 8, 64 * 1024);
    uint8_t b[64], d[16] = {0};
    struct lyra_skb *out;
    /* MF with a payload that is not a multiple of 8 */
    make_frag(b, LINUX_IP, STACK_IP, 5, 17, 0, 1, d, 12);
    cr_assert(!reass_input(&x.r, mk(&x, b, 32), 0, &out));
    cr_assert_eq(x.r.st.bad, 1);
    /* past 65535 */
    make_frag(b, LINUX_IP, STACK_IP, 5, 17, 65528, 0, d, 16);
    cr_assert(!reass_input(&x.r, mk(&x, b, 36), 0, &out));
    cr_assert_eq(x.r.st.bad, 2);
    /* two different ends */
    make_frag(b, LINUX_IP, STACK_IP, 6, 17, 16, 0, d, 8);
    cr_assert(!reass_input(&x.r, mk(&x, b, 28), 0, &out));
    make_frag(b, LINUX_IP, STACK_IP, 6, 17, 32, 0, d, 8);
    cr_assert(!reass_input(&x.r, mk(&x, b, 28), 0, &out));
    cr_assert_eq(x.r.st.bad, 3);
    cr_assert_eq(reass_count(&x.r), 0);
    /* data beyond a known end */
    make_frag(b, LINUX_IP, STACK_IP, 7, 17, 8, 0, d, 8);
    cr_assert(!reass_input(&x.r, mk(&x, b, 28), 0, &out));
    make_frag(b, LINUX_IP, STACK_IP, 7, 17, 8, 1, d, 16);
    cr_assert(!reass_input(&x.r, mk(&x, b, 36), 0, &out));
    cr_assert_eq(x.r.st.bad, 4);
    /* a last fragment ending before data already held */
    make_frag(b, LINUX_IP, STACK_IP, 8, 17, 16, 1, d, 16);
    cr_assert(!reass_input(&x.r, mk(&x, b, 36), 0, &out));
    make_frag(b, LINUX_IP, STACK_IP, 8, 17, 0, 0, d, 8);
    cr_assert(!reass_input(&x.r, mk(&x, b, 28), 0, &out));
    cr_assert_eq(x.r.st.bad, 5);
    /* no table at all */
    struct reass none;
    reass_init(&none, NULL, 4, 1000, S, x.so, x.skb->self, 0);
    make_frag(b, LINUX_IP, STACK_IP, 9, 17, 0, 1, d, 8);
    cr_assert(!reass_input(&none, mk(&x, b, 28), 0, &out));
    cr_assert_eq(none.st.full, 1);
    fx_down(&x);
}
