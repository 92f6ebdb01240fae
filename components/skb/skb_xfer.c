/* Payload-transfer counters: see skb_xfer.h. */
#include "skb_xfer.h"

#ifndef LYRA_NO_DOCS
static const char *const skb_xfer_names[SKB_XFER_NREASONS] = {
    NULL,
#define SKB_XFER_NAME(n) "fallback_" #n,
    SKB_XFER_REASONS(SKB_XFER_NAME)
#undef SKB_XFER_NAME
};
#endif

void skb_xfer_stats(const struct skb_xfer *x, struct lyra_stats_sink *sink)
{
    lyra_stat(sink, "tx_copied_bytes", x->tx_copied_bytes);
    lyra_stat(sink, "tx_referenced_bytes", x->tx_referenced_bytes);
    lyra_stat(sink, "rx_copied_bytes", x->rx_copied_bytes);
    lyra_stat(sink, "rx_remapped_bytes", x->rx_remapped_bytes);
    lyra_stat(sink, "cow_faults", x->cow_faults);
    for (int i = 1; i < SKB_XFER_NREASONS; i++)
        lyra_stat(sink, skb_xfer_names[i], x->fallback[i]);
}
