#include "ping_args.h"

#include <errno.h>
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
            "  -q          only the summary\n"
            "  --peer      a second stack in this process, running the echo service\n"
            "  --stats     print each stack's counters that moved at the end\n"
            "  --stats=all print every counter, one per line\n"
            "  --stats-json FILE   write them as {\"STACK\": {...}, ...}\n");
}

static int parse_num(const char *opt, const char *v, double lo, double hi, double *out, FILE *err)
{
    char *end;
    errno = 0;
    double d = v ? strtod(v, &end) : 0;
    /* d != d: NaN; strtod also takes "inf" and hex floats, the range
     * check keeps them out */
    if (!v || errno || end == v || *end || d != d || d < lo || d > hi) {
        fprintf(err, "lyra-ping: %s: '%s' is not a number in [%g, %g]\n", opt, v ? v : "", lo,
                hi);
        return -1;
    }
    *out = d;
    return 0;
}

int ping_parse_args(int argc, char **argv, struct ping_opts *o, FILE *err)
{
    struct ping_stack_arg *cur = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        double d;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            return 2;
        } else if (!strcmp(a, "-c") || !strcmp(a, "-s") || !strcmp(a, "-i") || !strcmp(a, "-W") ||
                   !strcmp(a, "-u")) {
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            if (a[1] == 'c' && !parse_num(a, v, 1, 1e9, &d, err))
                o->count = (long)d;
            else if (a[1] == 's' && !parse_num(a, v, 16, PING_MAX_SIZE, &d, err))
                o->size = (size_t)d;
            else if (a[1] == 'i' && !parse_num(a, v, 0, 3600, &d, err))
                o->interval = d;
            else if (a[1] == 'W' && !parse_num(a, v, 0.001, 3600, &d, err))
                o->timeout = d;
            else if (a[1] == 'u' && !parse_num(a, v, 1, 65535, &d, err))
                o->udp_port = (int)d;
            else
                return 1;
        } else if (!strcmp(a, "-q")) {
            o->quiet = 1;
        } else if (!strcmp(a, "--stats")) {
            o->stats = 1;
        } else if (!strcmp(a, "--stats=all")) {
            o->stats = 2;
        } else if (!strcmp(a, "--stats-json")) {
            if (i + 1 >= argc) {
                fprintf(err, "lyra-ping: --stats-json needs a file\n");
                return 1;
            }
            o->json = argv[++i];
        } else if (!strcmp(a, "--stack") || !strcmp(a, "--peer")) {
            if (i + 1 >= argc) {
                fprintf(err, "lyra-ping: %s needs a manifest\n", a);
                return 1;
            }
            cur = a[2] == 's' ? &o->st : &o->peer;
            if (cur->manifest) {
                fprintf(err, "lyra-ping: %s given twice\n", a);
                return 1;
            }
            cur->manifest = argv[++i];
        } else if (a[0] == '-') {
            fprintf(err, "lyra-ping: unknown option '%s'\n", a);
            return 1;
        } else if (strchr(a, '=')) {
            if (!cur) {
                fprintf(err, "lyra-ping: override '%s' before --stack\n", a);
                return 1;
            }
            if (cur->n == PING_MAX_OVERRIDES) {
                fprintf(err, "lyra-ping: more than %d overrides\n", PING_MAX_OVERRIDES);
                return 1;
            }
            cur->ov[cur->n++] = a;
        } else if (!o->dest) {
            o->dest = a;
        } else {
            fprintf(err, "lyra-ping: more than one destination ('%s', '%s')\n", o->dest, a);
            return 1;
        }
    }
    if (!o->st.manifest || !o->dest) {
        fprintf(err, "lyra-ping: %s\n",
                !o->st.manifest ? "--stack MANIFEST is required" : "no destination");
        return 1;
    }
    return 0;
}
