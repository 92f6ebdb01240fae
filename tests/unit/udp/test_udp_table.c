/* udp_table alone: ports, clashes and demultiplexing precedence. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "udp_table.h"
#include "udp_vectors.h"

#define N 8

static struct udp_ep mem[N];

static int bound(struct udp_table *t, uint32_t addr, uint16_t port)
{
    int h = udp_table_open(t, 1000);
    cr_assert_geq(h, 0);
    t->ep[h].laddr = addr;
    t->ep[h].lport = port;
    return h;
}

Test(udp_table, open_until_full_then_enobufs)
{
    struct udp_table t;
    udp_table_init(&t, mem, N, 49152, 65535, 0);
    for (int i = 0; i < N; i++)
        cr_assert_eq(udp_table_open(&t, 100), i);
    cr_assert_eq(udp_table_open(&t, 100), -ENOBUFS);
    cr_assert_eq(udp_table_count(&t, NULL), N);
    udp_table_close(&t, 3);
    cr_assert_null(udp_table_get(&t, 3));
    cr_assert_null(udp_table_get(&t, -1));
    cr_assert_null(udp_table_get(&t, N));
    cr_assert_eq(udp_table_open(&t, 100), 3, "a closed entry is reused");
    cr_assert_eq(udp_table_get(&t, 3)->rcvbuf, 100);
}

/* The first port is port_min + rnd % range; then they go in order,
 * skipping ports in use, wrapping at port_max; none when all are taken. */
Test(udp_table, ephemeral_in_range_unique_exhausted)
{
    struct udp_table t;
    udp_table_init(&t, mem, N, 1000, 1005, 4); /* 6 ports, start 1004 */
    bound(&t, 0, 1005);                         /* taken: skipped */
    uint16_t p, got[5];
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(udp_table_ephemeral(&t, &p), 0);
        got[i] = p;
        bound(&t, 0, p);
    }
    static const uint16_t want[5] = {1004, 1000, 1001, 1002, 1003};
    cr_assert_eq(memcmp(got, want, sizeof(want)), 0, "got %u %u %u %u %u", got[0], got[1],
                 got[2], got[3], got[4]);
    cr_assert_eq(udp_table_ephemeral(&t, &p), -EADDRINUSE);
}

Test(udp_table, ephemeral_full_range_wraps)
{
    struct udp_table t;
    udp_table_init(&t, mem, N, 49152, 65535, 16383); /* starts at 65535 */
    uint16_t p;
    cr_assert_eq(udp_table_ephemeral(&t, &p), 0);
    cr_assert_eq(p, 65535);
    cr_assert_eq(udp_table_ephemeral(&t, &p), 0);
    cr_assert_eq(p, 49152, "wraps to port_min");
}

Test(udp_table, clash_rules)
{
    struct udp_table t;
    udp_table_init(&t, mem, N, 49152, 65535, 0);
    int a = bound(&t, 0, 7);
    int b = udp_table_open(&t, 1000);
    cr_assert(udp_table_clash(&t, b, 0, 7, false), "any vs any");
    cr_assert(udp_table_clash(&t, b, STACK_IP, 7, false), "specific vs any");
    cr_assert(!udp_table_clash(&t, b, 0, 8, false), "other port");
    cr_assert(!udp_table_clash(&t, a, 0, 7, false), "itself");
    cr_assert(udp_table_clash(&t, b, 0, 7, true), "only one side reuses");
    t.ep[a].reuse = true;
    cr_assert(!udp_table_clash(&t, b, 0, 7, true), "both reuse");
    t.ep[a].reuse = false;
    t.ep[a].laddr = STACK_IP;
    cr_assert(!udp_table_clash(&t, b, SUBNET_BCAST, 7, false), "different addresses");
    cr_assert(udp_table_clash(&t, b, STACK_IP, 7, false), "same address");
}

/* Connected beats bound-to-address beats bound-to-any, whatever the
 * order in the table; a connected endpoint takes its peer only. */
Test(udp_table, lookup_most_specific)
{
    struct udp_table t;
    udp_table_init(&t, mem, N, 49152, 65535, 0);
    int conn = bound(&t, STACK_IP, 9);
    t.ep[conn].connected = true;
    t.ep[conn].raddr = LINUX_IP;
    t.ep[conn].rport = 5000;
    int spec = bound(&t, STACK_IP, 9);
    int any = bound(&t, 0, 9);
    bound(&t, 0, 10);
    cr_assert_eq(udp_table_lookup(&t, LINUX_IP, 5000, STACK_IP, 9), conn);
    cr_assert_eq(udp_table_lookup(&t, LINUX_IP, 5001, STACK_IP, 9), spec);
    cr_assert_eq(udp_table_lookup(&t, IP4(192, 0, 2, 3), 5000, STACK_IP, 9), spec);
    udp_table_close(&t, spec);
    cr_assert_eq(udp_table_lookup(&t, LINUX_IP, 5001, STACK_IP, 9), any);
    cr_assert_eq(udp_table_lookup(&t, LINUX_IP, 5001, SUBNET_BCAST, 9), any);
    udp_table_close(&t, any);
    cr_assert_eq(udp_table_lookup(&t, LINUX_IP, 5001, STACK_IP, 9), -1);
    cr_assert_eq(udp_table_lookup(&t, LINUX_IP, 5000, STACK_IP, 11), -1);
    /* an unbound endpoint (port 0) takes nothing, not even port 0 */
    udp_table_open(&t, 1000);
    cr_assert_eq(udp_table_lookup(&t, LINUX_IP, 5000, STACK_IP, 0), -1);
}

Test(udp_table, next_match_visits_every_taker)
{
    struct udp_table t;
    udp_table_init(&t, mem, N, 49152, 65535, 0);
    int a = bound(&t, 0, 9);
    bound(&t, STACK_IP, 9); /* bound to the unicast address: not a broadcast taker */
    int c = bound(&t, SUBNET_BCAST, 9);
    bound(&t, 0, 10);
    int e = bound(&t, 0, 9);
    int got[N], n = 0;
    for (int i = udp_table_next_match(&t, -1, LINUX_IP, 1, SUBNET_BCAST, 9); i >= 0;
         i = udp_table_next_match(&t, i, LINUX_IP, 1, SUBNET_BCAST, 9))
        got[n++] = i;
    cr_assert_eq(n, 3);
    cr_assert_eq(got[0], a);
    cr_assert_eq(got[1], c);
    cr_assert_eq(got[2], e);
}
