/* e1000_model: TCP segmentation (manual 3.5). A packet whose first data
 * descriptor has DCMD.TSE is HDRLEN bytes of header (the prototype, 3.5.9)
 * then PAYLEN bytes of payload; the card sends ceil(PAYLEN / MSS) frames,
 * each the header and the next MSS payload bytes, and rewrites per frame
 * what 3.5.9.1 and 3.5.9.2 list: IP total length, IP identification (+1
 * per frame after the first), TCP sequence number (+MSS per frame), FIN
 * and PSH cleared on all but the last frame, and the checksums POPTS asks
 * for, the TCP one over the pseudo-header sum the driver left in the field
 * (without the TCP length, which differs per frame) plus this frame's.
 *
 * Only TCP over IPv4 is modelled (TUCMD.TCP and TUCMD.IP): UDP and IPv6
 * contexts, and any request whose fields would fall outside the header or
 * the gathered data, are dropped whole and counted (tx_tso_bad), so the
 * model never reads or writes out of bounds whatever the driver wrote. */
#include "e1000_model_int.h"

#include <string.h>

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define IPV4_HLEN_MIN 20
#define TCP_HLEN_MIN 20

/* Whether every offset the card rewrites lies in the header: the IPv4
 * header from IPCSS, the TCP header from TUCSS behind it, and the checksum
 * fields POPTS asks for. */
static bool tso_offsets_ok(const struct em_tx_ctx *c, uint8_t popts)
{
    uint32_t h = c->hdrlen;
    if ((uint32_t)c->ipcss + IPV4_HLEN_MIN > c->tucss || (uint32_t)c->tucss + TCP_HLEN_MIN > h)
        return false;
    if ((popts & TXD_POPTS_IXSM) && (uint32_t)c->ipcso + 2 > h)
        return false;
    if ((popts & TXD_POPTS_TXSM) && (uint32_t)c->tucso + 2 > h)
        return false;
    return true;
}

/* Whether the context and the gathered packet make a request the card
 * carries out. */
static bool tso_request_ok(const struct e1000_model *m)
{
    const struct em_tx_ctx *c = &m->ctx;
    const uint8_t want = TXD_TUCMD_TSE | TXD_TUCMD_TCP | TXD_TUCMD_IP;
    if ((c->tucmd & want) != want)
        return false; /* no TSE context, or not TCP/IPv4 */
    if (!c->mss || !c->hdrlen || c->hdrlen > TSO_HDR_MAX)
        return false;
    /* a frame is built whole before it goes out: it must fit the card */
    if ((uint32_t)c->hdrlen + c->mss > FRAME_JUMBO)
        return false;
    /* EOP ends the payload: it must be PAYLEN bytes exactly (3.3.7, EOP) */
    if (m->txlen < c->hdrlen || m->txlen - c->hdrlen != c->paylen || !c->paylen)
        return false;
    return tso_offsets_ok(c, m->tx_popts);
}

/* The IPv4 header of frame k (0-based) of n payload bytes (3.5.9.1-2). */
static void tso_fix_ip(const struct em_tx_ctx *c, uint8_t *f, uint32_t n, uint16_t id0,
                       uint32_t k)
{
    uint8_t *ip = f + c->ipcss;
    st16be(ip + 2, (uint16_t)(c->hdrlen - c->ipcss + n));
    st16be(ip + 4, (uint16_t)(id0 + k)); /* wraps, as the card's does */
}

/* The TCP header of frame k of n payload bytes; the checksum field gets
 * this frame's TCP length added to the driver's pseudo-header sum, so the
 * checksum pass over TUCSS..end completes it (3.5.9). */
static void tso_fix_tcp(const struct e1000_model *m, uint8_t *f, uint32_t n, uint32_t seq0,
                        uint32_t k, bool last)
{
    const struct em_tx_ctx *c = &m->ctx;
    uint8_t *tcp = f + c->tucss;
    st32be(tcp + 4, seq0 + k * c->mss);
    if (!last)
        tcp[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
    if (m->tx_popts & TXD_POPTS_TXSM) {
        uint32_t tcplen = c->hdrlen - c->tucss + n;
        uint32_t s = (uint32_t)ld16be(f + c->tucso) + tcplen;
        s = (s & 0xffff) + (s >> 16);
        s = (s & 0xffff) + (s >> 16);
        st16be(f + c->tucso, (uint16_t)s);
    }
}

void em_tso_send(struct e1000_model *m)
{
    if (!tso_request_ok(m)) {
        m->st.tx_tso_bad++;
        return;
    }
    const struct em_tx_ctx *c = &m->ctx;
    const uint32_t h = c->hdrlen;
    const uint16_t id0 = ld16be(m->txbuf + c->ipcss + 4);
    const uint32_t seq0 = ld32be(m->txbuf + c->tucss + 4);
    uint8_t *f = m->txseg;
    m->st.tx_tso_packets++;
    for (uint32_t off = h, k = 0; off < m->txlen; k++) {
        uint32_t n = m->txlen - off < c->mss ? m->txlen - off : c->mss;
        bool last = off + n == m->txlen;
        memcpy(f, m->txbuf, h);
        memcpy(f + h, m->txbuf + off, n);
        tso_fix_ip(c, f, n, id0, k);
        tso_fix_tcp(m, f, n, seq0, k, last);
        em_tx_frame_out(m, f, h + n);
        m->st.tx_tso_frames++;
        off += n;
    }
}
