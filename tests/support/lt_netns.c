/* Tests against Linux on a TAP in a namespace of their own: see lt_netns.h.
 * (Moved out of test_ipv4.c so that test_tcp_tap shares it.) */
#include "lt_netns.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lt.h"

char lt_ns_out[LT_NS_OUT_MAX];
char lt_ns_json[512];
/* lt_ns_json's counters as lines "INST.NAME VALUE" after a newline, read
 * once per run (one python3 start: up to a second on some machines) */
static char counters[256 * 1024];
static int counters_loaded;

const char *lt_env(const char *n)
{
    const char *s = getenv(n);
    cr_assert(s, "%s is not set (run through ctest)", n);
    return s;
}

int lt_sh(char *o, size_t olen, const char *cmd)
{
    size_t flen = strlen(cmd) + 1024;
    char *full = malloc(flen);
    cr_assert(full, "out of memory");
    snprintf(full, flen, "cd '%s' && (%s) 2>&1", lt_env("LYRA_SOURCE_DIR"), cmd);
    FILE *p = popen(full, "r");
    free(full);
    cr_assert(p, "popen");
    size_t n = 0, k;
    char buf[4096];
    o[0] = 0;
    while ((k = fread(buf, 1, sizeof(buf), p)) > 0)
        if (n + 1 < olen) {
            size_t c = k < olen - n - 1 ? k : olen - n - 1;
            memcpy(o + n, buf, c);
            n += c;
            o[n] = 0;
        }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void lt_need_netns(const char *what)
{
    const char *why = lt_netns_missing();
    if (why)
        cr_skip_test("SKIPPED LOUDLY: %s (CAP_NET_ADMIN needed for a network namespace "
                     "and a TAP): %s was NOT tested",
                     why, what);
}

int lt_have(const char *tool)
{
    char cmd[256], o[256];
    snprintf(cmd, sizeof(cmd), "command -v %s", tool);
    return lt_sh(o, sizeof(o), cmd) == 0;
}

int lt_ns_run(const struct lt_ns_opts *o, const char *body_fmt, ...)
{
    va_list ap;
    va_start(ap, body_fmt);
    int r = lt_ns_vrun(o, body_fmt, ap);
    va_end(ap);
    return r;
}

int lt_ns_vrun(const struct lt_ns_opts *o, const char *body_fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int blen = vsnprintf(NULL, 0, body_fmt, ap2);
    va_end(ap2);
    cr_assert_geq(blen, 0, "bad body format");
    char *body = malloc((size_t)blen + 1);
    cr_assert(body, "out of memory");
    vsnprintf(body, (size_t)blen + 1, body_fmt, ap);
    const char *b = lt_env("LYRA_BUILD_DIR");
    char ns[64], script[512];
    snprintf(ns, sizeof(ns), "%s%d", o->prefix, getpid());
    snprintf(script, sizeof(script), "%s/tests/%s.sh", b, ns);
    snprintf(lt_ns_json, sizeof(lt_ns_json), "%s/tests/%s.json", b, ns);
    unlink(lt_ns_json);
    counters_loaded = 0;
    FILE *f = fopen(script, "w");
    cr_assert(f, "cannot write %s", script);
    if (getenv("LYRA_TEST_TRACE")) /* each command, timed, in the output */
        fprintf(f, "PS4='+ $(date +%%s.%%N) '; set -x\n");
    fprintf(f,
            "set -u\n"
            "NS=%s; B='%s'; J='%s'; L=\"$B/tests/$NS.log\"; T=\"$B/tests/$NS.tmp\"\n"
            "pids=''; spid=''; cpid=''\n"
            "cleanup() {\n"
            "  for p in $pids $spid $cpid; do kill -TERM $p 2>/dev/null; wait $p 2>/dev/null; done\n"
            "  ip netns del $NS 2>/dev/null\n"
            "  if [ -s $L ]; then echo '--- the stack said:'; cat $L; fi\n"
            "  rm -f $L $B/tests/$NS.srv $T.*\n"
            "}\n"
            "trap cleanup EXIT\n"
            "trap 'exit 99' INT TERM\n"
            "ns() { ip netns exec $NS \"$@\"; }\n"
            "ip netns add $NS || exit 90\n"
            "ip -n $NS link set lo up || exit 91\n"
            "ip -n $NS tuntap add lyra0 mode tap || exit 92\n"
            "ip -n $NS link set lyra0 up || exit 93\n"
            "ip -n $NS addr add 192.0.2.1/24 dev lyra0 || exit 94\n",
            ns, b, lt_ns_json);
    const char *pcap = getenv("LYRA_TEST_PCAP"); /* a directory: the TAP's frames, for a human */
    if (pcap && *pcap)
        fprintf(f,
                /* not through ns: $! must be the capture itself, for cleanup's
                 * kill. dumpcap (tshark's capture engine, in its package), not
                 * tshark: killed, tshark lost the last frames it had not
                 * written, the end of the very exchange one looks for */
                "ip netns exec $NS dumpcap -q -i lyra0 -w '%s'/$NS.pcap >/dev/null 2>&1 &\n"
                "cpid=$!\n"
                "for i in $(seq 100); do\n"
                "  [ -s '%s'/$NS.pcap ] && break; kill -0 $cpid 2>/dev/null || break; sleep 0.05\n"
                "done\n",
                pcap, pcap);
    if (o->stack) {
        fprintf(f,
                /* not through the function ns: $! must be the stack's own PID
                 * (ip netns exec execs it) */
                "ip netns exec $NS $B/bin/lyra-%s dev.link=tap:lyra0 ip.addr=192.0.2.2/24 %s "
                "--services %s --for %d --stats-json $J > $L 2>&1 &\n"
                "spid=$!\n"
                /* up when the TAP has a reader (carrier), services a moment later */
                "for i in $(seq 100); do\n"
                "  ip -n $NS link show lyra0 | grep -q NO-CARRIER || break; sleep 0.05\n"
                "done\n"
                "if ip -n $NS link show lyra0 | grep -q NO-CARRIER; then\n"
                "  echo 'the stack never opened the TAP'; exit 95\n"
                "fi\n"
                "sleep 0.3\n",
                o->stack, o->args ? o->args : "", o->services ? o->services : "echo",
                o->for_s > 0 ? o->for_s : 100);
    }
    /* a function, not a subshell: what it starts goes into $pids */
    fprintf(f, "body() {\n%s\n}\nbody\nr=$?\n", body);
    free(body);
    if (o->stack)
        fprintf(f, "kill -TERM $spid; wait $spid; echo \"STACK_EXIT=$?\"; spid=''\n");
    fprintf(f, "exit $r\n");
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "bash '%s'", script);
    int st = lt_sh(lt_ns_out, sizeof(lt_ns_out), cmd);
    unlink(script);
    if (getenv("LYRA_TEST_VERBOSE")) /* what the commands said, for a human */
        fprintf(stderr, "--- %s %s: status %d\n%s", ns, o->stack ? o->stack : "", st, lt_ns_out);
    /* the namespace is gone whatever happened */
    char out[512], chk[256];
    snprintf(chk, sizeof(chk), "ip netns list | grep -w %s", ns);
    cr_expect_neq(lt_sh(out, sizeof(out), chk), 0, "namespace %s was left behind", ns);
    if (o->stack)
        cr_expect(strstr(lt_ns_out, "STACK_EXIT=0"),
                  "the stack did not stop cleanly on SIGTERM:\n%s", lt_ns_out);
    return st;
}


static int find_counter(const char *inst, const char *name, unsigned long long *v)
{
    if (!counters_loaded) {
        char cmd[1024];
        snprintf(cmd, sizeof(cmd),
                 "python3 -c 'import json,sys\n"
                 "for i,c in json.load(open(sys.argv[1])).items():\n"
                 " for n,v in (c.items() if isinstance(c, dict) else ()):\n"
                 "  if isinstance(v, int): print(\"%%s.%%s %%d\" %% (i, n, v))' '%s'",
                 lt_ns_json);
        counters[0] = '\n';
        int st = lt_sh(counters + 1, sizeof(counters) - 1, cmd);
        cr_assert_eq(st, 0, "cannot read the counters in %s: %s", lt_ns_json, counters + 1);
        counters_loaded = 1;
    }
    char key[256];
    snprintf(key, sizeof(key), "\n%s.%s ", inst, name);
    const char *p = strstr(counters, key);
    if (p)
        *v = strtoull(p + strlen(key), NULL, 10);
    return p != NULL;
}

unsigned long long lt_ns_counter(const char *inst, const char *name)
{
    unsigned long long v = 0;
    cr_assert(find_counter(inst, name, &v), "no counter %s.%s in %s", inst, name, lt_ns_json);
    return v;
}

unsigned long long lt_ns_skb_leaked(void)
{
    unsigned long long posted = 0, held = 0;
    find_counter("nic", "rx_posted", &posted); /* nic_dma only */
    /* a connection still closing when the stack stopped (its last ACK
     * lost under impairment) holds what is unacknowledged: not a leak
     * (the buffers: a queued skb may hold several) */
    find_counter("tcp", "bufs_held", &held);
    /* nor packets eth holds for an ARP answer still to come (a SYN-ACK
     * to a spoofed source never gets one) */
    unsigned long long arp = 0;
    find_counter("eth", "arp_pending", &arp);
    return lt_ns_counter("skb", "in_use") - posted - held - arp;
}
