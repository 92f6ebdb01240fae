#include "run_cmd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lyra/os.h"
#include "services.h"


/* The one stack a signal stops: the run command runs one at a time. */
static struct lyra_stack *volatile signal_stack;

static void on_signal(int sig)
{
    (void)sig;
    if (signal_stack)
        lyra_stack_stop(signal_stack);
}

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s [INSTANCE.PARAM=VALUE ...] [--services LIST] [--stats[=all]]\n"
            "       [--stats-json FILE] [--for SECONDS]\n",
            prog);
}

/* Seconds with an optional fraction ("2", "0.5"); -1 when malformed. */
static int64_t parse_seconds(const char *s)
{
    char err[128];
    struct lyra_value v;
    char buf[64];
    const char *dot = strchr(s, '.');
    if (strlen(s) > 20 || !*s)
        return -1;
    if (!dot) {
        snprintf(buf, sizeof(buf), "%ss", s);
    } else {
        /* "1.25" -> "1250ms" (ms resolution) */
        char frac[4] = "000";
        size_t fl = strlen(dot + 1);
        if (fl > 3 || dot == s)
            return -1;
        memcpy(frac, dot + 1, fl);
        snprintf(buf, sizeof(buf), "%.*s%sms", (int)(dot - s), s, frac);
    }
    if (lyra_value_parse(LYRA_P_DURATION, buf, 0, -1, &v, err, sizeof(err)))
        return -1;
    return v.u.i;
}

int lyra_run_main(const char *prog, const char *source, int argc, char **argv,
                  lyra_run_create_fn create, void *ctx)
{
    const char **ov = calloc((size_t)argc + 1, sizeof(char *));
    const char *services = NULL, *json = NULL;
    int n_ov = 0, stats = 0;
    int64_t for_ns = -1;
    if (!ov)
        return 2;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--stats")) {
            stats = 1;
        } else if (!strcmp(a, "--stats=all")) {
            stats = 2;
        } else if (!strcmp(a, "--stats-json") || !strcmp(a, "--services") || !strcmp(a, "--for")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: %s needs a value\n", prog, a);
                usage(stderr, prog);
                free(ov);
                return 1;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--stats-json"))
                json = v;
            else if (!strcmp(a, "--services"))
                services = v;
            else if ((for_ns = parse_seconds(v)) < 0) {
                fprintf(stderr, "%s: --for: expected seconds (e.g. 5 or 0.25), got '%s'\n", prog, v);
                free(ov);
                return 1;
            }
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout, prog);
            free(ov);
            return 0;
        } else if (a[0] == '-') {
            fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
            usage(stderr, prog);
            free(ov);
            return 1;
        } else {
            ov[n_ov++] = a;
        }
    }
    struct lyra_diag d;
    lyra_diag_init(&d, source);
    struct lyra_stack *s = NULL;
    int r = create(ctx, ov, &d, &s);
    lyra_diag_print(&d, stderr);
    lyra_diag_free(&d);
    free(ov);
    if (r)
        return r == -EINVAL ? 1 : 2;
    if (services && lyra_services_check(s, services, stderr)) {
        lyra_stack_destroy(s);
        return 1;
    }
    if ((r = lyra_stack_start(s))) {
        lyra_stack_destroy(s);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    signal_stack = s;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct lyra_services *sv = NULL;
    if (services && (r = lyra_services_start(s, services, stderr, &sv))) {
        signal_stack = NULL;
        lyra_stack_destroy(s);
        return r;
    }
    r = lyra_stack_run_for(s, for_ns < 0 ? LYRA_TIME_NEVER : (uint64_t)for_ns);
    /* the services' blocked calls end with ECANCELED once stopped */
    lyra_stack_stop(s);
    lyra_services_join(sv);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal_stack = NULL;
    int status = 0;
    if (r) {
        fprintf(stderr, "%s: cannot run: %s (no instance provides 'os')\n", prog, strerror(-r));
        status = 2;
    }
    if (stats)
        (stats == 2 ? lyra_stack_stats_print_all : lyra_stack_stats_print)(s, stdout);
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            fprintf(stderr, "%s: --stats-json %s: %s\n", prog, json, strerror(errno));
            status = 2;
        } else {
            lyra_stack_stats_json(s, f);
            fputc('\n', f);
            if (fclose(f)) {
                fprintf(stderr, "%s: --stats-json %s: %s\n", prog, json, strerror(errno));
                status = 2;
            }
        }
    }
    lyra_stack_destroy(s);
    return status;
}
