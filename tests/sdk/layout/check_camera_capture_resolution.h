/*
 * Group camera_capture_resolution.h of tests/sdk/layout_check.c: what the Vonage Video Linux SDK
 * 2.32 declares in <opentok/camera_capture_resolution.h>, with its x86_64 (LP64) figures, which
 * our <opentok.h> must match (the macros are described in layout_check.h).
 * A name our header lacks fails the build of this group, and the compiler
 * names it; scripts/sdk-style-tests.sh builds each group alone too
 * (tests/sdk/layout_one.c), so the groups that do build still run.
 */
static void lc_check_camera_capture_resolution(void) {
    lc_group("camera_capture_resolution.h");
    LC_ENUM_TYPE(otc_camera_capture_resolution);
    LC_ENUM(otc_camera_capture_resolution, OTC_CAMERA_CAPTURE_RESOLUTION_LOW, 0);
    LC_ENUM(otc_camera_capture_resolution, OTC_CAMERA_CAPTURE_RESOLUTION_MEDIUM, 1);
    LC_ENUM(otc_camera_capture_resolution, OTC_CAMERA_CAPTURE_RESOLUTION_HIGH, 2);
    LC_ENUM(otc_camera_capture_resolution, OTC_CAMERA_CAPTURE_RESOLUTION_1080P, 3);
}
