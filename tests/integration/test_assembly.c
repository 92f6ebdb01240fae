/* Whole assemblies: static and dynamic behave the same, static binaries
 * carry no parser or dlopen, components keep no global state, two stacks
 * live in one process, and the CLI keeps its exit-status contract. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_netdev.h"
#include "lt.h"
#include "lyra/stack.h"

static const char *src_dir(void)
{
    const char *s = getenv("LYRA_SOURCE_DIR");
    cr_assert(s, "LYRA_SOURCE_DIR is not set (run through ctest)");
    return s;
}

static const char *build_dir(void)
{
    const char *s = getenv("LYRA_BUILD_DIR");
    cr_assert(s, "LYRA_BUILD_DIR is not set (run through ctest)");
    return s;
}

/* Runs a shell command in the source dir; returns its exit status and
 * captures stdout+stderr into out. */
static int sh(char *out, size_t outlen, const char *fmt, ...)
{
    char cmd[4096], full[4400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "cd '%s' && (%s) 2>&1", src_dir(), cmd);
    FILE *p = popen(full, "r");
    cr_assert(p);
    size_t n = 0;
    if (out && outlen)
        out[0] = 0;
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof(buf), p)) > 0)
        if (out && n + 1 < outlen) {
            size_t c = k < outlen - n - 1 ? k : outlen - n - 1;
            memcpy(out + n, buf, c);
            n += c;
            out[n] = 0;
        }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Frames of two pcap files must be identical (timestamps may differ). */
static void same_frames(const char *a, const char *b, unsigned *count)
{
    size_t la, lb;
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    cr_assert(fa && fb, "missing capture %s or %s", a, b);
    static uint8_t ba[1 << 20], bb[1 << 20];
    la = fread(ba, 1, sizeof(ba), fa);
    lb = fread(bb, 1, sizeof(bb), fb);
    fclose(fa);
    fclose(fb);
    cr_assert_geq(la, 24);
    cr_assert_geq(lb, 24);
    size_t oa = 24, ob = 24;
    unsigned n = 0;
    while (oa + 16 <= la && ob + 16 <= lb) {
        uint32_t ia, ib;
        memcpy(&ia, ba + oa + 8, 4);
        memcpy(&ib, bb + ob + 8, 4);
        cr_assert_eq(ia, ib, "frame %u: length %u vs %u", n, ia, ib);
        cr_assert(oa + 16 + ia <= la && ob + 16 + ib <= lb);
        cr_assert_eq(memcmp(ba + oa + 16, bb + ob + 16, ia), 0, "frame %u differs", n);
        oa += 16 + ia;
        ob += 16 + ib;
        n++;
    }
    cr_assert_eq(oa, la, "%s has more frames", a);
    cr_assert_eq(ob, lb, "%s has more frames", b);
    *count = n;
}

Test(assembly, static_and_dynamic_send_the_same_frames)
{
    char out[8192], a[512], b[512];
    snprintf(a, sizeof(a), "%s/tests/same-static-%d.pcap", build_dir(), getpid());
    snprintf(b, sizeof(b), "%s/tests/same-dynamic-%d.pcap", build_dir(), getpid());
    const char *args = "nic.rx_pcap=tests/data/eth/arp-linux.pcap os.seed=7 --for 0.3";
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyra-eth-fake %s nic.tx_pcap=%s", build_dir(),
                    args, a), 0, "%s", out);
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet run assemblies/eth-fake.lyra %s nic.tx_pcap=%s",
                    build_dir(), args, b), 0, "%s", out);
    unsigned n;
    same_frames(a, b, &n);
    /* The capture holds one request for 192.0.2.2: a gratuitous ARP at start
     * and one reply, from both kinds of assembly. */
    cr_assert_eq(n, 2, "expected 2 frames, got %u", n);
    unlink(a);
    unlink(b);
}

Test(assembly, static_binary_has_no_manifest_parser_nor_dlopen)
{
    char out[65536];
    cr_assert_eq(sh(out, sizeof(out), "nm %s/bin/lyra-eth-fake", build_dir()), 0);
    cr_assert(strstr(out, "lyra_stack_create"), "nm output looks wrong");
    cr_assert(strstr(out, "lyra_value_parse"), "overrides are still validated");
    cr_assert_null(strstr(out, "lyra_manifest_parse"));
    cr_assert_null(strstr(out, "lyra_graph_build"));
    cr_assert_null(strstr(out, "dlopen"));
    cr_assert_eq(sh(out, sizeof(out), "nm %s/bin/lyranet", build_dir()), 0);
    cr_assert(strstr(out, "lyra_manifest_parse") && strstr(out, "dlopen"),
              "the control: lyranet does have both");
}

Test(assembly, components_keep_no_writable_global_data)
{
    char out[65536];
    /* .data/.bss objects of every component .so except the OS adapter's. */
    int st = sh(out, sizeof(out),
                "n=0; for so in %s/lib/lyra/lyra_*.so; do case $(basename $so) in lyra_os_*) "
                "continue;; esac; n=$((n+1)); objdump -t $so | grep -P ' O \\.(data|bss)(\\.[^r]\\S*)?\\t' "
                "| grep -vE '(completed\\.[0-9]+|__dso_handle|__TMC_END__|__odr_asan\\.[A-Za-z0-9_.]+)$' | sed \"s|^|$so: |\"; "
                "done; echo checked=$n",
                build_dir());
    cr_assert_eq(st, 0);
    char *c = strstr(out, "checked=");
    cr_assert(c && atoi(c + 8) >= 4, "too few components checked: %s", out);
    cr_assert_eq(c, out, "writable globals found:\n%s", out);
}

Test(assembly, two_stacks_in_one_process)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/assemblies/eth-fake.lyra", src_dir());
    struct lyra_stack *a, *b;
    const char *ova[] = {"eth.addr=192.0.2.2", NULL};
    const char *ovb[] = {"eth.addr=192.0.2.3", "nic.mac=02:00:00:00:00:03", NULL};
    cr_assert_eq(lyra_stack_load(path, ova, &a), 0);
    cr_assert_eq(lyra_stack_load(path, ovb, &b), 0);
    cr_assert_eq(lyra_stack_start(a), 0);
    cr_assert_eq(lyra_stack_start(b), 0);
    void *na = lyra_stack_instance(a, "nic", NULL), *nb = lyra_stack_instance(b, "nic", NULL);
    cr_assert(na && nb && na != nb);
    /* the real Linux ARP request for 192.0.2.2 (first frame of the capture) */
    struct lt_pcap p;
    const uint8_t *req;
    cr_assert_eq(lt_pcap_open(&p, "eth/arp-linux.pcap"), 0);
    uint32_t len = lt_pcap_next(&p, &req);
    cr_assert_gt(len, 0);
    fake_netdev_tx_clear(na);
    fake_netdev_tx_clear(nb);
    cr_assert_eq(fake_netdev_deliver(na, req, len), 0);
    cr_assert_eq(fake_netdev_deliver(nb, req, len), 0);
    lyra_stack_poll(a);
    lyra_stack_poll(b);
    cr_assert_eq(lyra_stack_counter(a, "eth", "arp_replies_sent"), 1, "a owns 192.0.2.2");
    cr_assert_eq(lyra_stack_counter(b, "eth", "arp_replies_sent"), 0, "b does not");
    cr_assert_eq(lyra_stack_counter(a, "eth", "rx_frames"), 1);
    cr_assert_eq(lyra_stack_counter(b, "eth", "rx_frames"), 1);
    cr_assert_eq(fake_netdev_tx_count(na), 1);
    cr_assert_eq(fake_netdev_tx_count(nb), 0);
    lt_pcap_close(&p);
    lyra_stack_destroy(a);
    lyra_stack_destroy(b);
}

/* The RAM report (lyra_stack_ram): an instance's struct, and what it took
 * from the os in its own start, not a neighbour's. */
static struct lyra_ram ram_of(struct lyra_stack *s, const char *inst)
{
    struct lyra_ram r = {0};
    for (unsigned i = 0; lyra_stack_instance_name(s, i); i++)
        if (!strcmp(lyra_stack_instance_name(s, i), inst)) {
            cr_assert_eq(lyra_stack_ram(s, i, &r), 0);
            const struct lyra_component *c;
            lyra_stack_instance(s, inst, &c);
            cr_assert_eq(r.instance, c->instance_size);
            cr_assert_neq(r.heap, UINT64_MAX, "os_posix reports its memory");
            return r;
        }
    cr_assert_fail("no instance %s", inst);
    return r;
}

static struct lyra_stack *ram_stack(const char *asm_name, const char *count, const char *more)
{
    char path[1024], link[64];
    snprintf(path, sizeof(path), "%s/assemblies/%s.lyra", src_dir(), asm_name);
    snprintf(link, sizeof(link), "dev.link=wire:ram%d", (int)getpid());
    const char *ov[] = {link, count, "skb.big_count=0", more, NULL};
    struct lyra_stack *s;
    cr_assert_eq(lyra_stack_load(path, ov, &s), 0);
    cr_assert_eq(lyra_stack_start(s), 0);
    return s;
}

Test(assembly, ram_report_gives_each_instance_its_own_pools)
{
    /* zc: the receive pages and the bounce pages are pages, exactly */
    struct lyra_stack *z = ram_stack("zc-dma", "skb.count=64", "skb.cow_pages=8");
    struct lyra_ram sk = ram_of(z, "skb");
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    const struct lyra_value *rx = lyra_stack_param(z, "skb", "rx_pages");
    cr_assert_eq(sk.pages, (rx->u.i + 8) * ps, "rx_pages + cow_pages pages: %llu",
                 (unsigned long long)sk.pages);
    cr_assert_geq(sk.heap, 64u * 2048u, "the transmit pool is heap");
    struct lyra_ram e = ram_of(z, "eth");
    cr_assert_eq(e.pages, 0);
    cr_assert_lt(e.heap, 64u * 1024u, "eth holds no pool: %llu", (unsigned long long)e.heap);
    lyra_stack_destroy(z);
    /* copy: 64 more transmit buffers are 64 * buf_size more heap for skb,
     * and nothing more for anyone else */
    struct lyra_stack *a = ram_stack("copy-dma", "skb.count=64", NULL);
    struct lyra_stack *b = ram_stack("copy-dma", "skb.count=128", NULL);
    struct lyra_ram ra = ram_of(a, "skb"), rb = ram_of(b, "skb");
    cr_assert_geq(rb.heap - ra.heap, 64u * 2048u);
    cr_assert_lt(rb.heap - ra.heap, 64u * (2048u + 512u), "%llu",
                 (unsigned long long)(rb.heap - ra.heap));
    cr_assert_eq(ram_of(a, "tcp").heap, ram_of(b, "tcp").heap);
    cr_assert_eq(ram_of(a, "nic").heap, ram_of(b, "nic").heap);
    lyra_stack_destroy(a);
    lyra_stack_destroy(b);
}

Test(cli, check_reports_every_error_with_file_and_line_and_exits_1)
{
    char out[8192], f[512];
    snprintf(f, sizeof(f), "%s/tests/bad-%d.lyra", build_dir(), getpid());
    FILE *m = fopen(f, "w");
    fprintf(m, "[os]\ncomponent = os_posix\nseed = abc\n[eth]\ncomponent = eth\nmtu = 3\n"
               "[x]\ncomponent = nosuch\n");
    fclose(m);
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet check %s", build_dir(), f), 1, "%s", out);
    char want[600];
    snprintf(want, sizeof(want), "%s:3: error: os.seed: expected an integer", f);
    cr_assert(strstr(out, want), "%s", out);
    snprintf(want, sizeof(want), "%s:6: error: component eth has no parameter or slot 'mtu'", f);
    cr_assert(strstr(out, want), "%s", out);
    snprintf(want, sizeof(want), "%s:8: error: unknown component 'nosuch'", f);
    cr_assert(strstr(out, want), "%s", out);
    snprintf(want, sizeof(want), "%s:4: error: [eth]: required slot 'lower'", f);
    cr_assert(strstr(out, want), "%s", out);
    unlink(f);
}

/* Issue 9.1: a driver bound to a model of another card is a manifest error
 * that check reports, as run does, before anything starts. */
Test(cli, check_refuses_a_driver_bound_to_another_card)
{
    static const struct {
        const char *from, *sed, *want;
    } cases[] = {
        {"copy-pio", "s/= nic_pio/= nic_dma/",
         "nic.bus: nic (nic_dma) does not drive the device dev (ne2k_model) provides"},
        {"copy-dma", "s/= nic_dma/= nic_pio/",
         "nic.bus: nic (nic_pio) does not drive the device dev (e1000_model) provides"},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[8192], f[512];
        snprintf(f, sizeof(f), "%s/tests/swap-%d-%u.lyra", build_dir(), getpid(), i);
        cr_assert_eq(sh(out, sizeof(out), "sed '%s' assemblies/%s.lyra > %s", cases[i].sed,
                        cases[i].from, f),
                     0, "%s", out);
        cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet check %s", build_dir(), f), 1, "%s", out);
        cr_assert(strstr(out, cases[i].want), "check: %s", out);
        cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet run %s --for 0.1", build_dir(), f), 1,
                     "%s", out);
        cr_assert(strstr(out, cases[i].want), "run: %s", out);
        unlink(f);
    }
}

Test(cli, good_manifests_check_and_graph_render)
{
    char out[65536];
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet check assemblies/eth-fake.lyra", build_dir()),
                 0, "%s", out);
    cr_assert(strstr(out, "addr           = 192.0.2.2              (manifest)"), "%s", out);
    cr_assert(strstr(out, "arp_timeout    = 60s                    (default)"), "%s", out);
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet graph assemblies/eth-fake.lyra | dot -Tpng "
                                      "-o %s/tests/g.png && test -s %s/tests/g.png",
                    build_dir(), build_dir(), build_dir()),
                 0, "dot could not render the graph: %s", out);
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet list", build_dir()), 0);
    cr_assert(strstr(out, "eth ") && strstr(out, "skb_copy ") && strstr(out, "os_posix ") &&
              strstr(out, "param    arp_timeout"), "%s", out);
}

Test(cli, usage_and_override_errors_exit_1)
{
    char out[8192];
    const char *b = build_dir();
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet", b), 1);
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet frobnicate", b), 1);
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet run assemblies/eth-fake.lyra --bogus", b), 1);
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet run assemblies/eth-fake.lyra --for x", b), 1);
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet run assemblies/eth-fake.lyra eth.arp_retries=99", b), 1);
    cr_assert(strstr(out, "override 'eth.arp_retries=99'"), "%s", out);
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyra-eth-fake nic.speed=9", b), 1);
    cr_assert(strstr(out, "override 'nic.speed=9'"), "static binaries check overrides too: %s", out);
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet run assemblies/eth-fake.lyra --services echo --for 0.1", b), 1);
    cr_assert(strstr(out, "needs a socket layer"), "%s", out);
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet check /nonexistent.lyra", b), 1);
}

Test(cli, runtime_failures_exit_2)
{
    char out[8192], dir[512];
    const char *b = build_dir();
    /* found but fails to start: a capture that does not exist */
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet run assemblies/eth-fake.lyra nic.rx_pcap=/nonexistent.pcap --for 0.1", b), 2, "%s", out);
    /* found but not loadable: a broken shared object early in the path */
    snprintf(dir, sizeof(dir), "%s/tests/broken-%d", b, getpid());
    cr_assert_eq(sh(out, sizeof(out), "mkdir -p %s && echo junk > %s/lyra_eth.so && "
                                      "LYRA_COMPONENT_PATH=%s %s/bin/lyranet run assemblies/eth-fake.lyra --for 0.1",
                    dir, dir, dir, b), 2, "%s", out);
    cr_assert(strstr(out, "cannot be loaded"), "%s", out);
    sh(out, sizeof(out), "rm -rf %s", dir);
}

Test(cli, sigterm_stops_cleanly_and_writes_stats)
{
    char out[8192], json[512];
    snprintf(json, sizeof(json), "%s/tests/sig-%d.json", build_dir(), getpid());
    cr_assert_eq(sh(out, sizeof(out),
                    "%s/bin/lyra-eth-fake --stats-json %s & pid=$!; sleep 0.5; kill -TERM $pid; wait $pid",
                    build_dir(), json), 0, "%s", out);
    cr_assert_eq(sh(out, sizeof(out), "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
                                      "print(d[\"eth\"][\"arp_gratuitous_sent\"])' %s", json), 0, "%s", out);
    cr_assert_str_eq(out, "1\n");
    unlink(json);
}

Test(cli, accounting_counts_every_binding)
{
    char out[16384], json[512];
    snprintf(json, sizeof(json), "%s/tests/acct-%d.json", build_dir(), getpid());
    cr_assert_eq(sh(out, sizeof(out), "%s/bin/lyranet run assemblies/eth-fake-accounted.lyra "
                    "nic.rx_pcap=tests/data/eth/arp-linux.pcap --for 0.3 --stats --stats-json %s",
                    build_dir(), json), 0, "%s", out);
    cr_assert(strstr(out, "eth.lower->nic"), "the table names the binding: %s", out);
    /* what crossed eth.lower must be what the NIC counted */
    cr_assert_eq(sh(out, sizeof(out), "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
                    "b=d[\"eth\"][\"bindings\"][\"lower\"]; n=d[\"nic\"]; "
                    "assert b[\"provider\"]==\"nic\" and b[\"iface\"]==\"netdev\"; "
                    "assert b[\"ops\"][\"xmit\"][\"calls\"]==n[\"tx_frames\"], (b, n); "
                    "assert b[\"events\"][\"rx\"][\"calls\"]==n[\"rx_frames\"]==4; "
                    "assert b[\"events\"][\"rx\"][\"bytes\"]==n[\"rx_bytes\"]; "
                    "assert b[\"ops\"][\"xmit\"][\"ns\"]>0; "
                    "print(\"ok\")' %s", json), 0, "%s", out);
    unlink(json);
}

Test(assembly, docs_example_component_echoes_frames)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/docs/example/l2-echo.lyra", src_dir());
    struct lyra_stack *s;
    cr_assert_eq(lyra_stack_load(path, NULL, &s), 0);
    cr_assert_eq(lyra_stack_start(s), 0);
    void *nic = lyra_stack_instance(s, "nic", NULL);
    fake_netdev_tx_clear(nic); /* drop anything sent at start */
    uint8_t f[64] = {0x02, 0, 0, 0, 0, 0x01, /* dst: the fake NIC's MAC */
                     0x02, 0, 0, 0, 0, 0x09, /* src */
                     0x88, 0xb5, 'h', 'e', 'l', 'l', 'o'};
    cr_assert_eq(fake_netdev_deliver(nic, f, sizeof(f)), 0);
    lyra_stack_poll(s);
    cr_assert_eq(lyra_stack_counter(s, "echo", "echoed"), 1);
    cr_assert_eq(fake_netdev_tx_count(nic), 1);
    size_t len;
    const uint8_t *o = fake_netdev_tx_frame(nic, 0, &len);
    cr_assert_eq(len, 64);
    cr_assert_eq(memcmp(o, f + 6, 6), 0, "sent back to the sender");
    cr_assert_eq(memcmp(o + 6, f, 6), 0, "from our MAC");
    cr_assert_eq(memcmp(o + 12, f + 12, 52), 0, "same ethertype and payload");
    lyra_stack_destroy(s);
}
