#include "ttcp_args.h"

#include "ttcp_buf.h"

#include <string.h>

void ttcp_opts_init(struct ttcp_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->trans = -1;
    o->len = 8192;
    o->count = 2048;
    o->port = 5001;
    o->timeout = 2;
}

void ttcp_usage(FILE *f, const char *tool, int stacks)
{
    fprintf(f,
            "usage: %s -t [-u] [-l LEN] [-n COUNT] [-p PORT] [-D] [-b BYTES] [-q] %sHOST\n"
            "       %s -r [-u] [-l LEN] [-p PORT] [-b BYTES] [-W SECONDS] [-q]%s\n"
            "  -t          transmit COUNT writes of LEN bytes to HOST\n"
            "  -r          receive (one TCP connection, or UDP until the end marks)\n"
            "  -u          UDP instead of TCP\n"
            "  -l LEN      bytes per write and read, 1..%d (UDP: ..%d; default 8192)\n"
            "  -n COUNT    writes (default 2048)\n"
            "  -p PORT     port (default 5001)\n"
            "  -D          TCP_NODELAY\n"
            "  -b BYTES    SO_SNDBUF / SO_RCVBUF\n"
            "  -W SECONDS  a UDP receiver ends after this much silence (default 2)\n"
            "  -s          accepted for compatibility: data is always a pattern, checked\n"
            "              by the receiver (TCP: the whole stream; UDP: each datagram)\n"
            "  -q          only the result lines\n"
            "  --rotate SIZE  send from and receive into a region of SIZE bytes (k, M, G),\n"
            "              moving on with each write and read: memory the cache no longer\n"
            "              holds when SIZE is over the last-level cache (e.g. 64M); reads\n"
            "              write SIZE bytes before they reuse a slot, slots page-aligned\n"
            "              (p + k * %d)\n"
            "  --rlen LEN  bytes per read when it differs from -l (e.g. 1448: one segment)\n"
            "%s",
            tool, stacks ? "--stack MANIFEST [...] [--peer MANIFEST [...]] " : "", tool,
            stacks ? " --stack MANIFEST [...]" : "", TTCP_MAX_LEN, TTCP_MAX_UDP_LEN, TTCP_PAGE,
            stacks ? "  --pkt       buffers from lyra_pkt_alloc: packet memory on a zero-copy\n"
                     "              assembly (sends referenced under copy on write, one-segment\n"
                     "              reads into page-stride slots remapped), page-aligned heap\n"
                     "              memory elsewhere\n"
                     "  --zerocopy  TCP sender: SO_ZEROCOPY and MSG_ZEROCOPY sends (the buffer\n"
                     "              referenced, not copied, where the assembly can), completions\n"
                     "              read with recvmsg(MSG_ERRQUEUE); all of them before the end\n"
                     "  --loan      TCP receiver: reads with lyra_recv_loan and lyra_loan_return\n"
                     "              (the received buffers in place, no copy; no --rlen)\n"
                   : "");
    if (stacks)
        tool_stack_usage(f, "receiving what -t sends");
}

int ttcp_parse_args(int argc, char **argv, struct ttcp_opts *o, int stacks, FILE *err)
{
    const char *tool = stacks ? "lyra-ttcp" : "lyra-ttcp-linux";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        double d;
        if (stacks) {
            int t = tool_parse_stack_opt(tool, argc, argv, &i, &o->so, err);
            if (t < 0)
                return 1;
            if (t > 0)
                continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            return 2;
        } else if (!strcmp(a, "-t") || !strcmp(a, "-r")) {
            int t = a[1] == 't';
            if (o->trans >= 0 && o->trans != t) {
                fprintf(err, "%s: -t and -r exclude each other\n", tool);
                return 1;
            }
            o->trans = t;
        } else if (!strcmp(a, "-u")) {
            o->udp = 1;
        } else if (!strcmp(a, "-D")) {
            o->nodelay = 1;
        } else if (!strcmp(a, "-s")) {
            /* the pattern is always on */
        } else if (!strcmp(a, "-q")) {
            o->quiet = 1;
        } else if (!strcmp(a, "--pkt") && stacks) {
            o->pkt = 1;
        } else if (!strcmp(a, "--zerocopy") && stacks) {
            o->zerocopy = 1;
        } else if (!strcmp(a, "--loan") && stacks) {
            o->loan = 1;
        } else if (!strcmp(a, "--rotate")) {
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            if (ttcp_parse_size(v, TTCP_PAGE, TTCP_MAX_ROTATE, &o->rotate)) {
                fprintf(err, "%s: --rotate: '%s' is not a size in [4k, 1G] (e.g. 64M)\n", tool,
                        v ? v : "");
                return 1;
            }
        } else if (!strcmp(a, "--rlen")) {
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            if (tool_parse_num(tool, a, v, 1, TTCP_MAX_LEN, &d, err))
                return 1;
            o->rlen = (long)d;
        } else if (!strcmp(a, "-l") || !strcmp(a, "-n") || !strcmp(a, "-p") ||
                   !strcmp(a, "-b") || !strcmp(a, "-W")) {
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            if (a[1] == 'l' && !tool_parse_num(tool, a, v, 1, TTCP_MAX_LEN, &d, err))
                o->len = (long)d;
            else if (a[1] == 'n' && !tool_parse_num(tool, a, v, 1, 1e9, &d, err))
                o->count = (long)d;
            else if (a[1] == 'p' && !tool_parse_num(tool, a, v, 1, 65535, &d, err))
                o->port = (int)d;
            else if (a[1] == 'b' && !tool_parse_num(tool, a, v, 1, 1 << 30, &d, err))
                o->sockbuf = (long)d;
            else if (a[1] == 'W' && !tool_parse_num(tool, a, v, 0.001, 3600, &d, err))
                o->timeout = d;
            else
                return 1;
        } else if (a[0] == '-') {
            fprintf(err, "%s: unknown option '%s'%s\n", tool, a,
                    !stacks && (!strcmp(a, "--stack") || !strcmp(a, "--peer") ||
                                !strcmp(a, "--pkt") || !strcmp(a, "--zerocopy") ||
                                !strcmp(a, "--loan"))
                        ? " (this ttcp uses the host's sockets; lyra-ttcp runs stacks)"
                        : "");
            return 1;
        } else if (!o->host) {
            o->host = a;
        } else {
            fprintf(err, "%s: more than one host ('%s', '%s')\n", tool, o->host, a);
            return 1;
        }
    }
    const char *why = o->trans < 0                      ? "-t or -r is required"
                      : o->trans && !o->host            ? "-t needs a HOST"
                      : !o->trans && o->host            ? "-r takes no HOST"
                      : o->udp && o->len > TTCP_MAX_UDP_LEN ? "-l is larger than a UDP datagram"
                      : o->udp && o->len <= 4           ? "-l must be over 4 with -u (4-byte datagrams mark start and end)"
                      : o->udp && o->rlen && o->rlen != o->len ? "--rlen goes with TCP (a UDP read is one datagram)"
                      : stacks && !o->so.st.manifest    ? "--stack MANIFEST is required"
                      : o->so.peer.manifest && !o->trans ? "--peer goes with -t (the peer receives)"
                      : o->zerocopy && !o->trans        ? "--zerocopy goes with -t (MSG_ZEROCOPY sends)"
                      : (o->zerocopy || o->loan) && o->udp ? "--zerocopy and --loan go with TCP (not -u)"
                      : o->loan && o->trans && !o->so.peer.manifest
                          ? "--loan goes with a receiver (-r, or -t with --peer)"
                      : o->loan && o->rlen              ? "--loan takes no --rlen (a loan is as long as the received piece)"
                                                          : NULL;
    if (why) {
        fprintf(err, "%s: %s\n", tool, why);
        return 1;
    }
    return 0;
}
