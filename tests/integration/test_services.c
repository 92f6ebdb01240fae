/* The services (--services) and lyra-ping as users meet them: the DMA
 * stack runs echo, discard and chargen; the PIO stack talks to it over the
 * in-process wire through the socket API (each stack's loop on a thread of
 * its own), for each pair of stacks (copy, zero copy, mixed: lt_asm.h).
 * Then the CLI's errors: unknown services, TCP-only services on a stack
 * without TCP, lyra-ping's usage errors, exit statuses. No root needed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lyra/socket.h"
#include "lyra/stack.h"
#include "lt_asm.h"
#include "services.h"

static const char *env(const char *n)
{
    const char *s = getenv(n);
    cr_assert(s, "%s is not set (run through ctest)", n);
    return s;
}

struct node {
    struct lyra_stack *s;
    pthread_t loop;
};

static void *run_loop(void *arg)
{
    lyra_stack_run(((struct node *)arg)->s);
    return NULL;
}

static void up(struct node *n, const char *as, const char *name, const char *wire)
{
    char mf[512], link[128];
    snprintf(mf, sizeof(mf), "%s/assemblies/%s.lyra", env("LYRA_SOURCE_DIR"), name);
    snprintf(link, sizeof(link), "dev.link=wire:%s", wire);
    const char *ov[] = {link, "os.seed=7", as, NULL};
    cr_assert_eq(lyra_stack_load(mf, ov, &n->s), 0, "load %s", name);
    cr_assert_eq(lyra_stack_start(n->s), 0);
}

static void go(struct node *n)
{
    cr_assert_eq(pthread_create(&n->loop, NULL, run_loop, n), 0);
}

static void down(struct node *n)
{
    lyra_stack_stop(n->s);
    pthread_join(n->loop, NULL);
}

/* Buffers posted on the NIC's receive ring (nic_dma, netdev 1.1): the
 * driver's until it stops, so they are in skb in_use but not leaked. */
static uint64_t posted(struct lyra_stack *s)
{
    uint64_t v = lyra_stack_counter(s, "nic", "rx_posted");
    return v == UINT64_MAX ? 0 : v;
}

static int udp_to(struct lyra_stack *s, uint16_t port, struct sockaddr_in *dst)
{
    int fd = lyra_socket(s, AF_INET, SOCK_DGRAM, 0);
    cr_assert_geq(fd, 0);
    struct timeval tv = {2, 0};
    cr_assert_eq(lyra_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    memset(dst, 0, sizeof(*dst));
    dst->sin_family = AF_INET;
    dst->sin_port = htons(port);
    dst->sin_addr.s_addr = htonl(0xc0000203); /* the DMA stack: 192.0.2.3 */
    return fd;
}

/* (on each pair of stacks, tests/support/lt_asm.h: b serves, a asks) */
LT_EACH_PAIR(services, echo_discard_and_chargen_answer_over_udp, .timeout = 60)
static void echo_discard_and_chargen_answer_over_udp(const char *sa, const char *sb)
{
    char wire[64];
    snprintf(wire, sizeof(wire), "svc%d", getpid());
    struct node a, b;
    up(&b, LT_AS_B, sb, wire);
    up(&a, LT_AS_A, sa, wire);
    cr_assert_eq(lyra_services_check(b.s, "echo,discard,chargen", stderr), 0);
    struct lyra_services *sv = NULL;
    cr_assert_eq(lyra_services_start(b.s, "echo,discard,chargen", stderr, &sv), 0);
    go(&b);
    go(&a);

    struct sockaddr_in dst;
    char buf[2048];
    /* echo (RFC 862): the same bytes back, from port 7 */
    int e = udp_to(a.s, 7, &dst);
    for (int i = 0; i < 3; i++) {
        char msg[64];
        int n = snprintf(msg, sizeof(msg), "echo %d", i);
        cr_assert_eq(lyra_sendto(a.s, e, msg, (size_t)n, 0, (struct sockaddr *)&dst, sizeof(dst)), n);
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t r = lyra_recvfrom(a.s, e, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        cr_assert_eq(r, n, "echo %d: %zd (%s)", i, r, strerror(errno));
        cr_assert_eq(memcmp(buf, msg, (size_t)n), 0);
        cr_assert_eq(ntohs(from.sin_port), 7);
    }
    /* discard (RFC 863): taken, never answered */
    int d = udp_to(a.s, 9, &dst);
    struct timeval tv = {0, 300000};
    lyra_setsockopt(a.s, d, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    uint64_t before = lyra_stack_counter(b.s, "udp", "rx_datagrams");
    cr_assert_eq(lyra_sendto(a.s, d, "gone", 4, 0, (struct sockaddr *)&dst, sizeof(dst)), 4);
    cr_assert_eq(lyra_recv(a.s, d, buf, sizeof(buf), 0), -1);
    cr_assert_eq(errno, EAGAIN);
    cr_assert_eq(lyra_stack_counter(b.s, "udp", "rx_datagrams"), before + 1);
    /* chargen (RFC 864): 0..512 characters of the rotating pattern */
    int c = udp_to(a.s, 19, &dst);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(lyra_sendto(a.s, c, "", 0, 0, (struct sockaddr *)&dst, sizeof(dst)), 0);
        ssize_t r = lyra_recv(a.s, c, buf, sizeof(buf), 0);
        cr_assert(r >= 0 && r <= 512, "chargen: %zd", r);
        for (ssize_t k = 0; k < r; k++)
            cr_assert((buf[k] >= ' ' && buf[k] <= '~') || buf[k] == '\r' || buf[k] == '\n',
                      "byte %zd is %d", k, buf[k]);
        /* a line is 72 characters, each the previous one's successor */
        for (ssize_t k = 1; k < r && k < 72; k++)
            cr_assert_eq((buf[k] - ' ') % 95, (buf[k - 1] - ' ' + 1) % 95);
    }
    lyra_close(a.s, e);
    lyra_close(a.s, d);
    lyra_close(a.s, c);
    down(&a);
    down(&b);
    lyra_services_join(sv);
    /* a reply sent just before the stop may still sit in the e1000's
     * transmit ring (the driver reclaims completed descriptors in its next
     * poll): two steps finish that, then nothing may be left out */
    for (int i = 0; i < 2; i++) {
        lyra_stack_poll(a.s);
        lyra_stack_poll(b.s);
    }
    cr_assert_eq(lyra_stack_counter(b.s, "skb", "in_use"), posted(b.s));
    cr_assert_eq(lyra_stack_counter(a.s, "skb", "in_use"), posted(a.s));
    lyra_stack_destroy(a.s);
    lyra_stack_destroy(b.s);
}

/* RFC 1122 4.1.3.5 over the wire: copy-dma's receiver bound to INADDR_ANY
 * learns with IP_PKTINFO whether a datagram came to its address, to the
 * directed or to the limited broadcast, and that it arrived on 192.0.2.3. */
LT_EACH_PAIR(services, pktinfo_tells_unicast_from_broadcast, .timeout = 60)
static void pktinfo_tells_unicast_from_broadcast(const char *sa, const char *sb)
{
    char wire[64];
    snprintf(wire, sizeof(wire), "pki%d", getpid());
    struct node a, b;
    up(&b, LT_AS_B, sb, wire);
    up(&a, LT_AS_A, sa, wire);
    go(&b);
    go(&a);
    int r = lyra_socket(b.s, AF_INET, SOCK_DGRAM, 0), one = 1;
    cr_assert_geq(r, 0);
    struct sockaddr_in any;
    memset(&any, 0, sizeof(any));
    any.sin_family = AF_INET;
    any.sin_port = htons(5000);
    cr_assert_eq(lyra_bind(b.s, r, (struct sockaddr *)&any, sizeof(any)), 0);
    cr_assert_eq(lyra_setsockopt(b.s, r, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)), 0);
    struct timeval tv = {2, 0};
    cr_assert_eq(lyra_setsockopt(b.s, r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    struct sockaddr_in dst;
    int snd = udp_to(a.s, 5000, &dst);
    cr_assert_eq(lyra_setsockopt(a.s, snd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)), 0);
    const uint32_t to[3] = {0xc0000203, 0xc00002ff, 0xffffffff};
    for (int i = 0; i < 3; i++) {
        dst.sin_addr.s_addr = htonl(to[i]);
        cr_assert_eq(lyra_sendto(a.s, snd, "pk", 2, 0, (struct sockaddr *)&dst, sizeof(dst)), 2,
                     "send %d: %s", i, strerror(errno));
        char buf[8];
        struct iovec v = {buf, sizeof(buf)};
        struct sockaddr_in from;
        union {
            struct cmsghdr align;
            char b[CMSG_SPACE(sizeof(struct in_pktinfo))];
        } ctl;
        struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &v,
                           .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl)};
        cr_assert_eq(lyra_recvmsg(b.s, r, &m, 0), 2, "datagram %d: %s", i, strerror(errno));
        cr_assert_eq(ntohl(from.sin_addr.s_addr), 0xc0000202, "from copy-pio");
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        cr_assert_not_null(c, "datagram %d: no control message", i);
        cr_assert_eq(c->cmsg_level, IPPROTO_IP);
        cr_assert_eq(c->cmsg_type, IP_PKTINFO);
        struct in_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof(pi));
        cr_assert_eq(ntohl(pi.ipi_addr.s_addr), to[i], "datagram %d: ipi_addr %08x", i,
                     ntohl(pi.ipi_addr.s_addr));
        cr_assert_eq(ntohl(pi.ipi_spec_dst.s_addr), 0xc0000203, "datagram %d: ipi_spec_dst", i);
        cr_assert_eq(pi.ipi_ifindex, 1);
    }
    lyra_close(a.s, snd);
    lyra_close(b.s, r);
    down(&a);
    down(&b);
    lyra_stack_destroy(a.s);
    lyra_stack_destroy(b.s);
}

#define OUT_MAX 65536
static char out[OUT_MAX];

static int sh(const char *fmt, ...)
{
    char cmd[4096], full[4400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "cd '%s' && (%s) 2>&1", env("LYRA_SOURCE_DIR"), cmd);
    FILE *p = popen(full, "r");
    cr_assert(p);
    size_t n = fread(out, 1, OUT_MAX - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Writes manifest `from` (under the source tree) to `to` without its tcp
 * instance: the [tcp] section and tcp in the socket layer's l4 list. */
static void without_tcp(const char *from, const char *to)
{
    char path[512], line[512];
    snprintf(path, sizeof(path), "%s/%s", env("LYRA_SOURCE_DIR"), from);
    FILE *in = fopen(path, "r"), *o = fopen(to, "w");
    cr_assert(in && o, "%s, %s", path, to);
    int skip = 0, dropped = 0;
    while (fgets(line, sizeof(line), in)) {
        if (line[0] == '[')
            skip = !strncmp(line, "[tcp]", 5);
        if (skip)
            continue;
        if (!strncmp(line, "l4 = tcp, ", 10)) {
            fprintf(o, "l4 = %s", line + 10);
            dropped = 1;
            continue;
        }
        fputs(line, o);
    }
    fclose(in);
    fclose(o);
    cr_assert(dropped, "%s: no 'l4 = tcp, ...' line to change", from);
}

Test(services, cli_rejects_what_the_assembly_cannot_serve)
{
    const char *b = env("LYRA_BUILD_DIR");
    cr_assert_eq(sh("%s/bin/lyranet run assemblies/copy-pio.lyra dev.link=wire:x%d --services "
                    "echo,gopher --for 0.1", b, getpid()), 1, "%s", out);
    cr_assert(strstr(out, "unknown service 'gopher'"), "%s", out);
    /* http and stall need a stream transport: copy-pio without its tcp
     * refuses them before anything starts, and says why */
    char udp_only[512];
    snprintf(udp_only, sizeof(udp_only), "%s/tests/udp-only-%d.lyra", b, getpid());
    without_tcp("assemblies/copy-pio.lyra", udp_only);
    cr_assert_eq(sh("%s/bin/lyranet run %s dev.link=wire:x%d --services echo,http --for 0.1", b,
                    udp_only, getpid()), 1, "%s", out);
    cr_assert(strstr(out, "http needs TCP (a SOCK_STREAM transport), and assembly "), "%s", out);
    unlink(udp_only);
    /* with tcp every service starts, over UDP and TCP */
    cr_assert_eq(sh("%s/bin/lyra-copy-pio dev.link=wire:x%d --services "
                    "echo,discard,chargen,http,stall --for 0.2", b, getpid()), 0, "%s", out);
    cr_assert_eq(sh("%s/bin/lyra-copy-dma dev.link=wire:x%d --services echo,discard,chargen "
                    "--for 0.2 --stats", b, getpid()), 0, "%s", out);
    cr_assert(strstr(out, "stats of stack copy-dma"), "%s", out);
}

Test(services, lyra_ping_usage_errors_and_exit_statuses, .timeout = 60)
{
    const char *b = env("LYRA_BUILD_DIR");
    int pid = getpid();
    cr_assert_eq(sh("%s/bin/lyra-ping 192.0.2.3", b), 1, "%s", out);
    cr_assert(strstr(out, "--stack MANIFEST is required"), "%s", out);
    cr_assert_eq(sh("%s/bin/lyra-ping --stack assemblies/copy-pio.lyra", b), 1, "%s", out);
    cr_assert(strstr(out, "no destination"), "%s", out);
    cr_assert_eq(sh("%s/bin/lyra-ping -s 5 --stack assemblies/copy-pio.lyra 192.0.2.3", b), 1);
    cr_assert(strstr(out, "-s: '5' is not a number in"), "%s", out);
    cr_assert_eq(sh("%s/bin/lyra-ping --stack assemblies/copy-pio.lyra 192.0.2.300", b), 1);
    cr_assert(strstr(out, "not an IPv4 address"), "%s", out);
    cr_assert_eq(sh("%s/bin/lyra-ping --stack assemblies/copy-pio.lyra ip.ttl=0 1.2.3.4", b), 1);
    cr_assert(strstr(out, "ip.ttl=0"), "the override is named: %s", out);
    cr_assert_eq(sh("%s/bin/lyra-ping -q --frob --stack x.lyra 1.2.3.4", b), 1);
    /* nobody there: no replies, exit 1 as ping */
    cr_assert_eq(sh("%s/bin/lyra-ping -c 2 -i 0 -W 0.3 --stack assemblies/copy-pio.lyra "
                    "dev.link=wire:none%d 192.0.2.3", b, pid), 1, "%s", out);
    cr_assert(strstr(out, "2 packets transmitted, 0 received"), "%s", out);
    /* a peer: every echo answered, byte for byte; both stacks' stats in JSON */
    char json[512];
    snprintf(json, sizeof(json), "%s/tests/ping-%d.json", b, pid);
    cr_assert_eq(sh("%s/bin/lyra-ping -c 3 -i 0 -s 1000 --stats-json %s "
                    "--stack assemblies/copy-pio.lyra dev.link=wire:p%d "
                    "--peer assemblies/copy-dma.lyra dev.link=wire:p%d 192.0.2.3",
                    b, json, pid, pid), 0, "%s", out);
    cr_assert(strstr(out, "3 packets transmitted, 3 received, 0 corrupt"), "%s", out);
    cr_assert_eq(sh("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
                    "print(d[\"copy-pio\"][\"ip\"][\"icmp_sock_tx\"], "
                    "d[\"copy-dma\"][\"ip\"][\"icmp_echo_requests\"])' %s", json), 0, "%s", out);
    cr_assert_str_eq(out, "3 3\n");
    unlink(json);
}

/* Issue 9.2: --stats shows the counters that moved, grouped by instance;
 * --stats=all shows every counter; tools/stats_summary.py summarises the JSON
 * in a few lines and names what dropped. */
Test(services, stats_show_what_moved_grouped_by_instance, .timeout = 60)
{
    const char *b = env("LYRA_BUILD_DIR");
    int pid = getpid();
    char json[512];
    snprintf(json, sizeof(json), "%s/tests/stats-%d.json", b, pid);
    cr_assert_eq(sh("%s/bin/lyra-ping -q -c 2 -i 0 --stats --stats-json %s "
                    "--stack assemblies/copy-pio.lyra dev.link=wire:s%d "
                    "--peer assemblies/copy-dma.lyra dev.link=wire:s%d 192.0.2.3",
                    b, json, pid, pid), 0, "%s", out);
    cr_assert(strstr(out, "stats of stack copy-pio (counters that moved)"), "%s", out);
    cr_assert(strstr(out, "\n  eth    rx_frames="), "one line per instance: %s", out);
    cr_assert(!strstr(out, "=0 ") && !strstr(out, "=0\n"), "no zero shown: %s", out);
    cr_assert(strstr(out, "counters at 0 not shown: --stats=all"), "%s", out);
    cr_assert(!strstr(out, "arp_replies_rcvd ") && !strstr(out, "log_debug"), "%s", out);
    cr_assert_eq(sh("python3 tools/stats_summary.py %s", json), 0,
                 "%s", out);
    cr_assert(strstr(out, "copy-pio: ") && strstr(out, "copy-dma: "), "%s", out);
    cr_assert(strstr(out, "frames out/in "), "%s", out);
    unlink(json);
    cr_assert_eq(sh("%s/bin/lyra-ping -q -c 1 -i 0 --stats=all --stack assemblies/copy-pio.lyra "
                    "dev.link=wire:s%d --peer assemblies/copy-dma.lyra dev.link=wire:s%d "
                    "192.0.2.3", b, pid, pid), 0, "%s", out);
    cr_assert(strstr(out, "    log_debug                    0\n"), "zeros too: %s", out);
}
