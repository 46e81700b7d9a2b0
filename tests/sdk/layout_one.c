/*
 * One group of the layout test on its own, so that a group whose names our
 * header lacks (a compile error) does not keep the others from running.
 * scripts/sdk-style-tests.sh builds it once per group, as C99 and as C++14:
 *
 *   cc -std=c99 ... -DLC_GROUP_FILE='"layout/check_base.h"' \
 *      -DLC_GROUP_FUNCTION=lc_check_base tests/sdk/layout_one.c
 */
#include "layout_check.h"

#include LC_GROUP_FILE

int main(void) {
    LC_GROUP_FUNCTION();
    return lc_finish();
}
