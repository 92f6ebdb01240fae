/* os_posix: the `os` interface on a Linux host.
 *
 * Component "os_posix" (lyra_component_os_posix), shared object
 * lyra_os_posix.so. Parameters: seed (unset: getrandom; set: a seeded PRNG,
 * reproducible), log_level (0 error, 1 warn, 2 info, 3 debug), max_fds
 * (descriptors that watch_fd can hold; each open link uses 1 to 3).
 * Links (os 1.1): wire:NAME and tap:IFNAME, see link_wire.c, link_tap.c and
 * link_impair.c; stats link_tx, link_rx, link_drop_full, link_drop_nopeer,
 * link_drop_size, link_loss, link_dup, link_reorder, link_corrupt and, for
 * what links receive, link_rx_loss, link_rx_dup, link_rx_reorder,
 * link_rx_corrupt, link_rx_drop_full. */
#ifndef LYRA_OS_POSIX_H
#define LYRA_OS_POSIX_H

#include "lyra/component.h"
#include "lyra/os.h"

extern const struct lyra_component lyra_component_os_posix;

#endif
