/* tap:IFNAME, a Linux TAP device: the kernel is the other end.
 *
 * Opens /dev/net/tun with IFF_TAP | IFF_NO_PI for IFNAME in the caller's
 * network namespace; the kernel creates the TAP when it is missing (that
 * needs CAP_NET_ADMIN, as does attaching to a TAP the caller does not own:
 * -EPERM then, with a log line saying so). Bringing the Linux side up and
 * addressing it is the caller's job. The descriptor is non-blocking and
 * watched, so a frame from Linux ends the loop's wait. Frames are read
 * whole into a buffer of the end, so a short `cap` is seen (-EMSGSIZE). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "link_int.h"

#define TAP_READ_MAX 65536u

struct tap {
    int fd;
    uint8_t buf[TAP_READ_MAX];
};

static void tap_log(struct os_posix *os, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void tap_log(struct os_posix *os, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    os_vlog(os, level, "os_posix", fmt, ap);
    va_end(ap);
}

static int tap_xmit(struct lyra_link *l, const void *f, size_t len)
{
    struct tap *t = l->be_state;
    ssize_t n = write(t->fd, f, len);
    if (n >= 0)
        return 0;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
        return -EAGAIN;
    /* EIO: the interface is down; the frame is gone as on a dead cable */
    return errno == EIO ? 0 : -errno;
}

static int tap_recv(struct lyra_link *l, void *buf, size_t cap)
{
    struct tap *t = l->be_state;
    ssize_t n = read(t->fd, t->buf, sizeof(t->buf));
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
    if ((size_t)n > cap)
        return -EMSGSIZE;
    memcpy(buf, t->buf, (size_t)n);
    return (int)n;
}

static void tap_close(struct lyra_link *l)
{
    struct tap *t = l->be_state;
    os_unwatch_fd(l->os, t->fd);
    close(t->fd);
    free(t);
}

static const struct link_backend tap_backend = {
    .kind = "tap",
    .xmit = tap_xmit,
    .recv = tap_recv,
    .close = tap_close,
};

int link_tap_open(struct lyra_link *l, const char *ifname)
{
    if (strlen(ifname) >= IFNAMSIZ) {
        tap_log(l->os, LYRA_LOG_ERROR,
                "link tap:%s: interface names have at most %d characters; pick a shorter one",
                ifname, IFNAMSIZ - 1);
        return -ENAMETOOLONG;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int r = -errno;
        if (r == -ENOENT || r == -ENODEV)
            tap_log(l->os, LYRA_LOG_ERROR,
                    "link tap:%s: /dev/net/tun is missing: %s (load the tun module: "
                    "modprobe tun; in a container, pass --device /dev/net/tun)",
                    ifname, strerror(-r));
        else if (r == -EACCES || r == -EPERM)
            tap_log(l->os, LYRA_LOG_ERROR,
                    "link tap:%s: no permission to open /dev/net/tun: %s (run as root or give "
                    "this user access to /dev/net/tun)",
                    ifname, strerror(-r));
        else
            tap_log(l->os, LYRA_LOG_ERROR, "link tap:%s: cannot open /dev/net/tun: %s", ifname,
                    strerror(-r));
        return r;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int r = -errno;
        close(fd);
        if (r == -EPERM)
            tap_log(l->os, LYRA_LOG_ERROR,
                    "link tap:%s: permission denied: creating a TAP or attaching to one "
                    "this user does not own needs CAP_NET_ADMIN (run as root, or create it "
                    "first: ip tuntap add dev %s mode tap user $USER)",
                    ifname, ifname);
        else if (r == -EBUSY)
            tap_log(l->os, LYRA_LOG_ERROR,
                    "link tap:%s: the TAP is already open in another process (or is not a "
                    "TAP: a TUN of that name); stop that process or use dev.link=tap:OTHERNAME",
                    ifname);
        else if (r == -EINVAL)
            tap_log(l->os, LYRA_LOG_ERROR,
                    "link tap:%s: the kernel refused the name or mode (%s); an interface of "
                    "that name that is not a TAP exists? use dev.link=tap:OTHERNAME",
                    ifname, strerror(-r));
        else
            tap_log(l->os, LYRA_LOG_ERROR, "link tap:%s: TUNSETIFF failed: %s", ifname,
                    strerror(-r));
        return r;
    }
    struct tap *t = malloc(sizeof(*t));
    if (!t) {
        close(fd);
        return -ENOMEM;
    }
    t->fd = fd;
    int r = os_watch_fd(l->os, fd);
    if (r) {
        free(t);
        close(fd);
        return r;
    }
    l->be = &tap_backend;
    l->be_state = t;
    return 0;
}
