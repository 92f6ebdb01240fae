/* MSG_ZEROCOPY completions (ttcp_zc.h). */
#include "ttcp_zc.h"

#include <string.h>

#include "lyra/socket.h"

int ttcp_zc_take(struct lyra_stack *s, int fd, long long *calls, int *copied)
{
    union {
        char buf[CMSG_SPACE(sizeof(struct sock_extended_err))];
        struct cmsghdr align;
    } ctl;
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    m.msg_control = ctl.buf;
    m.msg_controllen = sizeof(ctl.buf);
    struct cmsghdr *c = lyra_recvmsg(s, fd, &m, MSG_ERRQUEUE) == 0 ? CMSG_FIRSTHDR(&m) : NULL;
    if (!c)
        return 0;
    struct sock_extended_err ee;
    memcpy(&ee, CMSG_DATA(c), sizeof(ee));
    *calls = (long long)ee.ee_data - ee.ee_info + 1;
    *copied = ee.ee_code == SO_EE_CODE_ZEROCOPY_COPIED;
    return 1;
}
