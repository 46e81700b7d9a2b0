/*
 * The checks of the SDK layout test (tests/sdk/layout_check.c and
 * tests/sdk/layout_one.c), written so the same source builds as C99 and as
 * C++14 with -Wall -Wextra -Werror -pedantic.
 *
 * Each tests/sdk/layout/check_<header>.h is a table of expected figures for
 * one header of the Vonage Video Linux SDK 2.32, as laid out by gcc on
 * x86_64 (LP64), one macro a line:
 *
 *   LC_STRUCT(name, size, align)        sizeof and alignment of struct name
 *   LC_FIELD(struct, field, off, size)  offsetof and sizeof of one field
 *   LC_ENUM_TYPE(name)                  enum name is declared
 *   LC_ENUM(enum, member, value)        member's value; the member is
 *                                       assigned to a variable of type
 *                                       `enum enum`, which C++ refuses (and
 *                                       gcc's -Wenum-conversion in C) when
 *                                       it belongs to another enum or is a
 *                                       plain macro
 *   LC_MACRO(name, value)               an object-like macro's value
 *   LC_TYPEDEF(name)                    the typedef name is declared
 *   LC_TYPEDEF_SIZE(name, size)         ... and has this size
 *
 * A name that <opentok.h> does not declare is a compile error, and the
 * compiler's message names it (that is what the per-group builds are for).
 * A figure that differs is a runtime failure: every one is printed, by name,
 * with what was found and what was expected, and counted; the program ends
 * with "N passed, M failed" and exits non-zero when anything failed.
 * LAYOUT_VERBOSE=1 in the environment prints the checks that pass too.
 * The helpers are `static inline`, so a group that uses only some of them
 * builds alone without unused-function warnings.
 */
#ifndef OTC_SDK_LAYOUT_CHECK_H
#define OTC_SDK_LAYOUT_CHECK_H

#include <opentok.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

static int lc_passed, lc_failed;
static int lc_group_passed, lc_group_failed;
static const char *lc_group_name;
static int lc_verbose = -1;

static inline void lc_group_end(void) {
    if (lc_group_name == NULL) return;
    if (lc_group_failed == 0) {
        printf("group %-30s %3d checks, all as in the SDK\n", lc_group_name, lc_group_passed);
    } else {
        printf("group %-30s %3d checks, %d DIFFER from the SDK\n", lc_group_name,
               lc_group_passed + lc_group_failed, lc_group_failed);
    }
    lc_group_name = NULL;
}

/* Starts the checks of one SDK header (and ends the previous group's). */
static inline void lc_group(const char *header) {
    lc_group_end();
    lc_group_name = header;
    lc_group_passed = 0;
    lc_group_failed = 0;
}

/* One figure: `what` names it ("sizeof(struct otc_audio_data)"). */
static inline void lc_expect(const char *what, long long found, long long expected) {
    if (lc_verbose < 0) {
        const char *v = getenv("LAYOUT_VERBOSE");
        lc_verbose = v != NULL && v[0] == '1';
    }
    if (found == expected) {
        lc_passed++;
        lc_group_passed++;
        if (lc_verbose) printf("ok   %s: %s == %lld\n", lc_group_name, what, expected);
    } else {
        lc_failed++;
        lc_group_failed++;
        printf("FAIL %s: %s is %lld, the SDK's is %lld\n", lc_group_name, what, found, expected);
    }
}

/* A check whose only test is that it compiled. */
static inline void lc_declared(const char *what) {
    lc_expect(what, 1, 1);
}

static inline int lc_finish(void) {
    lc_group_end();
    printf("%d passed, %d failed\n", lc_passed, lc_failed);
    fflush(stdout);
    return lc_failed == 0 && lc_passed > 0 ? 0 : 1;
}

#define LC_STRUCT(s, size, align)                                                        \
    do {                                                                                 \
        struct lc_align_probe {                                                          \
            char before;                                                                 \
            struct s value;                                                              \
        };                                                                               \
        lc_expect("sizeof(struct " #s ")", (long long)sizeof(struct s), (size));         \
        lc_expect("alignment of struct " #s, (long long)offsetof(struct lc_align_probe, value), \
                  (align));                                                              \
    } while (0)

#define LC_FIELD(s, f, off, size)                                                          \
    do {                                                                                   \
        lc_expect("offsetof(struct " #s ", " #f ")", (long long)offsetof(struct s, f), (off)); \
        lc_expect("sizeof(struct " #s "." #f ")", (long long)sizeof(((struct s *)NULL)->f),  \
                  (size));                                                                 \
    } while (0)

#define LC_ENUM_TYPE(e)                                        \
    do {                                                       \
        (void)sizeof(enum e);                                  \
        lc_declared("enum " #e " is declared");                \
    } while (0)

#define LC_ENUM(e, m, value)                                   \
    do {                                                       \
        enum e lc_member = m;                                  \
        lc_expect("enum " #e " member " #m, (long long)lc_member, (value)); \
    } while (0)

#define LC_MACRO(name, value) lc_expect("macro " #name, (long long)(name), (value))

#define LC_TYPEDEF(t)                                          \
    do {                                                       \
        (void)sizeof(t *);                                     \
        lc_declared("typedef " #t " is declared");             \
    } while (0)

#define LC_TYPEDEF_SIZE(t, size) lc_expect("sizeof(" #t ")", (long long)sizeof(t), (size))

/* config.h: the declaration macros expand as in the SDK (the group also
 * declares a function with them at file scope). */
#define LC_DECL_MACROS()                                                   \
    do {                                                                   \
        OTC_DEF(int) lc_defined = 1;                                       \
        lc_expect("OTC_DEF(int) declares an int", (long long)sizeof lc_defined, \
                  (long long)sizeof(int));                                 \
        lc_declared("OTC_BEGIN_DECL, OTC_DECL(type), OTC_END_DECL, "       \
                    "LIBOPENTOK_LIBRARY_EXPORTED declare a function");     \
    } while (0)

#endif
