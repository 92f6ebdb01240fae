#include "tool_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tool_parse_num(const char *tool, const char *opt, const char *v, double lo, double hi,
                   double *out, FILE *err)
{
    char *end;
    errno = 0;
    double d = v ? strtod(v, &end) : 0;
    /* d != d: NaN; strtod also takes "inf" and hex floats, the range
     * check keeps them out */
    if (!v || errno || end == v || *end || d != d || d < lo || d > hi) {
        fprintf(err, "%s: %s: '%s' is not a number in [%g, %g]\n", tool, opt, v ? v : "", lo,
                hi);
        return -1;
    }
    *out = d;
    return 0;
}

int tool_parse_stack_opt(const char *tool, int argc, char **argv, int *i,
                         struct tool_stack_opts *o, FILE *err)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--stats")) {
        o->stats = 1;
    } else if (!strcmp(a, "--stats=all")) {
        o->stats = 2;
    } else if (!strcmp(a, "--stats-json")) {
        if (*i + 1 >= argc) {
            fprintf(err, "%s: --stats-json needs a file\n", tool);
            return -1;
        }
        o->json = argv[++*i];
    } else if (!strcmp(a, "--stack") || !strcmp(a, "--peer")) {
        if (*i + 1 >= argc) {
            fprintf(err, "%s: %s needs a manifest\n", tool, a);
            return -1;
        }
        o->cur = a[2] == 's' ? &o->st : &o->peer;
        if (o->cur->manifest) {
            fprintf(err, "%s: %s given twice\n", tool, a);
            return -1;
        }
        o->cur->manifest = argv[++*i];
    } else if (a[0] != '-' && strchr(a, '=')) {
        if (!o->cur) {
            fprintf(err, "%s: override '%s' before --stack\n", tool, a);
            return -1;
        }
        if (o->cur->n == TOOL_MAX_OVERRIDES) {
            fprintf(err, "%s: more than %d overrides\n", tool, TOOL_MAX_OVERRIDES);
            return -1;
        }
        o->cur->ov[o->cur->n++] = a;
    } else {
        return 0;
    }
    return 1;
}

void tool_stack_usage(FILE *f, const char *peer_does)
{
    fprintf(f,
            "  --stack MANIFEST [INST.PARAM=VALUE ...]   the stack to run (overrides follow it)\n"
            "  --peer MANIFEST [INST.PARAM=VALUE ...]    a second stack in this process, %s\n"
            "  --stats     print each stack's counters that moved at the end\n"
            "  --stats=all print every counter, one per line\n"
            "  --stats-json FILE   write them as {\"STACK\": {...}, ...}\n",
            peer_does);
}
