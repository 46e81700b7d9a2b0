// Event arguments. The Windows SDK's samples name them as nested classes of
// Session (Session.SignalEventArgs ...), its signaling guide without the
// prefix (SignalEventArgs): the nested classes derive from these, so a
// handler declared with either name subscribes to the Session's events.
using System;

namespace OpenTok
{
    /// <summary>A signal arrived.</summary>
    public class SignalEventArgs : EventArgs
    {
        /// <summary>The signal's type ("" if it has none).</summary>
        public string Type { get; private set; }

        /// <summary>The signal's data ("" if it has none).</summary>
        public string Data { get; private set; }

        /// <summary>The sender; null for a signal sent by the application
        /// server through the REST API.</summary>
        public Connection Connection { get; private set; }

        internal SignalEventArgs(string type, string data, Connection connection)
        {
            Type = type;
            Data = data;
            Connection = connection;
        }
    }

    /// <summary>A connection joined or left the session.</summary>
    public class ConnectionEventArgs : EventArgs
    {
        public Connection Connection { get; private set; }

        internal ConnectionEventArgs(Connection connection)
        {
            Connection = connection;
        }
    }

    /// <summary>Something failed (see Session.Error).</summary>
    public class ErrorEventArgs : EventArgs
    {
        /// <summary>The SDK's code, e.g. ErrorCode.AuthorizationFailure (1004).</summary>
        public ErrorCode ErrorCode { get; private set; }

        /// <summary>What the library says about it.</summary>
        public string Message { get; private set; }

        internal ErrorEventArgs(ErrorCode code, string message)
        {
            ErrorCode = code;
            Message = message;
        }
    }

    public sealed partial class Session
    {
        public sealed class SignalEventArgs : OpenTok.SignalEventArgs
        {
            internal SignalEventArgs(string type, string data, Connection connection)
                : base(type, data, connection) { }
        }

        public sealed class ConnectionEventArgs : OpenTok.ConnectionEventArgs
        {
            internal ConnectionEventArgs(Connection connection) : base(connection) { }
        }

        public sealed class ErrorEventArgs : OpenTok.ErrorEventArgs
        {
            internal ErrorEventArgs(ErrorCode code, string message) : base(code, message) { }
        }
    }
}
