/* The BSD socket types and constants lyra/socket.h is written in.
 *
 * On a host (a libc with <sys/socket.h>) they are the host's own, so an
 * application passes its sockaddr, msghdr and socklen_t unchanged. On a target
 * without <sys/socket.h> (bare metal with newlib) this header defines
 * compatible ones, with Linux's layout and values, chosen at build time
 * (__has_include; -DLYRA_OWN_SOCKET_TYPES forces them on a host, for tests).
 * Either way the LYRA_SOCK_, LYRA_MSG_ and LYRA_POLL_ values the transports use
 * equal these (checked below). */
#ifndef LYRA_SOCKET_TYPES_H
#define LYRA_SOCKET_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "lyra/l4.h"

#if !defined(LYRA_OWN_SOCKET_TYPES) && defined(__has_include)
#if !__has_include(<sys/socket.h>)
#define LYRA_OWN_SOCKET_TYPES 1
#endif
#endif

#ifndef LYRA_OWN_SOCKET_TYPES
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#else
#include <fcntl.h>     /* newlib: O_NONBLOCK, F_GETFL, F_SETFL */
#include <sys/time.h>  /* struct timeval */
#include <sys/types.h> /* ssize_t */

typedef uint32_t socklen_t;
typedef uint16_t sa_family_t;
typedef uint32_t in_addr_t;
typedef uint16_t in_port_t;

struct sockaddr {
    sa_family_t sa_family;
    char sa_data[14];
};
struct in_addr {
    in_addr_t s_addr;
};
struct sockaddr_in {
    sa_family_t sin_family;
    in_port_t sin_port;
    struct in_addr sin_addr;
    unsigned char sin_zero[8];
};
struct iovec {
    void *iov_base;
    size_t iov_len;
};
struct msghdr {
    void *msg_name;
    socklen_t msg_namelen;
    struct iovec *msg_iov;
    size_t msg_iovlen;
    void *msg_control;
    size_t msg_controllen;
    int msg_flags;
};
struct cmsghdr {
    size_t cmsg_len;
    int cmsg_level;
    int cmsg_type;
};
struct linger {
    int l_onoff;
    int l_linger;
};
struct in_pktinfo {
    int ipi_ifindex;
    struct in_addr ipi_spec_dst;
    struct in_addr ipi_addr;
};
#define CMSG_ALIGN(len) (((len) + sizeof(size_t) - 1) & ~(sizeof(size_t) - 1))
#define CMSG_LEN(len) (CMSG_ALIGN(sizeof(struct cmsghdr)) + (len))
#define CMSG_SPACE(len) (CMSG_ALIGN(sizeof(struct cmsghdr)) + CMSG_ALIGN(len))
#define CMSG_DATA(c) ((unsigned char *)(c) + CMSG_ALIGN(sizeof(struct cmsghdr)))

#define AF_UNSPEC 0
#define AF_INET 2
#define PF_INET AF_INET
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_NONBLOCK 04000
#define SOCK_CLOEXEC 02000000
#define SOL_SOCKET 1
#define SO_REUSEADDR 2
#define SO_TYPE 3
#define SO_ERROR 4
#define SO_BROADCAST 6
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define SO_KEEPALIVE 9
#define SO_LINGER 13
#define SO_RCVTIMEO 20
#define SO_SNDTIMEO 21
#define IPPROTO_IP 0
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IP_TOS 1
#define IP_TTL 2
#define IP_PKTINFO 8
#define TCP_NODELAY 1
#define TCP_MAXSEG 2
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#define TCP_INFO 11 /* fills a struct lyra_tcp_info (lyra/l4.h), not Linux's struct tcp_info */
#define TCP_CONGESTION 13
#define TCP_USER_TIMEOUT 18
#define INADDR_ANY ((in_addr_t)0x00000000)
#define INADDR_BROADCAST ((in_addr_t)0xffffffff)
#define MSG_OOB 0x01
#define MSG_PEEK 0x02
#define MSG_CTRUNC 0x08
#define MSG_TRUNC 0x20
#define MSG_DONTWAIT 0x40
#define MSG_WAITALL 0x100
#define MSG_ERRQUEUE 0x2000
#define MSG_NOSIGNAL 0x4000
#define POLLIN 0x001
#define POLLPRI 0x002
#define POLLOUT 0x004
#define POLLERR 0x008
#define POLLHUP 0x010
#define POLLNVAL 0x020
#define POLLRDHUP 0x2000
#define SHUT_RD 0
#define SHUT_WR 1
#define SHUT_RDWR 2

/* byte order: the targets are little-endian (Cortex-M, x86) or say so */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define htons(x) ((uint16_t)(x))
#define htonl(x) ((uint32_t)(x))
#else
#define htons(x) __builtin_bswap16((uint16_t)(x))
#define htonl(x) __builtin_bswap32((uint32_t)(x))
#endif
#define ntohs(x) htons(x)
#define ntohl(x) htonl(x)
#endif /* LYRA_OWN_SOCKET_TYPES */

/* MSG_ZEROCOPY completions (issue 12.2b): Linux's names and values, from
 * the host's headers where it has them (<linux/errqueue.h>), else ours. */
#if !defined(LYRA_OWN_SOCKET_TYPES) && defined(__has_include)
#if __has_include(<linux/errqueue.h>)
#include <linux/errqueue.h>
#define LYRA_HOST_ERRQUEUE 1
#endif
#endif
#ifndef LYRA_HOST_ERRQUEUE
struct sock_extended_err {
    uint32_t ee_errno;
    uint8_t ee_origin;
    uint8_t ee_type;
    uint8_t ee_code;
    uint8_t ee_pad;
    uint32_t ee_info;
    uint32_t ee_data;
};
#endif
#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY 5
#endif
#ifndef SO_EE_CODE_ZEROCOPY_COPIED
#define SO_EE_CODE_ZEROCOPY_COPIED 1
#endif
#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#ifndef SOL_IP
#define SOL_IP 0
#endif
#ifndef IP_RECVERR
#define IP_RECVERR 11
#endif
_Static_assert(SO_EE_ORIGIN_ZEROCOPY == 5, "SO_EE_ORIGIN_ZEROCOPY is Linux's");
_Static_assert(SO_EE_CODE_ZEROCOPY_COPIED == 1, "SO_EE_CODE_ZEROCOPY_COPIED is Linux's");
_Static_assert(SO_ZEROCOPY == 60, "SO_ZEROCOPY is Linux's");
_Static_assert(IP_RECVERR == 11 && SOL_IP == 0, "IP_RECVERR, SOL_IP are Linux's");
_Static_assert(sizeof(struct sock_extended_err) == 16, "struct sock_extended_err as Linux's");
_Static_assert(LYRA_MSG_ZEROCOPY == MSG_ZEROCOPY, "LYRA_MSG_ZEROCOPY differs");
_Static_assert((LYRA_MSG_ZC_CONT & (MSG_ZEROCOPY | MSG_ERRQUEUE | MSG_NOSIGNAL | MSG_DONTWAIT |
                                    MSG_OOB)) == 0,
               "LYRA_MSG_ZC_CONT is no flag an application passes");
_Static_assert((LYRA_MSG_ZC_CALL & (MSG_ZEROCOPY | MSG_ERRQUEUE | MSG_NOSIGNAL | MSG_DONTWAIT |
                                    MSG_OOB | LYRA_MSG_ZC_CONT)) == 0,
               "LYRA_MSG_ZC_CALL is no flag an application passes");
#ifdef MSG_FASTOPEN
_Static_assert((LYRA_MSG_ZC_CALL & (MSG_FASTOPEN | MSG_MORE | MSG_CONFIRM | MSG_EOR)) == 0,
               "LYRA_MSG_ZC_CALL is no Linux send flag");
#endif

/* The values transports see (lyra/l4.h) are the ones applications pass. */
_Static_assert(LYRA_SOCK_STREAM == SOCK_STREAM, "LYRA_SOCK_STREAM differs from SOCK_STREAM");
_Static_assert(LYRA_SOCK_DGRAM == SOCK_DGRAM, "LYRA_SOCK_DGRAM differs from SOCK_DGRAM");
_Static_assert(LYRA_POLL_IN == POLLIN, "LYRA_POLL_IN differs from POLLIN");
_Static_assert(LYRA_POLL_OUT == POLLOUT, "LYRA_POLL_OUT differs from POLLOUT");
_Static_assert(LYRA_POLL_ERR == POLLERR, "LYRA_POLL_ERR differs from POLLERR");
_Static_assert(LYRA_POLL_HUP == POLLHUP, "LYRA_POLL_HUP differs from POLLHUP");
_Static_assert(LYRA_MSG_PEEK == MSG_PEEK, "LYRA_MSG_PEEK differs from MSG_PEEK");
_Static_assert(LYRA_MSG_TRUNC == MSG_TRUNC, "LYRA_MSG_TRUNC differs from MSG_TRUNC");
#ifdef LYRA_POLL_PRI
_Static_assert(LYRA_POLL_PRI == POLLPRI, "LYRA_POLL_PRI differs from POLLPRI");
#endif
#ifdef LYRA_POLL_RDHUP
_Static_assert(LYRA_POLL_RDHUP == POLLRDHUP, "LYRA_POLL_RDHUP differs from POLLRDHUP");
#endif
#ifdef LYRA_MSG_DONTWAIT
_Static_assert(LYRA_MSG_DONTWAIT == MSG_DONTWAIT, "LYRA_MSG_DONTWAIT differs");
#endif
#ifdef LYRA_MSG_WAITALL
_Static_assert(LYRA_MSG_WAITALL == MSG_WAITALL, "LYRA_MSG_WAITALL differs");
#endif
#ifdef LYRA_MSG_OOB
_Static_assert(LYRA_MSG_OOB == MSG_OOB, "LYRA_MSG_OOB differs");
#endif
#ifdef LYRA_MSG_NOSIGNAL
_Static_assert(LYRA_MSG_NOSIGNAL == MSG_NOSIGNAL, "LYRA_MSG_NOSIGNAL differs");
#endif
#ifdef LYRA_MSG_ERRQUEUE
_Static_assert(LYRA_MSG_ERRQUEUE == MSG_ERRQUEUE, "LYRA_MSG_ERRQUEUE differs");
#endif

#endif
