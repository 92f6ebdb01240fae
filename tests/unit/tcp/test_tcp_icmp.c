/* tcp state machine, black box: ICMP errors about our segments (RFC 9293
 * 3.9.2.2, RFC 1122 4.2.3.9). A hard error (port unreachable) ends a
 * connect with ECONNREFUSED; soft errors (network, host unreachable) never
 * abort a connection, opening or established. Fixture: tcp_fx.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "fake_l3.h"
#include "tcp_fx.h"

/* ip hands up an ICMP error quoting our segment with sequence number seq. */
static void icmp(struct fx *f, uint8_t type, uint8_t code, uint32_t seq)
{
    struct lyra_l3_icmp_err e = {.type = type, .code = code, .src = FX_US, .dst = f->peer,
                                 .proto = 6};
    tcp_st16(e.l4, f->lport);
    tcp_st16(e.l4 + 2, f->pport);
    tcp_st32(e.l4 + 4, seq);
    cr_assert_eq(fake_l3_icmp_error(f->fl, &e), 0);
    fx_run(f);
}

/* RFC 1122 4.2.3.9 (codes 2-4 are hard errors: SHOULD abort), RFC 9293
 * 3.9.2.2; the contract's ECONNREFUSED: port unreachable for our SYN ends
 * the connect, and no more SYNs go out. */
Test(tcp_icmp, port_unreachable_refuses_connect)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    icmp(&f, 3, 3, f.t_iss);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR);
    cr_assert_eq(fx_soerror(&f, h), ECONNREFUSED);
    cr_assert_eq(fx_wait_maybe(&f, 5000, NULL), UINT64_MAX, "SYN sent again after refusal");
    fx_down(&f);
}

/* RFC 1122 4.2.3.9 (codes 0, 1, 5 are soft errors: TCP MUST NOT abort the
 * connection): host unreachable for our SYN does not end the connect (no
 * ERR, which ends a connect in l4); the SYN is sent again and a SYN-ACK
 * still completes the connection. */
Test(tcp_icmp, host_unreachable_does_not_abort_connect)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    icmp(&f, 3, 1, f.t_iss);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0, "a soft error ended the connect");
    struct fx_seg s;
    fx_wait(&f, 2000, &s);
    cr_assert_eq(s.flags, TCP_SYN);
    fx_synack(&f);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, f.p_iss + 1);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_OUT);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    fx_down(&f);
}

/* RFC 1122 4.2.3.9, RFC 9293 3.9.2.2 (MUST NOT abort on soft errors; the
 * application SHOULD learn of them): network unreachable about data of an
 * established connection leaves it established; the data is retransmitted
 * and acknowledged, and sending goes on. */
Test(tcp_icmp, net_unreachable_does_not_abort_established)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_write(&f, h, "data", 4), 4);
    fx_drain(&f);
    uint32_t sent = f.p_rcv;
    f.p_rcv = f.t_iss + 1; /* lost */
    icmp(&f, 3, 0, f.t_iss + 1);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    struct fx_seg s;
    fx_wait(&f, 3000, &s);
    cr_assert_eq(s.seq, f.t_iss + 1);
    cr_assert_eq(s.len, 4);
    fx_ack(&f);
    cr_assert_eq(f.p_rcv, sent);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    /* the error may be made available to the application (SHOULD) by one
     * send; the connection goes on */
    long r = fx_write(&f, h, "more", 4);
    if (r < 0) {
        cr_assert_eq(r, -ENETUNREACH, "send after a soft error: %ld", r);
        r = fx_write(&f, h, "more", 4);
    }
    cr_assert_eq(r, 4);
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 9293 3.9.2.2 (ICMP errors are directed to the connection that caused
 * them): an error quoting a port pair we have no connection for changes
 * nothing. */
Test(tcp_icmp, error_for_unknown_connection_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_connect(&f, NULL);
    uint16_t lp = f.lport;
    f.lport = (uint16_t)(lp + 1);
    icmp(&f, 3, 3, f.t_iss);
    f.lport = lp;
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_SYN_SENT);
    fx_down(&f);
}

/* RFC 9293 3.9.2.2 (MUST-55: Source Quench is silently discarded). */
Test(tcp_icmp, source_quench_ignored)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    icmp(&f, 4, 0, f.t_iss + 1);
    cr_assert_eq(fx_poll(&f, h) & LYRA_POLL_ERR, 0);
    cr_assert_eq(fx_soerror(&f, h), 0);
    cr_assert_eq(fx_write(&f, h, "x", 1), 1);
    fx_expect(&f, NULL, TCP_ACK, f.t_iss + 1, FX_ANY);
    fx_down(&f);
}

/* RFC 9293 3.9.1.8 / 3.9.2.2 (MUST-47: soft errors are reported to the
 * application; SHLD: make the information available): host unreachable on
 * an established connection shows in SO_ERROR, and the connection stays. */
Test(tcp_icmp, soft_error_reported_to_application)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_active(&f);
    cr_assert_eq(fx_write(&f, h, "data", 4), 4);
    fx_drain(&f);
    icmp(&f, 3, 1, f.t_iss + 1);
    cr_assert(fx_poll(&f, h) & LYRA_POLL_ERR, "the soft error was not reported");
    cr_assert_eq(fx_soerror(&f, h), EHOSTUNREACH);
    cr_assert_eq(fx_state(&f, h), LYRA_TCPS_ESTABLISHED);
    fx_down(&f);
}
