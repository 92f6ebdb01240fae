/* tcp's transmit checksum and the send copy (issue 11.4): unless the
 * route's NIC sums TCP (csum_tx), tcp asks the skb provider to sum the
 * payload in the copy that brings it in (add_data with LYRA_SEG_F_CSUM, skb
 * 2.2), so every data segment it hands down shows its payload in pieces
 * whose sums are kept and its checksum reads only its header; when the NIC
 * sums, nothing is summed in the copy. The checksums are right either way
 * (fx_next checks each one, and a retransmission's too). Fixture:
 * tcp_fx.h. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <string.h>

#include "fake_l3.h"
#include "lyra/netdev.h"
#include "tcp_fx.h"

static uint8_t pat[6000];

/* Writes 6000 bytes and returns the payload bytes of the data segments
 * tcp handed down in kept-sum pieces; *payload the payload bytes. Reads
 * the segments (checking their checksums) unless the NIC is to sum them
 * (the fixture checks whole checksums only). */
static uint32_t send_and_count(struct fx *f, uint32_t *payload, bool offload)
{
    fx_pattern(pat, sizeof(pat), 0);
    cr_assert_eq(fx_write(f, f->h, pat, sizeof(pat)), (long)sizeof(pat));
    fx_run(f);
    uint32_t kept = 0;
    *payload = 0;
    for (unsigned i = f->rd; fake_l3_out(f->fl, i); i++) {
        const struct fake_l3_out *o = fake_l3_out(f->fl, i);
        uint32_t hlen = (uint32_t)(o->b[12] >> 4) * 4;
        *payload += o->total - hlen;
        kept += o->kept;
    }
    struct fx_seg s;
    if (offload) {
        fake_l3_clear(f->fl);
        f->rd = 0;
    }
    while (fx_next(f, &s)) /* each checksum checked */
        ;
    return kept;
}

Test(tcp_csum, payload_summed_in_the_copy_without_offload)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_active(&f);
    uint32_t payload, kept = send_and_count(&f, &payload, false);
    cr_assert_gt(payload, 2000, "segments went out");
    cr_assert_eq(kept, payload, "every payload byte in a piece with its sum kept");
    /* a retransmission (RTO) sums nothing again (its payload still in
     * kept-sum pieces: its checksum reads only the header) and is still
     * right (fx_next checks it) */
    for (int ms = 0; ms < 5000 && fake_l3_out_count(f.fl) <= f.rd; ms += 10)
        fx_ms(&f, 10);
    const struct fake_l3_out *o = fake_l3_out(f.fl, f.rd);
    cr_assert_not_null(o, "no retransmission in 5 s");
    uint32_t rkept = o->kept, pay = o->total - (uint32_t)(o->b[12] >> 4) * 4;
    struct fx_seg s;
    cr_assert(fx_next(&f, &s)); /* the same segment, its checksum checked */
    cr_assert_eq(s.len, pay);
    cr_assert_gt(s.len, 0);
    cr_assert_eq(rkept, s.len, "the retransmission's payload was summed again: %u of %u kept",
                 rkept, s.len);
    fx_down(&f);
}

Test(tcp_csum, nothing_summed_in_the_copy_when_the_nic_sums)
{
    struct fx f;
    fx_up(&f, NULL);
    fx_active(&f);
    f.cfg->csum_tx = LYRA_CSUM_TCP; /* from here on (the fixture checks whole sums) */
    uint32_t payload, kept = send_and_count(&f, &payload, true);
    cr_assert_gt(payload, 2000);
    cr_assert_eq(kept, 0, "the NIC sums: the copy does not");
    fx_down(&f);
}
