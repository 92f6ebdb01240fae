/* libFuzzer entry for lyra-ping's command line: the input is split at NUL
 * bytes into argv[1..]; parsing must accept or refuse it with a message,
 * never crash, read out of bounds or exit, and what it accepts must hold
 * the documented ranges. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ping_args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGV 40

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    /* one copy with a NUL at the end, so every piece is a C string */
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[MAX_ARGV + 1];
    int argc = 0;
    argv[argc++] = (char *)"lyra-ping";
    for (size_t i = 0; i <= size && argc < MAX_ARGV;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
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
