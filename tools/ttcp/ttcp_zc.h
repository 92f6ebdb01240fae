/* MSG_ZEROCOPY completions as lyra-ttcp --zerocopy and bench/ipb read
 * them (docs/zerocopy_api.md). */
#ifndef LYRA_TTCP_ZC_H
#define LYRA_TTCP_ZC_H

#include "lyra/stack.h"

/* Takes fd's oldest completion (recvmsg MSG_ERRQUEUE, never blocking): 1
 * with *calls the number of send calls it completes and *copied 1 when the
 * provider copied them (SO_EE_CODE_ZEROCOPY_COPIED); 0 when none waits. */
int ttcp_zc_take(struct lyra_stack *s, int fd, long long *calls, int *copied);

#endif
