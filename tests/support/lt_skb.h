/* The skb provider a layer suite runs over: skb_copy, or fake_skb_split
 * (payload in pieces of at most 64 bytes) in the suite's *_split build,
 * which defines LT_SKB_SPLIT (tests/unit/CMakeLists: lyra_add_split_test). One
 * test source, two providers. */
#ifndef LYRA_TEST_LT_SKB_H
#define LYRA_TEST_LT_SKB_H

#include "lyra/component.h"

#ifdef LT_SKB_SPLIT
extern const struct lyra_component lyra_component_fake_skb_split;
#define LT_SKB_PROVIDER lyra_component_fake_skb_split
#define LT_SKB_SPLIT_ON 1
#else
extern const struct lyra_component lyra_component_skb_copy;
#define LT_SKB_PROVIDER lyra_component_skb_copy
#define LT_SKB_SPLIT_ON 0
#endif

#endif
