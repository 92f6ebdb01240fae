/* lyra-ping: ping (ICMP echo, or UDP echo with -u) from a LyraNET stack,
 * an ordinary application of the socket API.
 *
 *   lyra-ping [OPTIONS] --stack MANIFEST [INST.PARAM=VALUE ...]
 *             [--peer MANIFEST [INST.PARAM=VALUE ...]] DEST
 *
 * The stack (and with --peer a second one in this process, running the
 * echo service) runs its loop on a thread of its own; the pings are
 * blocking socket calls from the main thread. Every reply is checked byte
 * for byte against what was sent. Exit status as ping's: 0 when replies
 * came, 1 when none did, 2 for errors (also 1 for usage errors). */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lyra/inet_csum.h"
#include "lyra/socket.h"
#include "lyra/stack.h"
#include "tool_stacks.h"

#include "ping_args.h"

static volatile sig_atomic_t interrupted;
static struct lyra_stack *volatile pinging; /* the stack the pings block on */

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
    /* a blocked lyra_recvfrom does not end with EINTR: end it (ECANCELED) */
    if (pinging)
        lyra_stack_stop(pinging);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Payload byte i of echo seq: varies with both, so a reply carrying
 * another echo's bytes is caught. */
static uint8_t pattern(unsigned seq, size_t i)
{
    return (uint8_t)(i * 7 + seq * 13 + 1);
}

static int run_pings(struct ping_opts *o, struct lyra_stack *s, struct sockaddr_in *dst)
{
    int udp = o->udp_port != 0;
    int fd = lyra_socket(s, AF_INET, SOCK_DGRAM, udp ? IPPROTO_UDP : IPPROTO_ICMP);
    if (fd < 0) {
        fprintf(stderr, "lyra-ping: socket(%s): %s\n", udp ? "UDP" : "ICMP", strerror(errno));
        return -1;
    }
    struct timeval tv = {(time_t)o->timeout, (suseconds_t)((o->timeout - (double)(time_t)o->timeout) * 1e6)};
    lyra_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    size_t hdr = udp ? 0 : 8, len = hdr + o->size;
    uint8_t *out = malloc(len), *in = malloc(len + 64);
    long sent = 0, got = 0, bad = 0;
    double tmin = 1e30, tmax = 0, tsum = 0, t_start = now_ms();
    printf("PING %s (%s) %zu data bytes %s from %s\n", o->dest, o->dest, o->size,
           udp ? "(UDP echo)" : "(ICMP echo)", lyra_stack_name(s));
    for (long seq = 0; seq < o->count && !interrupted; seq++) {
        memset(out, 0, hdr);
        if (!udp) {
            out[0] = 8; /* echo request; ip fills the identifier and checksum */
            out[6] = (uint8_t)(seq >> 8);
            out[7] = (uint8_t)seq;
        }
        for (size_t i = 0; i < o->size; i++)
            out[hdr + i] = pattern((unsigned)seq, i);
        if (udp && o->size >= 4) {
            out[0] = (uint8_t)(seq >> 8);
            out[1] = (uint8_t)seq;
        }
        double t0 = now_ms();
        if (lyra_sendto(s, fd, out, len, 0, (struct sockaddr *)dst, sizeof(*dst)) < 0) {
            fprintf(stderr, "lyra-ping: sendto: %s\n", strerror(errno));
        } else {
            sent++;
            /* wait for this echo's reply; older ones arriving late are skipped */
            for (;;) {
                struct sockaddr_in from;
                socklen_t fl = sizeof(from);
                ssize_t n = lyra_recvfrom(s, fd, in, len + 64, 0, (struct sockaddr *)&from, &fl);
                if (n < 0) {
                    if (errno == EAGAIN)
                        printf("no reply for seq=%ld within %g s\n", seq, o->timeout);
                    else if (errno != ECANCELED)
                        fprintf(stderr, "lyra-ping: recvfrom: %s\n", strerror(errno));
                    break;
                }
                long rseq = udp ? (long)((in[0] << 8) | in[1]) : (long)((in[6] << 8) | in[7]);
                if (n >= 2 && rseq != (seq & 0xffff) && (udp || in[0] == 0))
                    continue; /* a late reply to an earlier echo */
                double rtt = now_ms() - t0;
                int ok = (size_t)n == len && (udp || (in[0] == 0 && in[1] == 0)) &&
                         !memcmp(in + hdr, out + hdr, o->size);
                if (!ok) {
                    bad++;
                    printf("%zd bytes from %s: seq=%ld CORRUPT (expected %zu bytes back)\n", n,
                           inet_ntoa(from.sin_addr), seq, len);
                    break;
                }
                got++;
                tsum += rtt;
                tmin = rtt < tmin ? rtt : tmin;
                tmax = rtt > tmax ? rtt : tmax;
                if (!o->quiet)
                    printf("%zd bytes from %s: %s=%ld time=%.3f ms\n", n,
                           inet_ntoa(from.sin_addr), udp ? "udp_seq" : "icmp_seq", seq, rtt);
                break;
            }
        }
        if (seq + 1 < o->count && o->interval > 0 && !interrupted) {
            struct timespec d = {(time_t)o->interval,
                                 (long)((o->interval - (double)(time_t)o->interval) * 1e9)};
            nanosleep(&d, NULL);
        }
    }
    printf("--- %s ping statistics ---\n", o->dest);
    printf("%ld packets transmitted, %ld received, %ld corrupt, %.1f%% packet loss, time %.0f ms\n",
           sent, got, bad, sent ? 100.0 * (double)(sent - got) / (double)sent : 0.0,
           now_ms() - t_start);
    if (got)
        printf("rtt min/avg/max = %.3f/%.3f/%.3f ms\n", tmin, tsum / (double)got, tmax);
    lyra_close(s, fd);
    free(out);
    free(in);
    return bad ? -1 : got > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct ping_opts o;
    ping_opts_init(&o);
    int pr = ping_parse_args(argc, argv, &o, stderr);
    if (pr) {
        ping_usage(pr == 2 ? stdout : stderr);
        return pr == 2 ? 0 : 1;
    }
    struct tool_stack st = {.a = o.so.st}, peer = {.a = o.so.peer};
    struct sockaddr_in dst;
    memset(&dst, 0, sizeof(dst));
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)o.udp_port);
    if (inet_pton(AF_INET, o.dest, &dst.sin_addr) != 1) {
        fprintf(stderr, "lyra-ping: '%s' is not an IPv4 address\n", o.dest);
        return 1;
    }
    if (!o.udp_port && o.size + 8 > PING_MAX_SIZE) {
        fprintf(stderr, "lyra-ping: -s too large\n");
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int status = 0;
    /* the peer first, so it is listening when the first echo goes out */
    if (peer.a.manifest && (status = tool_stack_up("lyra-ping", &peer, "echo")))
        goto out;
    if ((status = tool_stack_up("lyra-ping", &st, NULL)))
        goto out;
    tool_stacks_name_apart(&st, &peer);
    pinging = st.s;
    int r = interrupted ? 1 : run_pings(&o, st.s, &dst);
    pinging = NULL;
    status = r < 0 ? 2 : r;
out:;
    struct tool_stack *both[2] = {&st, &peer};
    int fr = tool_stacks_finish("lyra-ping", both, 2, &o.so);
    return status ? status : fr;
}
