/* The socket API applications call: BSD names and semantics with the stack
 * as an added first argument, -1 and errno on failure. Descriptors belong
 * to their stack (no process-wide table): two stacks may both hand out
 * descriptor 0.
 *
 * Threads and contexts: any number of application threads may call these
 * while another thread runs lyra_stack_run; calls serialise on the stack's
 * lock (never concurrently with a poll step), and a blocking call sleeps
 * on a condition of its own until a ready event for its descriptor (or,
 * waiting for POLLOUT, a loop step) lets it try again. When no thread
 * runs the loop (bare metal, or a single-threaded program), a blocking
 * call drives the loop itself until it can complete or its timeout
 * passes. None of these may be called from inside a component (a poll
 * step, a timer, an l4 or socket event): they take the stack lock, which
 * is not recursive. A blocking call fails with ECANCELED once
 * lyra_stack_stop was called (a stream send: the count so far, if any).
 *
 * Supported: AF_INET; SOCK_DGRAM (UDP, and IPPROTO_ICMP echo sockets as
 * on Linux, when the assembly's ip provides them), SOCK_STREAM when the
 * assembly has tcp. Options (docs/sockets.md has the table): SOL_SOCKET
 * SO_ERROR, SO_BROADCAST, SO_REUSEADDR, SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF,
 * SO_RCVTIMEO, SO_SNDTIMEO, SO_TYPE, SO_LINGER; IPPROTO_IP IP_TTL, IP_TOS,
 * IP_PKTINFO; IPPROTO_TCP TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE,
 * TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT (ints), TCP_CONGESTION (a
 * name, as Linux: set takes up to 15 bytes, to a NUL; get gives 16 bytes,
 * NUL-padded, or *len if fewer) and TCP_INFO (get only; see below). An
 * option the socket's transport lacks: ENOPROTOOPT. NULL value or length:
 * EFAULT; a set value shorter than an int, an empty name, a *len that is
 * negative as an int: EINVAL. A get cuts the value to *len and sets *len
 * to the bytes written. fcntl F_GETFL/F_SETFL with O_NONBLOCK. Flags MSG_DONTWAIT,
 * MSG_WAITALL, MSG_PEEK, MSG_TRUNC, MSG_NOSIGNAL (accepted, meaningless:
 * no signals, EPIPE is an error return), MSG_OOB and MSG_ERRQUEUE where
 * the transport has them, MSG_ZEROCOPY (send; with SO_ZEROCOPY on TCP and
 * UDP, else ignored as Linux: docs/zerocopy_api.md); any other flag:
 * EOPNOTSUPP.
 * Streams: a blocking send returns when every byte is taken, or on an
 * error, SO_SNDTIMEO or lyra_stack_stop with the count so far; close
 * returns at once unless SO_LINGER is on (then it blocks up to the linger
 * time until what was sent and the FIN are acknowledged, as Linux; 0
 * aborts). */
#ifndef LYRA_SOCKET_H
#define LYRA_SOCKET_H

#include "lyra/socket_types.h" /* the host's sockaddr, msghdr, ...; or our own on bare metal */

#ifdef __cplusplus
extern "C" {
#endif

struct lyra_stack;

int lyra_socket(struct lyra_stack *s, int domain, int type, int protocol);
int lyra_close(struct lyra_stack *s, int fd);
int lyra_bind(struct lyra_stack *s, int fd, const struct sockaddr *addr, socklen_t len);
int lyra_connect(struct lyra_stack *s, int fd, const struct sockaddr *addr, socklen_t len);
int lyra_listen(struct lyra_stack *s, int fd, int backlog);
int lyra_accept(struct lyra_stack *s, int fd, struct sockaddr *addr, socklen_t *len);
ssize_t lyra_send(struct lyra_stack *s, int fd, const void *buf, size_t len, int flags);
ssize_t lyra_sendto(struct lyra_stack *s, int fd, const void *buf, size_t len, int flags,
                    const struct sockaddr *to, socklen_t tolen);
ssize_t lyra_recv(struct lyra_stack *s, int fd, void *buf, size_t len, int flags);
ssize_t lyra_recvfrom(struct lyra_stack *s, int fd, void *buf, size_t len, int flags,
                      struct sockaddr *from, socklen_t *fromlen);
/* recvmsg(2): scatters into msg_iov, the source into msg_name, msg_flags
 * MSG_TRUNC (datagram cut) and MSG_CTRUNC. With IP_PKTINFO on, a datagram
 * brings one control message (IPPROTO_IP, IP_PKTINFO, struct in_pktinfo:
 * ipi_ifindex 1, ipi_spec_dst our address it arrived on, ipi_addr its IP
 * destination, RFC 1122 4.1.3.5); otherwise msg_controllen is set to 0.
 * A control buffer smaller than CMSG_LEN(sizeof(struct in_pktinfo)) gets
 * MSG_CTRUNC and no message. With MSG_ERRQUEUE on a TCP or UDP socket:
 * the oldest MSG_ZEROCOPY completion, 0 and one (SOL_IP, IP_RECVERR)
 * message with a struct sock_extended_err (SO_EE_ORIGIN_ZEROCOPY, ids
 * ee_info..ee_data, ee_code SO_EE_CODE_ZEROCOPY_COPIED when copied), never
 * waiting, EAGAIN when none is queued (recv and recvfrom with MSG_ERRQUEUE:
 * 0 and the completion dropped, as Linux). At most LYRA_RECVMSG_IOV_MAX pieces
 * (EMSGSIZE beyond): they are converted on the caller's stack. */
#define LYRA_RECVMSG_IOV_MAX 64
ssize_t lyra_recvmsg(struct lyra_stack *s, int fd, struct msghdr *msg, int flags);
int lyra_shutdown(struct lyra_stack *s, int fd, int how);
int lyra_getsockname(struct lyra_stack *s, int fd, struct sockaddr *addr, socklen_t *len);
int lyra_getpeername(struct lyra_stack *s, int fd, struct sockaddr *addr, socklen_t *len);
int lyra_setsockopt(struct lyra_stack *s, int fd, int level, int name, const void *val,
                    socklen_t len);
/* getsockopt(IPPROTO_TCP, TCP_INFO) fills a struct lyra_tcp_info
 * (lyra/l4.h: state as enum lyra_tcp_state, which numbers states as Linux,
 * rto/rtt/rttvar in us, windows in bytes, the congestion control's name),
 * not Linux's struct tcp_info: the layouts differ. Code written for Linux
 * must read it as struct lyra_tcp_info. */
int lyra_getsockopt(struct lyra_stack *s, int fd, int level, int name, void *val,
                    socklen_t *len);
/* sockatmark(3): 1 when the next byte to read is the urgent mark (a TCP
 * recv stops there: the urgent data, in line, ends just before it, RFC
 * 6093), 0 otherwise; -1/errno: EBADF, ENOTTY (a socket without urgent
 * data, UDP). */
int lyra_sockatmark(struct lyra_stack *s, int fd);
/* F_GETFL and F_SETFL (O_NONBLOCK) only. */
int lyra_fcntl(struct lyra_stack *s, int fd, int cmd, int arg);

/* poll(2) over this stack's descriptors: events POLLIN/POLLPRI/POLLOUT/POLLRDHUP
 * (POLLPRI: TCP urgent data not yet read past, lyra_sockatmark),
 * revents also POLLERR, POLLHUP, and POLLNVAL for a descriptor not open or
 * closed (perhaps handed out again) during the wait, in any entry.
 * timeout_ms < 0 waits forever. The entries are scanned once per call; a
 * wake-up looks only at the descriptors it concerns. Returns the number of
 * ready entries, 0 on timeout, -1/errno (ECANCELED). */
struct lyra_pollfd {
    int fd;
    short events;
    short revents;
};
int lyra_poll(struct lyra_stack *s, struct lyra_pollfd *fds, unsigned nfds, int timeout_ms);

/* Packet memory (issue 12; the paper's PktMemoryAlloc, Fig. 7): size bytes
 * for sending and receiving without copies. On a zero-copy assembly (an skb
 * provider with pkt_alloc, skb 2.3) the pointer's in-page offset is where a
 * received TCP segment's payload (with timestamps) starts in a receive
 * buffer, so a recv of exactly one segment's payload (1448 B with
 * timestamps) at p + k * page size may remap the page instead of copying,
 * and a send from it is referenced under copy on write instead of copied.
 * Elsewhere it is ordinary page-aligned memory, so one program runs on
 * every assembly. NULL/ENOMEM when none is left; EINVAL for size 0.
 * Under copy on write its pages may be read-only to the kernel (sent and
 * not written since, or protected ahead of a send): a system call that
 * writes into it (read, pread, a kernel socket's recv) gets EFAULT there;
 * write each page from user space first (docs/buffers.md). */
void *lyra_pkt_alloc(struct lyra_stack *s, size_t size);
/* Returns p (as lyra_pkt_alloc gave it; NULL is ignored). The stack keeps
 * pages it still references (sent, not yet acknowledged) until it is done
 * with them. -1/EINVAL for a pointer lyra_pkt_alloc did not return. */
int lyra_pkt_free(struct lyra_stack *s, void *p);

/* Loans (issue 12.3): received payload read in place, no copy. On TCP and
 * UDP sockets (others: EOPNOTSUPP), lyra_recv_loan fills *loan with one
 * contiguous piece of one received buffer and returns its length: TCP the
 * next bytes in order (a buffer of several pieces gives several loans; a
 * loan stops at the urgent mark as a read), leaving the receive queue as
 * if read, so the window opens; UDP one whole datagram (the source is not
 * reported: use recvfrom for that). 0 at a stream's end. Blocking and
 * non-blocking as recv (MSG_DONTWAIT, O_NONBLOCK, SO_RCVTIMEO); flags
 * other than MSG_DONTWAIT: EOPNOTSUPP. A socket holds at most
 * SO_LYRA_LOAN_MAX loans (setsockopt SOL_SOCKET, int 1..1024, default 8):
 * one more fails at once with ENOBUFS (only returns free them), so an
 * application cannot drain the stack's buffer pool. The bytes stay valid
 * and unchanged until lyra_loan_return, which every loan needs exactly
 * once, also after its socket was closed (never after lyra_stack_destroy).
 * Counted in the transport's rx_loaned_bytes. */
struct lyra_loan {
    const void *data;
    size_t len;
    struct lyra_l4_loan handle; /* opaque: the stack's */
};
#define SO_LYRA_LOAN_MAX 0x4c01 /* no Linux option has this number */
ssize_t lyra_recv_loan(struct lyra_stack *s, int fd, struct lyra_loan *loan, int flags);
/* 0; -1/EINVAL for a loan that is not out (returned already, or never lent). */
int lyra_loan_return(struct lyra_stack *s, struct lyra_loan *loan);
/* lyra_loan_return of the loan *loan holds, if any, then lyra_recv_loan
 * into it, in one call: a reading loop's one entry into the stack per
 * piece instead of two. *loan holds a loan when loan->handle.skb is set:
 * lent by lyra_recv_loan or lyra_loan_next and not returned; a zeroed or
 * returned struct holds none, nor does one lyra_recv_loan failed on.
 * Flags and results as lyra_recv_loan. The held loan goes back first,
 * also when nothing is lent then (EAGAIN, the end, an error: the struct
 * then holds none); a call refused before that (EFAULT, EOPNOTSUPP for a
 * flag, EINVAL for a handle the stack did not fill, EINVAL/EAFNOSUPPORT
 * for a stack without sockets) leaves the struct as it was: after a
 * failure, loan->handle.skb says whether a loan is still out. */
ssize_t lyra_loan_next(struct lyra_stack *s, int fd, struct lyra_loan *loan, int flags);

#ifdef __cplusplus
}
#endif
#endif
