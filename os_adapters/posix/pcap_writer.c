/* Classic pcap files (magic a1b2c3d4, version 2.4, linktype 1 Ethernet,
 * snaplen 65535) in host byte order, as libpcap writes them. Timestamps
 * are wall-clock (CLOCK_REALTIME) microseconds, so Wireshark shows real
 * times. Writes are buffered by stdio; close flushes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "link_int.h"

#define PCAP_SNAPLEN 65535u

struct pcap_writer {
    FILE *f;
};

struct pcap_ghdr {
    uint32_t magic;
    uint16_t vmaj, vmin;
    int32_t thiszone;
    uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rhdr {
    uint32_t ts_sec, ts_usec, incl_len, orig_len;
};

struct pcap_writer *pcap_writer_open(const char *path, int *err)
{
    struct pcap_writer *w = calloc(1, sizeof(*w));
    if (!w) {
        *err = -ENOMEM;
        return NULL;
    }
    w->f = fopen(path, "wbe");
    if (!w->f) {
        *err = -errno;
        free(w);
        return NULL;
    }
    struct pcap_ghdr h = {0xa1b2c3d4u, 2, 4, 0, 0, PCAP_SNAPLEN, 1};
    if (fwrite(&h, sizeof(h), 1, w->f) != 1) {
        *err = -EIO;
        fclose(w->f);
        free(w);
        return NULL;
    }
    return w;
}

void pcap_writer_frame(struct pcap_writer *w, const void *f, size_t len)
{
    if (!w)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint32_t incl = len > PCAP_SNAPLEN ? PCAP_SNAPLEN : (uint32_t)len;
    struct pcap_rhdr r = {(uint32_t)ts.tv_sec, (uint32_t)(ts.tv_nsec / 1000), incl,
                          (uint32_t)len};
    fwrite(&r, sizeof(r), 1, w->f);
    fwrite(f, 1, incl, w->f);
}

void pcap_writer_close(struct pcap_writer *w)
{
    if (!w)
        return;
    fclose(w->f);
    free(w);
}
