/* Output fragmentation (see frag.h). */
#include "frag.h"

#include "lyra/skb_csum.h"

#include <errno.h>

#include "lyra/inet_csum.h"
#include "lyra/skb_csum.h"

int frag_split(const struct lyra_skb_ops *so, void *so_self, struct lyra_skb *skb,
               const struct ipv4_repr *h, uint32_t mtu, uint32_t headroom,
               struct lyra_skb_queue *q)
{
    uint32_t total = lyra_skb_total(skb);
    lyra_skbq_init(q);
    if (mtu < FRAG_MIN_MTU || total + IPV4_HDR_LEN > IPV4_MAX_LEN)
        return -EMSGSIZE;
    uint32_t chunk = frag_chunk(mtu);
    for (uint32_t off = 0; off < total; off += chunk) {
        uint32_t n = total - off < chunk ? total - off : chunk;
        struct lyra_skb *f = so->alloc(so_self, headroom, IPV4_HDR_LEN + n);
        uint8_t *p = f ? lyra_skb_put(f, IPV4_HDR_LEN + n) : NULL;
        if (!p || so->copy_out(so_self, skb, off, p + IPV4_HDR_LEN, n) < 0) {
            lyra_skb_free(f);
            lyra_skbq_purge(q);
            return -ENOBUFS;
        }
        struct ipv4_repr r = *h;
        r.frag_off = off;
        r.mf = off + n < total;
        r.payload_len = n;
        ipv4_repr_emit(&r, p);
        f->l3_off = (uint32_t)(f->data - f->head);
        lyra_skbq_push(q, f);
    }
    lyra_skb_free(skb);
    return 0;
}

int frag_csum_resolve(struct lyra_skb *skb, uint32_t start, uint32_t off, bool udp)
{
    uint32_t total = lyra_skb_total(skb);
    if (start > total || off > total - start || total - start - off < 2 ||
        start + off + 2 > skb->len)
        return -EINVAL;
    /* summed where the bytes are, pieces and all: nothing copied */
    uint32_t sum = lyra_skb_csum(skb, start, total - start, 0);
    uint16_t c = (uint16_t)~lyra_csum_fold(sum);
    if (udp && c == 0)
        c = 0xffff;
    ip_st16(skb->data + start + off, c);
    skb->flags &= (uint16_t)~LYRA_SKB_F_CSUM_TX;
    return 0;
}
