/*
 * Group media_utils.h of tests/sdk/layout_check.c: what the Vonage Video Linux SDK
 * 2.32 declares in <opentok/media_utils.h>, with its x86_64 (LP64) figures, which
 * our <opentok.h> must match (the macros are described in layout_check.h).
 * A name our header lacks fails the build of this group, and the compiler
 * names it; scripts/sdk-style-tests.sh builds each group alone too
 * (tests/sdk/layout_one.c), so the groups that do build still run.
 */
static void lc_check_media_utils(void) {
    lc_group("media_utils.h");
    LC_STRUCT(otc_media_utils_codecs, 32, 8);
    LC_FIELD(otc_media_utils_codecs, number_encoder_video_codecs, 0, 8);
    LC_FIELD(otc_media_utils_codecs, encoder_video_codecs, 8, 8);
    LC_FIELD(otc_media_utils_codecs, number_decoder_video_codecs, 16, 8);
    LC_FIELD(otc_media_utils_codecs, decoder_video_codecs, 24, 8);
    LC_ENUM_TYPE(otc_video_codec_type);
    LC_ENUM(otc_video_codec_type, OTC_VIDEO_CODEC_VP8, 1);
    LC_ENUM(otc_video_codec_type, OTC_VIDEO_CODEC_H264, 2);
    LC_TYPEDEF(otc_video_codec_type);
    LC_TYPEDEF(otc_media_utils_codecs);
}
