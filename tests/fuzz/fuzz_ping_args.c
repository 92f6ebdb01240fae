/* libFuzzer entry for lyra-ping's command line: the input is split at NUL
 * bytes into argv[1..]; parsing must accept or refuse it with a message,
 * never crash, read out of bounds or exit, and what it accepts must hold
 * the documented ranges. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_argv.h"
#include "ping_args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGV 40

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *buf, *argv[MAX_ARGV + 1];
    int argc = fuzz_argv(data, size, "lyra-ping", &buf, argv, MAX_ARGV);
    if (!argc)
        return 0;
    FILE *err = fopen("/dev/null", "w");
    struct ping_opts o;
    ping_opts_init(&o);
    int r = ping_parse_args(argc, argv, &o, err ? err : stderr);
    if (r == 0) {
        if (!o.so.st.manifest || !o.dest || o.count < 1 || o.size < 16 || o.size > PING_MAX_SIZE ||
            o.udp_port < 0 || o.udp_port > 65535 || !(o.interval >= 0) || !(o.timeout > 0) ||
            o.so.st.n > TOOL_MAX_OVERRIDES || o.so.st.ov[o.so.st.n] ||
            o.so.peer.ov[o.so.peer.n])
            abort();
    } else if (r != 1 && r != 2) {
        abort();
    }
    if (err)
        fclose(err);
    free(buf);
    return 0;
}
