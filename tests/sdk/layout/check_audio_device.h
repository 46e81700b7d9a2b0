/*
 * Group audio_device.h of tests/sdk/layout_check.c: what the Vonage Video Linux SDK
 * 2.32 declares in <opentok/audio_device.h>, with its x86_64 (LP64) figures, which
 * our <opentok.h> must match (the macros are described in layout_check.h).
 * A name our header lacks fails the build of this group, and the compiler
 * names it; scripts/sdk-style-tests.sh builds each group alone too
 * (tests/sdk/layout_one.c), so the groups that do build still run.
 */
static void lc_check_audio_device(void) {
    lc_group("audio_device.h");
    LC_STRUCT(otc_audio_device_settings, 8, 4);
    LC_FIELD(otc_audio_device_settings, sampling_rate, 0, 4);
    LC_FIELD(otc_audio_device_settings, number_of_channels, 4, 4);
    LC_STRUCT(otc_audio_device_callbacks, 160, 8);
    LC_FIELD(otc_audio_device_callbacks, init, 0, 8);
    LC_FIELD(otc_audio_device_callbacks, destroy, 8, 8);
    LC_FIELD(otc_audio_device_callbacks, init_capturer, 16, 8);
    LC_FIELD(otc_audio_device_callbacks, destroy_capturer, 24, 8);
    LC_FIELD(otc_audio_device_callbacks, start_capturer, 32, 8);
    LC_FIELD(otc_audio_device_callbacks, stop_capturer, 40, 8);
    LC_FIELD(otc_audio_device_callbacks, is_capturer_initialized, 48, 8);
    LC_FIELD(otc_audio_device_callbacks, is_capturer_started, 56, 8);
    LC_FIELD(otc_audio_device_callbacks, get_estimated_capture_delay, 64, 8);
    LC_FIELD(otc_audio_device_callbacks, get_capture_settings, 72, 8);
    LC_FIELD(otc_audio_device_callbacks, init_renderer, 80, 8);
    LC_FIELD(otc_audio_device_callbacks, destroy_renderer, 88, 8);
    LC_FIELD(otc_audio_device_callbacks, start_renderer, 96, 8);
    LC_FIELD(otc_audio_device_callbacks, stop_renderer, 104, 8);
    LC_FIELD(otc_audio_device_callbacks, is_renderer_initialized, 112, 8);
    LC_FIELD(otc_audio_device_callbacks, is_renderer_started, 120, 8);
    LC_FIELD(otc_audio_device_callbacks, get_estimated_render_delay, 128, 8);
    LC_FIELD(otc_audio_device_callbacks, get_render_settings, 136, 8);
    LC_FIELD(otc_audio_device_callbacks, user_data, 144, 8);
    LC_FIELD(otc_audio_device_callbacks, reserved, 152, 8);
    LC_TYPEDEF(otc_audio_device);
}
