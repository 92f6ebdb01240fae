/* udp's MSG_ZEROCOPY completions and loans against fakes (fake_l3,
 * fake_os, skb_copy). udp's skb slot is bound to a wrapper of skb_copy
 * that plays a referencing provider where the test says so: with
 * LYRA_SEG_F_REF its add_data reports nothing copied, and it keeps one
 * reference on the datagram as a NIC would until the test "transmits"
 * it. So the completion's timing (at the frame's last free) and the
 * absence of the COPIED code are checked here; test_zerocopy_wire does
 * the socket API over real assemblies. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "fake_l3.h"
#include "fake_os.h"
#include "lt.h"
#include "lyra/l4.h"
#include "lyra/l4_zc.h"
#include "lyra/skb.h"

extern const struct lyra_component lyra_component_udp;
extern const struct lyra_component lyra_component_skb_copy;

#define STACK_IP 0xc0000202u /* 192.0.2.2, fake_l3's */
#define PEER_IP 0xc0000209u

/* the wrapper (one per test: the suite runs its tests one by one) */
static struct lyra_skb_ops wrap_ops;
static const struct lyra_skb_ops *real_ops;
static void *real_self;
static int referencing;           /* play a referencing provider */
static struct lyra_skb *held[8]; /* frames "in the NIC" */
static unsigned nheld, saw_ref;

static int wrap_add_data(void *self, struct lyra_skb *skb, const void *p, uint32_t len,
                         uint32_t flags, uint32_t *copied)
{
    (void)self;
    int r = real_ops->add_data(real_self, skb, p, len, flags, copied);
    if (flags & LYRA_SEG_F_REF)
        saw_ref++;
    if (referencing && (flags & LYRA_SEG_F_REF) && r > 0) {
        if (copied)
            *copied = 0; /* "referenced" */
        cr_assert_lt(nheld, 8);
        lyra_skb_ref(skb);
        held[nheld++] = skb;
    }
    return r;
}

struct fx {
    struct lt_inst *os, *skb, *l3, *udp;
    const struct lyra_l4_ops *l4;
    void *u;
};

static void fx_up(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    referencing = 0;
    nheld = saw_ref = 0;
    f->os = lt_create(&lyra_component_fake_os, NULL);
    f->skb = lt_create(&lyra_component_skb_copy,
                       (const char *const[]){"count=64", "buf_size=2048", NULL});
    cr_assert_eq(lt_bind(f->skb, "os", f->os), 0);
    cr_assert_eq(lt_start(f->os), 0);
    cr_assert_eq(lt_start(f->skb), 0);
    real_ops = lt_ops(f->skb, "skb");
    real_self = f->skb->self;
    wrap_ops = *real_ops;
    wrap_ops.add_data = wrap_add_data;
    f->l3 = lt_create(&lyra_component_fake_l3, NULL);
    f->udp = lt_create(&lyra_component_udp, NULL);
    cr_assert_eq(lt_bind(f->l3, "skb", f->skb), 0);
    cr_assert_eq(lt_bind(f->udp, "os", f->os), 0);
    cr_assert_eq(lt_bind_raw(f->udp, "skb", &wrap_ops, real_self), 0);
    cr_assert_eq(lt_bind(f->udp, "l3", f->l3), 0);
    cr_assert_eq(lt_start(f->l3), 0);
    cr_assert_eq(lt_start(f->udp), 0);
    f->l4 = lt_ops(f->udp, "l4");
    f->u = f->udp->self;
}

static void fx_down(struct fx *f)
{
    for (unsigned k = 0; k < nheld; k++)
        lyra_skb_free(held[k]);
    lt_stop(f->udp);
    lt_destroy(f->udp);
    lt_destroy(f->l3);
    cr_assert_eq(lt_stat(f->skb, "in_use"), 0, "skbs leaked");
    lt_stop(f->skb);
    lt_destroy(f->skb);
    lt_destroy(f->os);
}

static int ep(struct fx *f)
{
    int h = f->l4->open(f->u);
    cr_assert_geq(h, 0);
    struct lyra_sockaddr4 a = {STACK_IP, 5000};
    cr_assert_eq(f->l4->bind(f->u, h, &a), 0);
    return h;
}

static int take(struct fx *f, int h, struct lyra_zc_compl *c)
{
    uint32_t n = sizeof(*c);
    return f->l4->getopt_buf(f->u, h, LYRA_SO_ZC_COMPL, c, &n);
}

static long zsend(struct fx *f, int h, const char *m)
{
    struct lyra_sockaddr4 to = {PEER_IP, 9};
    return f->l4->send(f->u, h, m, strlen(m), &to, LYRA_MSG_ZEROCOPY);
}

Test(udp_zc, off_ignores_the_flag)
{
    struct fx f;
    fx_up(&f);
    int h = ep(&f);
    cr_assert_eq(zsend(&f, h, "abc"), 3);
    cr_expect_eq(saw_ref, 0, "no LYRA_SEG_F_REF without SO_ZEROCOPY");
    struct lyra_zc_compl c;
    cr_expect_eq(take(&f, h, &c), -EAGAIN);
    cr_expect_eq(f.l4->poll(f.u, h) & LYRA_POLL_ERR, 0);
    fx_down(&f);
}

Test(udp_zc, copied_complete_at_once)
{
    struct fx f;
    fx_up(&f);
    int h = ep(&f);
    cr_assert_eq(f.l4->setopt(f.u, h, LYRA_SO_ZEROCOPY, 1), 0);
    cr_assert_eq(zsend(&f, h, "one"), 3);
    cr_assert_eq(zsend(&f, h, "two"), 3);
    cr_expect_eq(saw_ref, 2, "F_REF passed to add_data");
    cr_expect(f.l4->poll(f.u, h) & LYRA_POLL_ERR);
    struct lyra_zc_compl c;
    cr_assert_eq(take(&f, h, &c), 0);
    cr_expect_eq(c.lo, 0);
    cr_expect_eq(c.hi, 1);
    cr_expect_eq(c.copied, 1);
    cr_expect_eq(take(&f, h, &c), -EAGAIN);
    cr_expect_eq(lt_stat(f.udp, "zc_sends"), 2);
    fx_down(&f);
}

Test(udp_zc, referenced_complete_when_the_frame_is_freed)
{
    struct fx f;
    fx_up(&f);
    int h = ep(&f);
    cr_assert_eq(f.l4->setopt(f.u, h, LYRA_SO_ZEROCOPY, 1), 0);
    referencing = 1;
    cr_assert_eq(zsend(&f, h, "first"), 5);
    cr_assert_eq(zsend(&f, h, "second"), 6);
    struct lyra_zc_compl c;
    cr_expect_eq(take(&f, h, &c), -EAGAIN, "the frames are still in the NIC");
    cr_expect_eq(f.l4->poll(f.u, h) & LYRA_POLL_ERR, 0);
    lyra_skb_free(held[1]); /* the second goes first */
    cr_assert_eq(take(&f, h, &c), 0);
    cr_expect_eq(c.lo, 1);
    cr_expect_eq(c.hi, 1);
    cr_expect_eq(c.copied, 0, "referenced: no COPIED code");
    lyra_skb_free(held[0]);
    cr_assert_eq(take(&f, h, &c), 0);
    cr_expect_eq(c.lo, 0);
    cr_expect_eq(c.hi, 0);
    nheld = 0;
    /* a send ip refuses takes no id, even when its frame is still held
     * elsewhere: the next success is id 2, and nothing completes for it */
    fake_l3_cfg(f.l3->self)->output_err = -ENOBUFS;
    cr_expect_lt(zsend(&f, h, "refused"), 0);
    fake_l3_cfg(f.l3->self)->output_err = 0;
    cr_assert_eq(nheld, 1);
    lyra_skb_free(held[0]); /* the refused frame's last reference */
    cr_expect_eq(take(&f, h, &c), -EAGAIN, "no completion for a refused send");
    nheld = 0;
    cr_assert_eq(zsend(&f, h, "third"), 5);
    lyra_skb_free(held[0]);
    nheld = 0;
    cr_assert_eq(take(&f, h, &c), 0);
    cr_expect_eq(c.lo, 2);
    fx_down(&f);
}

Test(udp_zc, closed_socket_completion_dropped)
{
    struct fx f;
    fx_up(&f);
    int h = ep(&f);
    cr_assert_eq(f.l4->setopt(f.u, h, LYRA_SO_ZEROCOPY, 1), 0);
    referencing = 1;
    cr_assert_eq(zsend(&f, h, "late"), 4);
    f.l4->close(f.u, h);
    int g = f.l4->open(f.u);
    cr_assert_eq(g, h, "the same slot again");
    lyra_skb_free(held[0]);
    nheld = 0;
    struct lyra_zc_compl c;
    cr_expect_eq(take(&f, g, &c), -EAGAIN, "the old socket's completion is not the new one's");
    int v = 1;
    cr_expect_eq(f.l4->getopt(f.u, g, LYRA_SO_ZEROCOPY, &v), 0);
    cr_expect_eq(v, 0, "a new socket starts with SO_ZEROCOPY off");
    fx_down(&f);
}
