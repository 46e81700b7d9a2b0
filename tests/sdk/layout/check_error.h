/*
 * Group error.h of tests/sdk/layout_check.c: what the Vonage Video Linux SDK
 * 2.32 declares in <opentok/error.h>, with its x86_64 (LP64) figures, which
 * our <opentok.h> must match (the macros are described in layout_check.h).
 * A name our header lacks fails the build of this group, and the compiler
 * names it; scripts/sdk-style-tests.sh builds each group alone too
 * (tests/sdk/layout_one.c), so the groups that do build still run.
 */
static void lc_check_error(void) {
    lc_group("error.h");
    LC_ENUM_TYPE(otc_error);
    LC_ENUM(otc_error, OTC_GENERIC_ERROR, 0);
}
