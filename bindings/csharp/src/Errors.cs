// The SDK's numeric codes (the enums of include/opentok.h) and the
// exception the binding throws when a C function refuses a call.
using System;

namespace OpenTok
{
    /// <summary>
    /// The codes libopentok returns and reports, with the same numbers as the
    /// Vonage Video SDK (otc_session_error_code, otc_signal_error_code ...).
    /// A code not listed here is still passed on, as its number.
    /// </summary>
    public enum ErrorCode
    {
        Success = 0,
        InvalidParam = 1,
        Fatal = 2,
        AuthorizationFailure = 1004,
        InvalidSession = 1005,
        ConnectionFailed = 1006,
        NotConnected = 1010,
        NullOrInvalidParameter = 1011,
        IllegalState = 1015,
        StateFailed = 1020,
        ConnectionTimedOut = 1021,
        ConnectionDropped = 1022,
        ConnectionRefused = 1023,
        BlockedCountry = 1026,
        ConnectionLimitExceeded = 1027,
        SignalDataTooLong = 1413,
        SignalTypeTooLong = 1414,
        InvalidSignalType = 1461,
        NoMessagingServer = 1503,
        UnableToForceDisconnect = 1520,
        UnableToSendSignal = 1550,
        SignalTargetNotConnected = 1600,
        SignalPermissionDenied = 1601,
        SignalRateLimited = 1602,
        SignalBufferFull = 1603,
        SignalProtocolError = 1604,
        InternalError = 2000,
        UnableToAccessMediaEngine = 5000,
        EncryptionSecretMissing = 6000,
        InvalidEncryptionSecret = 6004,
    }

    /// <summary>
    /// A call into libopentok failed. <see cref="ErrorCode"/> is the SDK's
    /// code (e.g. 1414, <c>ErrorCode.SignalTypeTooLong</c>); the message
    /// says what was being done.
    /// </summary>
    public class OpenTokException : Exception
    {
        public ErrorCode ErrorCode { get; private set; }

        public OpenTokException(ErrorCode code, string message)
            : base(Describe(code, message))
        {
            ErrorCode = code;
        }

        internal static string Describe(ErrorCode code, string what)
        {
            string name = Enum.IsDefined(typeof(ErrorCode), code) ? code.ToString() : "code";
            string why = Why(code);
            return why == null
                ? string.Format("{0} ({1}): {2}", name, (int)code, what)
                : string.Format("{0} ({1}): {2}: {3}", name, (int)code, what, why);
        }

        private static string Why(ErrorCode code)
        {
            switch (code)
            {
                case ErrorCode.SignalDataTooLong: return "the data is longer than 8192 bytes of UTF-8";
                case ErrorCode.SignalTypeTooLong: return "the type is longer than 128 characters";
                case ErrorCode.InvalidSignalType: return "the type may only have letters, digits, '-', '_' and '~'";
                case ErrorCode.NotConnected: return "the session is not connected (or is reconnecting, and retryAfterReconnect is false)";
                case ErrorCode.NullOrInvalidParameter: return "an argument is null, empty or invalid";
                case ErrorCode.IllegalState: return "not possible in the session's current state";
                case ErrorCode.SignalTargetNotConnected: return "a target connection is not in the session; nobody got the signal";
                case ErrorCode.SignalPermissionDenied: return "this connection's role may not signal";
                case ErrorCode.SignalRateLimited: return "too many signals in too short a time";
                case ErrorCode.SignalBufferFull: return "too many signals wait for the server's answer";
                default: return null;
            }
        }

        /// <summary>Throws for a status other than OTC_SUCCESS.</summary>
        internal static void Check(int status, string what)
        {
            if (status != 0) throw new OpenTokException((ErrorCode)status, what);
        }
    }
}
