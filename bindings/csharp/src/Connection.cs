using System;

namespace OpenTok
{
    /// <summary>
    /// A participant of a session. The C object a callback is given lives
    /// only while that callback runs, so its id, data and creation time are
    /// copied out into this object, which stays valid for good.
    /// </summary>
    public sealed class Connection : IEquatable<Connection>
    {
        /// <summary>The connection id, unique within the session.</summary>
        public string Id { get; private set; }

        /// <summary>Same as <see cref="Id"/> (the spelling some SDK documentation uses).</summary>
        public string ID { get { return Id; } }

        /// <summary>The data of the token the connection joined with ("" if none).</summary>
        public string Data { get; private set; }

        /// <summary>When the connection joined (UTC); DateTime.MinValue when unknown.</summary>
        public DateTime CreationTime { get; private set; }

        /// <summary>The id of the session the connection belongs to.</summary>
        public string SessionId { get; private set; }

        internal Connection(string id, string data, DateTime creationTime, string sessionId)
        {
            Id = id;
            Data = data;
            CreationTime = creationTime;
            SessionId = sessionId;
        }

        /// <summary>Copies a C otc_connection (NULL gives null).</summary>
        internal static Connection FromNative(IntPtr c)
        {
            if (c == IntPtr.Zero) return null;
            long ms = Native.otc_connection_get_creation_time(c);
            DateTime created = ms > 0
                ? new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMilliseconds(ms)
                : DateTime.MinValue;
            return new Connection(
                Native.Text(Native.otc_connection_get_id(c)) ?? "",
                Native.Text(Native.otc_connection_get_data(c)) ?? "",
                created,
                Native.Text(Native.otc_connection_get_session_id(c)));
        }

        public bool Equals(Connection other)
        {
            return other != null && other.Id == Id && other.SessionId == SessionId;
        }

        public override bool Equals(object obj) { return Equals(obj as Connection); }

        public override int GetHashCode() { return Id.GetHashCode(); }

        public override string ToString() { return Id; }
    }
}
