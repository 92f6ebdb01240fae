/* Linked into every Criterion test binary (lyra_add_test): ctest sets
 * LYRA_SOURCE_DIR, LYRA_BUILD_DIR and LYRA_COMPONENT_PATH; a binary run by
 * hand (build/tests/test_x --filter ...) gets the same defaults, the
 * directories of the build it belongs to, so it runs as under ctest. */
#include <stdlib.h>

__attribute__((constructor)) static void lyra_test_env_defaults(void)
{
    setenv("LYRA_SOURCE_DIR", LYRA_TEST_SOURCE_DIR, 0);
    setenv("LYRA_BUILD_DIR", LYRA_TEST_BUILD_DIR, 0);
    setenv("LYRA_COMPONENT_PATH", LYRA_TEST_COMPONENT_DIR, 0);
}
