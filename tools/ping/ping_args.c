#include "ping_args.h"

#include <stdlib.h>
#include <string.h>

void ping_opts_init(struct ping_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->count = 5;
    o->size = 56;
    o->interval = 1;
    o->timeout = 2;
}

void ping_usage(FILE *f)
{
    fprintf(f,
            "usage: lyra-ping [-c COUNT] [-s SIZE] [-i SECONDS] [-W SECONDS] [-u PORT] [-q]\n"
            "                 [--stats[=all]] [--stats-json FILE]\n"
            "                 --stack MANIFEST [INST.PARAM=VALUE ...]\n"
            "                 [--peer MANIFEST [INST.PARAM=VALUE ...]] DEST\n"
            "  -c COUNT    echoes to send (default 5)\n"
            "  -s SIZE     payload bytes, 16..65000 (default 56; ICMP adds an 8-byte header)\n"
            "  -i SECONDS  between echoes (default 1)\n"
            "  -W SECONDS  wait for each reply (default 2)\n"
            "  -u PORT     UDP echo (RFC 862) to PORT instead of ICMP echo\n"
            "  -q          only the summary\n");
    tool_stack_usage(f, "running the echo service");
}

int ping_parse_args(int argc, char **argv, struct ping_opts *o, FILE *err)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        double d;
        int t = tool_parse_stack_opt("lyra-ping", argc, argv, &i, &o->so, err);
        if (t < 0)
            return 1;
        if (t > 0)
            continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            return 2;
        } else if (!strcmp(a, "-c") || !strcmp(a, "-s") || !strcmp(a, "-i") || !strcmp(a, "-W") ||
                   !strcmp(a, "-u")) {
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            if (a[1] == 'c' && !tool_parse_num("lyra-ping", a, v, 1, 1e9, &d, err))
                o->count = (long)d;
            else if (a[1] == 's' && !tool_parse_num("lyra-ping", a, v, 16, PING_MAX_SIZE, &d, err))
                o->size = (size_t)d;
            else if (a[1] == 'i' && !tool_parse_num("lyra-ping", a, v, 0, 3600, &d, err))
                o->interval = d;
            else if (a[1] == 'W' && !tool_parse_num("lyra-ping", a, v, 0.001, 3600, &d, err))
                o->timeout = d;
            else if (a[1] == 'u' && !tool_parse_num("lyra-ping", a, v, 1, 65535, &d, err))
                o->udp_port = (int)d;
            else
                return 1;
        } else if (!strcmp(a, "-q")) {
            o->quiet = 1;
        } else if (a[0] == '-') {
            fprintf(err, "lyra-ping: unknown option '%s'\n", a);
            return 1;
        } else if (!o->dest) {
            o->dest = a;
        } else {
            fprintf(err, "lyra-ping: more than one destination ('%s', '%s')\n", o->dest, a);
            return 1;
        }
    }
    if (!o->so.st.manifest || !o->dest) {
        fprintf(err, "lyra-ping: %s\n",
                !o->so.st.manifest ? "--stack MANIFEST is required" : "no destination");
        return 1;
    }
    return 0;
}
