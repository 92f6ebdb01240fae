/* The trivial TAP program that bench/ipb.sh compares our stack with (issue
 * 11.4: "Linux to our stack on a TAP as a share of what a trivial TAP echo
 * reaches"). A TCP sink with nothing behind it: it reads each frame from
 * the TAP and echoes back only what the sender needs to go on, built in
 * place from the frame it read: an ARP reply, a SYN-ACK, and an ACK
 * header for data (every second in-order segment, and at once for a
 * segment with PSH or FIN or out of order; a frame left unacknowledged is
 * acknowledged after 1 ms of silence). No buffer, no checksum check, no
 * options but the MSS and window scaling, a window of 8 MiB that never
 * limits the sender, no timers beyond that one. So its rate is what one
 * read() per frame and one write() per two frames let a TAP program reach
 * with this sender: the ceiling of any program behind a TAP.
 *
 *   tap_acker IFNAME A.B.C.D   (in the TAP's namespace; exits after the
 *                               first connection's FIN, printing a line)
 *
 * Host-only (Linux TAP); not a component. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
/* The window: 65535 << ACKER_WS (8 MiB) once the sender's SYN offered
 * scaling too (RFC 7323 2.2; Linux's does): never what limits the rate. */
#define ACKER_WS 7

static uint16_t ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void st32(uint8_t *p, uint32_t v)
{
    st16(p, (uint16_t)(v >> 16));
    st16(p + 2, (uint16_t)v);
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (; n > 1; p += 2, n -= 2)
        s += ld16(p);
    if (n)
        s += (uint32_t)p[0] << 8;
    return s;
}
static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

struct conn {
    uint32_t rcv_nxt, snd_nxt;
    int owed; /* in-order segments not yet acknowledged */
    int up, done;
    unsigned long long bytes, frames, acks, ooo; /* ooo: data not at rcv_nxt (loss or old) */
};

/* Turns frame f (Ethernet, IPv4, TCP of the sender) into our reply in
 * place: addresses and ports swapped, no payload, flags and numbers
 * given; returns its length. */
static size_t reply(uint8_t *f, uint8_t flags, uint32_t seq, uint32_t ack, int mss, int ws)
{
    uint8_t t[6];
    memcpy(t, f, 6);
    memcpy(f, f + 6, 6);
    memcpy(f + 6, our_mac, 6);
    uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    uint8_t *tcp = ip + ihl, *nt = ip + 20;
    uint8_t a[4];
    memcpy(a, ip + 12, 4);
    memcpy(ip + 12, ip + 16, 4);
    memcpy(ip + 16, a, 4);
    memmove(nt, tcp, 4); /* ports, behind a 20-byte IP header */
    uint8_t p[2] = {nt[0], nt[1]};
    nt[0] = nt[2], nt[1] = nt[3], nt[2] = p[0], nt[3] = p[1];
    size_t tl = mss ? (ws ? 28 : 24) : 20; /* a SYN-ACK: MSS, and NOP, window scale */
    st32(nt + 4, seq);
    st32(nt + 8, ack);
    nt[12] = (uint8_t)(tl / 4) << 4;
    nt[13] = flags;
    st16(nt + 14, 65535);
    st16(nt + 16, 0);
    st16(nt + 18, 0);
    if (mss) {
        nt[20] = 2, nt[21] = 4;
        st16(nt + 22, (uint16_t)mss);
    }
    if (mss && ws) {
        nt[24] = 1;                                /* NOP */
        nt[25] = 3, nt[26] = 3, nt[27] = ACKER_WS; /* RFC 7323 2.2 */
    }
    ip[0] = 0x45;
    ip[1] = 0;
    st16(ip + 2, (uint16_t)(20 + tl));
    st16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    st16(ip + 10, 0);
    st16(ip + 10, fold(sum16(ip, 20, 0)));
    uint32_t ps = sum16(ip + 12, 8, 0) + 6 + (uint32_t)tl;
    st16(nt + 16, fold(sum16(nt, tl, ps)));
    return 14 + 20 + tl;
}

static void send_frame(int fd, const uint8_t *f, size_t n, struct conn *c)
{
    if (n < 60)
        n = 60; /* the TAP takes short frames; pad as a NIC would */
    if (write(fd, f, n) < 0 && errno != EAGAIN)
        perror("tap_acker: write");
    c->acks++;
}

static void on_arp(int fd, uint8_t *f, size_t n, uint32_t me, struct conn *c)
{
    uint8_t *a = f + 14;
    if (n < 42 || ld16(a + 6) != 1 || ld32(a + 24) != me)
        return;
    st16(a + 6, 2);
    memcpy(a + 18, a + 8, 10); /* target = the asker */
    memcpy(a + 8, our_mac, 6);
    st32(a + 14, me);
    memcpy(f, f + 6, 6);
    memcpy(f + 6, our_mac, 6);
    send_frame(fd, f, 42, c);
}

static void on_tcp(int fd, uint8_t *f, size_t n, struct conn *c, uint8_t *last, size_t *lastn)
{
    uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4, tot = ld16(ip + 2);
    if (n < 14 + tot || tot < ihl + 20)
        return;
    uint8_t *t = ip + ihl;
    size_t doff = (size_t)(t[12] >> 4) * 4;
    if (tot < ihl + doff)
        return;
    uint32_t seq = ld32(t + 4), len = (uint32_t)(tot - ihl - doff);
    uint8_t fl = t[13];
    c->frames++;
    if (fl & 0x04) /* RST */
        return;
    if (fl & 0x02) { /* SYN: a fresh connection */
        c->rcv_nxt = seq + 1;
        c->snd_nxt = 0x1000;
        c->up = 1;
        c->bytes = 0;
        int ws = 0; /* scaling only when the SYN offers it (RFC 7323 2.2) */
        for (size_t k = 20; k < doff && t[k] != 0; k += t[k] == 1 ? 1 : (t[k + 1] ? t[k + 1] : 1))
            ws |= t[k] == 3;
        send_frame(fd, f, reply(f, 0x12, c->snd_nxt, c->rcv_nxt, 1460, ws), c);
        c->snd_nxt++;
        return;
    }
    if (!c->up)
        return;
    int now = 0;
    if (len && seq == c->rcv_nxt) {
        c->rcv_nxt += len;
        c->bytes += len;
        now = ++c->owed >= 2 || (fl & 0x08);
    } else if (len) {
        now = 1; /* out of order or old: a duplicate ACK */
        c->ooo++;
    }
    if ((fl & 0x01) && seq + len == c->rcv_nxt) { /* FIN in order: ours goes with its ACK */
        c->rcv_nxt++;
        send_frame(fd, f, reply(f, 0x11, c->snd_nxt, c->rcv_nxt, 0, 0), c);
        c->snd_nxt++;
        c->done = 1;
        c->owed = 0;
        return;
    }
    if (now) {
        send_frame(fd, f, reply(f, 0x10, c->snd_nxt, c->rcv_nxt, 0, 0), c);
        c->owed = 0;
    } else if (c->owed) {
        memcpy(last, f, n < 128 ? n : 128); /* headers for the ACK after silence */
        *lastn = n;
    }
}

int main(int argc, char **argv)
{
    struct in_addr me;
    if (argc != 3 || inet_pton(AF_INET, argv[2], &me) != 1) {
        fprintf(stderr, "usage: %s IFNAME A.B.C.D\n", argv[0]);
        return 1;
    }
    int fd = open("/dev/net/tun", O_RDWR);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
    if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
        perror("tap_acker: /dev/net/tun");
        return 2;
    }
    printf("tap_acker: on %s as %s\n", argv[1], argv[2]);
    fflush(stdout);
    struct conn c = {0};
    static uint8_t f[65536], last[128];
    size_t lastn = 0;
    uint32_t my = ntohl(me.s_addr);
    while (!c.done) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, c.owed ? 1 : 60000);
        if (r == 0 && c.owed && lastn) { /* silence: what is owed goes */
            send_frame(fd, last, reply(last, 0x10, c.snd_nxt, c.rcv_nxt, 0, 0), &c);
            c.owed = 0;
            lastn = 0; /* last is a reply now */
            continue;
        }
        if (r <= 0)
            break;
        ssize_t n = read(fd, f, sizeof(f));
        if (n < 14)
            continue;
        uint16_t type = ld16(f + 12);
        if (type == 0x0806)
            on_arp(fd, f, (size_t)n, my, &c);
        else if (type == 0x0800 && n >= 34 && f[14 + 9] == 6 && ld32(f + 14 + 16) == my)
            on_tcp(fd, f, (size_t)n, &c, last, &lastn);
    }
    printf("tap_acker: %llu bytes in order, %llu TCP frames read (%llu out of order), %llu frames "
           "written\n",
           c.bytes, c.frames, c.ooo, c.acks);
    close(fd);
    return c.done ? 0 : 2;
}
