/*
 * Group media_transformer.h of tests/sdk/layout_check.c: what the Vonage Video Linux SDK
 * 2.32 declares in <opentok/media_transformer.h>, with its x86_64 (LP64) figures, which
 * our <opentok.h> must match (the macros are described in layout_check.h).
 * A name our header lacks fails the build of this group, and the compiler
 * names it; scripts/sdk-style-tests.sh builds each group alone too
 * (tests/sdk/layout_one.c), so the groups that do build still run.
 */
static void lc_check_media_transformer(void) {
    lc_group("media_transformer.h");
    LC_ENUM_TYPE(otc_media_transformer_error_code);
    LC_ENUM(otc_media_transformer_error_code, OTC_MEDIA_TRANSFORMER_INTERNAL_ERROR, 167772160);
    LC_ENUM(otc_media_transformer_error_code, OTC_MEDIA_TRANSFORMER_INVALID_TYPE, 167772161);
    LC_ENUM(otc_media_transformer_error_code, OTC_MEDIA_TRANSFORMER_NAME_NOT_PROVIDED, 167772162);
    LC_ENUM(otc_media_transformer_error_code, OTC_MEDIA_TRANSFORMER_CUSTOM_CALLBACK_NOT_PROVIDED, 167772163);
    LC_ENUM(otc_media_transformer_error_code, OTC_MEDIA_TRANSFORMER_PROPERTIES_NOT_PROVIDED, 167772164);
    LC_ENUM(otc_media_transformer_error_code, OTC_MEDIA_TRANSFORMER_MODEL_NOT_FOUND, 167772165);
    LC_ENUM(otc_media_transformer_error_code, OTC_MEDIA_TRANSFORMER_OPENTOK_TRANSFORMERS_LIBRARY_NOT_LOADED, 167772166);
    LC_ENUM(otc_media_transformer_error_code, OTC_MEDIA_TRANSFORMER_OPENTOK_TRANSFORMERS_SYMBOL_NOT_FOUND, 167772167);
    LC_ENUM_TYPE(otc_media_transformer_type);
    LC_ENUM(otc_media_transformer_type, OTC_MEDIA_TRANSFORMER_TYPE_CUSTOM, 0);
    LC_ENUM(otc_media_transformer_type, OTC_MEDIA_TRANSFORMER_TYPE_VONAGE, 1);
    LC_MACRO(OTC_MEDIA_TRANSFORMER_ERROR_SPACE, 167772160);
    LC_TYPEDEF(otc_video_transformer);
    LC_TYPEDEF(otc_audio_transformer);
    LC_TYPEDEF(video_transform_callback);
    LC_TYPEDEF(audio_transform_callback);
}
