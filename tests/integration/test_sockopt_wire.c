/* Socket options on real transports (issue 10.3): the udp and icmp echo
 * sockets of copy-pio have no TCP option and say ENOPROTOOPT, as Linux's
 * UDP does; a TCP connection between copy-pio and copy-dma over the
 * in-process wire reports itself through TCP_INFO (struct lyra_tcp_info)
 * and TCP_CONGESTION. Wire names carry the PID. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "lyra/socket.h"
#include "lyra/stack.h"

struct node {
    struct lyra_stack *s;
    pthread_t t;
    char link[64];
};

static void *loop_thread(void *arg)
{
    lyra_stack_run(arg);
    return NULL;
}

static void node_up(struct node *nd, const char *manifest, const char *addr)
{
    const char *src = getenv("LYRA_SOURCE_DIR");
    cr_assert(src, "LYRA_SOURCE_DIR is not set (run through ctest)");
    char path[1024], ip[64];
    snprintf(path, sizeof(path), "%s/assemblies/%s", src, manifest);
    snprintf(nd->link, sizeof(nd->link), "dev.link=wire:sockopt%d", (int)getpid());
    snprintf(ip, sizeof(ip), "ip.addr=%s/24", addr);
    const char *ov[] = {nd->link, ip, "os.seed=7", NULL};
    cr_assert_eq(lyra_stack_load(path, ov, &nd->s), 0, "cannot load %s", manifest);
    cr_assert_eq(lyra_stack_start(nd->s), 0, "cannot start %s", manifest);
    cr_assert_eq(pthread_create(&nd->t, NULL, loop_thread, nd->s), 0);
}

static void node_down(struct node *nd)
{
    lyra_stack_stop(nd->s);
    pthread_join(nd->t, NULL);
    lyra_stack_destroy(nd->s);
}

static void expect_noprotoopt(int r, const char *what)
{
    cr_assert_eq(r, -1, "%s: %d, not -1", what, r);
    cr_assert_eq(errno, ENOPROTOOPT, "%s: %s, not ENOPROTOOPT", what, strerror(errno));
}

/* Every TCP option on a datagram socket of protocol `proto`. */
static void no_tcp_options(struct lyra_stack *s, int proto, const char *what)
{
    int fd = lyra_socket(s, AF_INET, SOCK_DGRAM, proto);
    cr_assert_geq(fd, 0, "%s socket: %s", what, strerror(errno));
    static const int ints[] = {TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL,
                               TCP_KEEPCNT, TCP_USER_TIMEOUT};
    for (unsigned i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        int v = 1;
        socklen_t l = sizeof(v);
        expect_noprotoopt(lyra_setsockopt(s, fd, IPPROTO_TCP, ints[i], &v, sizeof(v)), what);
        expect_noprotoopt(lyra_getsockopt(s, fd, IPPROTO_TCP, ints[i], &v, &l), what);
    }
    int one = 1;
    expect_noprotoopt(lyra_setsockopt(s, fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)), what);
    struct lyra_tcp_info ti;
    socklen_t l = sizeof(ti);
    expect_noprotoopt(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, &ti, &l), what);
    char name[16];
    l = sizeof(name);
    expect_noprotoopt(lyra_getsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, name, &l), what);
    expect_noprotoopt(lyra_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, "newreno", 8), what);
    cr_assert_eq(lyra_close(s, fd), 0);
}

Test(sockopt_wire, udp_and_icmp_sockets_have_no_tcp_options)
{
    struct node a;
    node_up(&a, "copy-pio.lyra", "192.0.2.2");
    no_tcp_options(a.s, 0, "udp");
    no_tcp_options(a.s, IPPROTO_ICMP, "icmp");
    node_down(&a);
}
