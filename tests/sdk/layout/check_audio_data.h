/*
 * Group audio_data.h of tests/sdk/layout_check.c: what the Vonage Video Linux SDK
 * 2.32 declares in <opentok/audio_data.h>, with its x86_64 (LP64) figures, which
 * our <opentok.h> must match (the macros are described in layout_check.h).
 * A name our header lacks fails the build of this group, and the compiler
 * names it; scripts/sdk-style-tests.sh builds each group alone too
 * (tests/sdk/layout_one.c), so the groups that do build still run.
 */
static void lc_check_audio_data(void) {
    lc_group("audio_data.h");
    LC_STRUCT(otc_audio_data, 32, 8);
    LC_FIELD(otc_audio_data, sample_buffer, 0, 8);
    LC_FIELD(otc_audio_data, bits_per_sample, 8, 4);
    LC_FIELD(otc_audio_data, sample_rate, 12, 4);
    LC_FIELD(otc_audio_data, number_of_channels, 16, 8);
    LC_FIELD(otc_audio_data, number_of_samples, 24, 8);
}
