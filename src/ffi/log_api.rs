//! `otc_log_*`: the application controls the library's logging.

use super::boundary::ffi;
use super::{otc_log_level, otc_log_level_arg, otc_logger_callback};
use crate::log;

const LEVELS: [otc_log_level; 9] = [
    otc_log_level::OTC_LOG_LEVEL_DISABLED,
    otc_log_level::OTC_LOG_LEVEL_FATAL,
    otc_log_level::OTC_LOG_LEVEL_ERROR,
    otc_log_level::OTC_LOG_LEVEL_WARN,
    otc_log_level::OTC_LOG_LEVEL_INFO,
    otc_log_level::OTC_LOG_LEVEL_DEBUG,
    otc_log_level::OTC_LOG_LEVEL_MSG,
    otc_log_level::OTC_LOG_LEVEL_TRACE,
    otc_log_level::OTC_LOG_LEVEL_ALL,
];

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

/// Sets the verbosity: messages of `log_level` and more severe are emitted;
/// `OTC_LOG_LEVEL_DISABLED` (the default) turns logging off. A value that is
/// not an `enum otc_log_level` member is ignored (and reported on stderr).
/// May be called before `otc_init`.
#[no_mangle]
pub extern "C" fn otc_log_enable(log_level: otc_log_level_arg) {
    ffi!({
        if LEVELS.iter().any(|l| *l as i32 == log_level) {
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
    ffi!(or otc_log_level::OTC_LOG_LEVEL_DISABLED, {
        let current = log::threshold();
        Ok(LEVELS
            .iter()
            .copied()
            .find(|l| *l as i32 == current)
            .unwrap_or(otc_log_level::OTC_LOG_LEVEL_DISABLED))
    })
}
