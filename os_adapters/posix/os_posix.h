/* os_posix: the `os` interface on a Linux host.
 *
 * Component "os_posix" (lyra_component_os_posix), shared object
 * lyra_os_posix.so. Parameters: seed (unset: getrandom; set: a seeded PRNG,
 * reproducible), log_level (0 error, 1 warn, 2 info, 3 debug), max_fds
 * (descriptors that watch_fd can hold). */
#ifndef LYRA_OS_POSIX_H
#define LYRA_OS_POSIX_H

#include "lyra/component.h"
#include "lyra/os.h"

extern const struct lyra_component lyra_component_os_posix;

#endif
