/* SO_RCVTIMEO / SO_SNDTIMEO values at the edges, each in a child process
 * (an UBSan report aborts it). Linux takes any tv_sec >= 0 (a huge one is
 * "forever"), and a negative tv_sec as 0 (forever); EDOM only for tv_usec
 * outside [0, 1000000).
 *
 *   sockopt_edge                                                           */
#include <limits.h>
#include <sys/wait.h>

#include "stress.h"

static int failed;

static void one(const char *what, time_t sec, suseconds_t usec)
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        struct lyra_stack *s = fake_stack(4);
        int fd = fake_bound(s, 1000);
        struct timeval tv = {sec, usec};
        errno = 0;
        int r = lyra_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        int e = errno;
        struct timeval got = {0, 0};
        socklen_t gl = sizeof(got);
        lyra_getsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &got, &gl);
        printf("%-34s setsockopt -> %d%s%s, getsockopt -> {%lld, %ld}\n", what, r,
               r ? " errno " : "", r ? strerror(e) : "", (long long)got.tv_sec,
               (long)got.tv_usec);
        fflush(stdout);
        lyra_stack_destroy(s);
        /* a timeout beyond what 64-bit ns hold is "forever" (0), as Linux */
        _exit(sec >= 9223372036LL && (r != 0 || got.tv_sec != 0 || got.tv_usec != 0) ? 2 : 0);
    }
    int st;
    waitpid(p, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        failed = 1;
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        printf("%-34s child died (%s %d): see the sanitizer report above\n", what,
               WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

int main(void)
{
    one("{1, 500000}", 1, 500000);
    one("{9223372036, 0} (largest that fits)", 9223372036LL, 0);
    one("{9223372037, 0}", 9223372037LL, 0);
    one("{LONG_MAX, 0}", LONG_MAX, 0);
    one("{-1, 0}", -1, 0);
    one("{0, 1000000}", 0, 1000000);
    return failed;
}
