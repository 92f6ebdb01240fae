/* libFuzzer entry for lyra-ttcp's command line (both builds: with and
 * without stack options): the input is split at NUL bytes into argv[1..];
 * parsing must accept or refuse it with a message, never crash, read out
 * of bounds or exit, and what it accepts must hold the documented rules. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_argv.h"
#include "ttcp_args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGV 40

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096 || size < 1)
        return 0;
    int stacks = data[0] & 1;
    char *buf, *argv[MAX_ARGV + 1];
    int argc = fuzz_argv(data + 1, size - 1, "lyra-ttcp", &buf, argv, MAX_ARGV);
    if (!argc)
        return 0;
    FILE *err = fopen("/dev/null", "w");
    struct ttcp_opts o;
    ttcp_opts_init(&o);
    int r = ttcp_parse_args(argc, argv, &o, stacks, err ? err : stderr);
    if (r == 0) {
        if ((o.trans != 0 && o.trans != 1) || (o.trans && !o.host) || (!o.trans && o.host) ||
            o.len < 1 || o.len > TTCP_MAX_LEN || (o.udp && (o.len <= 4 || o.len > TTCP_MAX_UDP_LEN)) ||
            o.count < 1 || o.port < 1 || o.port > 65535 || !(o.timeout > 0) ||
            (stacks && !o.so.st.manifest) || (!stacks && (o.so.st.manifest || o.so.peer.manifest)) ||
            o.so.st.ov[o.so.st.n] || o.so.peer.ov[o.so.peer.n])
            abort();
    } else if (r != 1 && r != 2) {
        abort();
    }
    if (err)
        fclose(err);
    free(buf);
    return 0;
}
