"""OpenTokError and the names of the SDK's numeric codes (from the enums of
include/opentok.h)."""

# Session and signal codes first: where another enum of the header reuses a
# value (1022, 1542, 1600, 1604 ...), the session/signal meaning is the one a
# session function returns.
CODES = {
    0: "OTC_SUCCESS",
    1: "OTC_INVALID_PARAM",
    2: "OTC_FATAL",
    1004: "OTC_SESSION_AUTHORIZATION_FAILURE",
    1005: "OTC_SESSION_INVALID_SESSION",
    1006: "OTC_SESSION_CONNECTION_FAILED",
    1010: "OTC_SESSION_NOT_CONNECTED",
    1011: "OTC_SESSION_NULL_OR_INVALID_PARAMETER",
    1015: "OTC_SESSION_ILLEGAL_STATE",
    1020: "OTC_SESSION_STATE_FAILED",
    1021: "OTC_SESSION_CONNECTION_TIMED_OUT",
    1022: "OTC_SESSION_CONNECTION_DROPPED",
    1023: "OTC_SESSION_CONNECTION_REFUSED",
    1026: "OTC_SESSION_BLOCKED_COUNTRY",
    1027: "OTC_SESSION_CONNECTION_LIMIT_EXCEEDED",
    1112: "OTC_SESSION_SUBSCRIBER_NOT_FOUND",
    1113: "OTC_SESSION_PUBLISHER_NOT_FOUND",
    1413: "OTC_SESSION_SIGNAL_DATA_TOO_LONG",
    1414: "OTC_SESSION_SIGNAL_TYPE_TOO_LONG",
    1461: "OTC_SESSION_INVALID_SIGNAL_TYPE",
    1503: "OTC_SESSION_NO_MESSAGING_SERVER",
    1520: "OTC_UNABLE_TO_FORCE_DISCONNECT",
    1535: "OTC_SESSION_FORCE_UNPUBLISH_OR_INVALID_STREAM",
    1540: "OTC_UNABLE_TO_FORCE_MUTE",
    1542: "OTC_CONNECTION_TIMED_OUT",
    1550: "OTC_SESSION_UNABLE_TO_SEND_SIGNAL",
    1600: "OTC_SIGNAL_TARGET_NOT_CONNECTED",
    1601: "OTC_SIGNAL_PERMISSION_DENIED",
    1602: "OTC_SIGNAL_RATE_LIMITED",
    1603: "OTC_SIGNAL_BUFFER_FULL",
    1604: "OTC_SIGNAL_PROTOCOL_ERROR",
    2000: "OTC_SESSION_INTERNAL_ERROR",
    2001: "OTC_SESSION_UNEXPECTED_GET_SESSION_INFO_REPONSE",
    5000: "OT_UNABLE_TO_ACCESS_MEDIA_ENGINE",
    6000: "OTC_SESSION_ENCRYPTION_SECRET_MISSING",
    6004: "OTC_SESSION_INVALID_ENCRYPTION_SECRET",
}

# Names as module constants too: opentok_signal.errors.OTC_SESSION_NOT_CONNECTED == 1010.
globals().update({name: code for code, name in CODES.items()})


def code_name(code):
    return CODES.get(code, f"OTC_UNKNOWN_{code}")


class OpenTokError(Exception):
    """A libopentok function failed (or a session reported an error).

    `code` is the SDK's number (e.g. 1414), `name` its enum name
    ("OTC_SESSION_SIGNAL_TYPE_TOO_LONG"), `message` what was being done."""

    def __init__(self, code, name=None, message=""):
        self.code = int(code)
        self.name = name or code_name(self.code)
        self.message = message
        super().__init__(f"{self.name} ({self.code}): {message}" if message else f"{self.name} ({self.code})")


def check(status, what):
    if status != 0:
        raise OpenTokError(status, code_name(status), what)
    return status
