/*
 * Group config.h of tests/sdk/layout_check.c: what the Vonage Video Linux SDK
 * 2.32 declares in <opentok/config.h>, with its x86_64 (LP64) figures, which
 * our <opentok.h> must match (the macros are described in layout_check.h).
 * A name our header lacks fails the build of this group, and the compiler
 * names it; scripts/sdk-style-tests.sh builds each group alone too
 * (tests/sdk/layout_one.c), so the groups that do build still run.
 */
/* The declaration macros, used the way the SDK's own headers use them. */
OTC_BEGIN_DECL
OTC_DECL(int) lc_config_declared_with_otc_decl(void);
OTC_END_DECL

static void lc_check_config(void) {
    lc_group("config.h");
    LC_DECL_MACROS();
    LC_MACRO(IS_MAC_OS, 0);
    LC_MACRO(IS_LINUX, 0);
}
