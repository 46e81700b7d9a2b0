//! `otc_log_*`: the application controls the library's logging.

use super::boundary::ffi;
use super::{otc_log_level, otc_logger_callback, OTC_LOG_LEVEL_DEBUG, OTC_LOG_LEVEL_DISABLED};
use crate::log;

/// Sends the library's log messages to `callback` (one formatted line per
/// call, on whichever thread logs; the string is valid during the call).
/// NULL sends them back to stderr. May be called before `otc_init`.
#[no_mangle]
pub extern "C" fn otc_log_set_logger_callback(callback: otc_logger_callback) {
    ffi!({
        log::set_callback(callback);
        Ok(())
    })
}

/// Sets the verbosity: messages of `log_level` and more severe are emitted
/// (`OTC_LOG_LEVEL_ERROR`, `_WARN`, `_INFO`, `_DEBUG`; `_FATAL` is `_ERROR`,
/// and `_MSG`, `_TRACE`, `_ALL` are `_DEBUG`, as in the SDK);
/// `OTC_LOG_LEVEL_DISABLED` (the default) turns logging off. A value that is
/// not an `enum otc_log_level` member is ignored (and reported on stderr).
/// May be called before `otc_init`.
#[no_mangle]
pub extern "C" fn otc_log_enable(log_level: otc_log_level) {
    ffi!({
        if (OTC_LOG_LEVEL_DISABLED..=OTC_LOG_LEVEL_DEBUG).contains(&log_level) {
            log::set_threshold(log_level);
        } else {
            eprintln!("opentok: otc_log_enable: {log_level} is not an otc_log_level; ignored");
        }
        Ok(())
    })
}

/// The current verbosity.
#[no_mangle]
pub extern "C" fn otc_get_log_level() -> otc_log_level {
    ffi!(or OTC_LOG_LEVEL_DISABLED, { Ok(log::threshold()) })
}
