/* Linked into every Criterion test binary (lyra_add_test): a run in which
 * tests were skipped and none failed exits 77, which ctest (SKIP_RETURN_CODE)
 * reports as a skip, never as a pass. Criterion's main returns 0 after its
 * summary, so the status is changed at exit. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int skipped_clean;
static size_t skipped_by_test; /* cr_skip_test; --filter's exclusions are not counted */

/* Criterion prints a skip's reason only under --verbose: print it always. */
ReportHook(POST_TEST)(struct criterion_test_stats *st)
{
    if (st->test_status != CR_STATUS_SKIPPED)
        return;
    skipped_by_test++;
    fprintf(stderr, "[SKIP] %s::%s: %s\n", st->test->category, st->test->name,
            st->message ? st->message : "(no reason given)");
}

static void exit_as_skip(void)
{
    if (skipped_clean) {
        fflush(NULL);
        _exit(77);
    }
}

ReportHook(POST_ALL)(struct criterion_global_stats *st)
{
    skipped_clean = skipped_by_test > 0 && st->tests_failed == 0 && st->tests_crashed == 0;
    if (skipped_clean)
        fprintf(stderr, "%zu test%s SKIPPED ([SKIP] lines say why); exit 77\n",
                skipped_by_test, skipped_by_test == 1 ? "" : "s");
    atexit(exit_as_skip);
}
