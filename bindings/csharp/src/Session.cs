// OpenTok.Session: the Windows SDK's signaling API over libopentok's C API.
//
// Threads: every event is raised on the library's callback thread for the
// session, one at a time and in order (the Windows SDK raises them on the
// thread of its Context's dispatcher; there is none here). A handler that
// throws is reported on Console.Error and goes no further: nothing may
// unwind into C.
//
// Lifetime: the C callbacks are static delegates (never collected); each
// session's user_data is a weak GCHandle to it, so an abandoned Session can
// be finalized (which deletes the C session). From Connect until the
// session is disconnected it is also held by a static set, so a connected
// session keeps raising events even when the program keeps no reference.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace OpenTok
{
    public sealed partial class Session : IDisposable
    {
        /// <summary>Builds a Session with settings beyond the server URL, like
        /// the SDK's <c>new Session.Builder(context, apiKey, sessionId).Build()</c>
        /// (there is no Context here).</summary>
        public sealed class Builder
        {
            private readonly string _apiKey, _sessionId;

            /// <summary>The server (http, https, ws or wss URL of otc-server);
            /// null: the library's default (OTC_SERVER_URL, else 127.0.0.1:4443).</summary>
            public string ServerUrl { get; set; }

            /// <summary>No ConnectionCreated/ConnectionDropped events (the SDK's
            /// connection events suppression).</summary>
            public bool ConnectionEventsSuppressed { get; set; }

            /// <summary>How long to try resuming a dropped link; null: as the server says.</summary>
            public TimeSpan? ReconnectionWindow { get; set; }

            /// <summary>A PEM file of CA certificates to trust for https/wss.</summary>
            public string CaFile { get; set; }

            public Builder(string apiKey, string sessionId)
            {
                _apiKey = apiKey;
                _sessionId = sessionId;
            }

            public Session Build()
            {
                return new Session(_apiKey, _sessionId, this);
            }
        }

        // --- events (the SDK's names) -----------------------------------------

        /// <summary>This client joined the session (Connection is set).</summary>
        public event EventHandler Connected;
        /// <summary>This client left the session, or could not join or resume.</summary>
        public event EventHandler Disconnected;
        /// <summary>Another connection joined (also raised for those already there).</summary>
        public event EventHandler<ConnectionEventArgs> ConnectionCreated;
        /// <summary>Another connection left.</summary>
        public event EventHandler<ConnectionEventArgs> ConnectionDropped;
        /// <summary>A signal arrived (our own broadcasts come back too).</summary>
        public event EventHandler<SignalEventArgs> Signal;
        /// <summary>The link dropped; the library is resuming the same connection.</summary>
        public event EventHandler ReconnectionStart;
        /// <summary>The connection was resumed; signals sent meanwhile follow.</summary>
        public event EventHandler ReconnectionSuccess;
        /// <summary>Something failed: connecting (then Disconnected follows), a
        /// link that could not be resumed, signals that could not be sent.</summary>
        public event EventHandler<ErrorEventArgs> Error;

        // --- state ------------------------------------------------------------

        private IntPtr _ptr;
        private GCHandle _self; // weak; the C user_data
        private readonly object _lock = new object();

        /// <summary>The session id.</summary>
        public string Id { get; private set; }

        /// <summary>The API key the session was built with.</summary>
        public string ApiKey { get; private set; }

        /// <summary>Creates a session (not connected yet). serverUrl is this
        /// binding's addition to the SDK's constructor; null means the
        /// library's default.</summary>
        public Session(string apiKey, string sessionId, string serverUrl = null)
            : this(apiKey, sessionId, new Builder(apiKey, sessionId) { ServerUrl = serverUrl }) { }

        private Session(string apiKey, string sessionId, Builder b)
        {
            Library.Init();
            IntPtr settings = Native.otc_session_settings_new();
            if (settings == IntPtr.Zero)
                throw new OpenTokException(ErrorCode.InternalError, "otc_session_settings_new returned NULL");
            try
            {
                if (b.ServerUrl != null)
                    OpenTokException.Check(Native.otc_session_settings_set_server_url(settings, Native.Utf8(b.ServerUrl)),
                        "the server URL '" + b.ServerUrl + "' was refused (http, https, ws or wss)");
                if (b.ConnectionEventsSuppressed)
                    OpenTokException.Check(Native.otc_session_settings_set_connection_events_suppressed(settings, 1),
                        "otc_session_settings_set_connection_events_suppressed");
                if (b.ReconnectionWindow.HasValue)
                    OpenTokException.Check(Native.otc_session_settings_set_reconnection_window_ms(settings,
                        (long)b.ReconnectionWindow.Value.TotalMilliseconds), "the reconnection window was refused");
                if (b.CaFile != null)
                    OpenTokException.Check(Native.otc_session_settings_set_ca_file(settings, Native.Utf8(b.CaFile)),
                        "the CA file '" + b.CaFile + "' was refused");
                _self = GCHandle.Alloc(this, GCHandleType.Weak);
                Native.SessionCallbacks cb = Trampolines.Table(GCHandle.ToIntPtr(_self));
                _ptr = Native.otc_session_new_with_settings(Native.Utf8(apiKey), Native.Utf8(sessionId), ref cb, settings);
            }
            finally
            {
                Native.otc_session_settings_delete(settings);
            }
            if (_ptr == IntPtr.Zero)
            {
                if (_self.IsAllocated) _self.Free();
                GC.SuppressFinalize(this);
                throw new OpenTokException(ErrorCode.NullOrInvalidParameter,
                    "otc_session_new_with_settings returned NULL (an empty or invalid API key or session id)");
            }
            ApiKey = apiKey;
            Id = sessionId;
        }

        ~Session()
        {
            Release(false);
        }

        private IntPtr Handle
        {
            get
            {
                IntPtr p = _ptr;
                if (p == IntPtr.Zero) throw new ObjectDisposedException("OpenTok.Session");
                return p;
            }
        }

        /// <summary>This client's own connection while connected (and while
        /// reconnecting), else null.</summary>
        public Connection Connection
        {
            get
            {
                IntPtr p = _ptr;
                return p == IntPtr.Zero ? null : Connection.FromNative(Native.otc_session_get_connection(p));
            }
        }

        // --- calls --------------------------------------------------------------

        /// <summary>Starts connecting: Connected follows, or Error then Disconnected.</summary>
        public void Connect(string token)
        {
            IntPtr p = Handle;
            Library.Hold(this);
            int st = Native.otc_session_connect(p, Native.Utf8(token));
            if (st != 0)
            {
                // Already connecting or connected: the hold stays for that
                // connection; otherwise nothing is under way.
                if (st != (int)ErrorCode.IllegalState) Library.Release(this);
                OpenTokException.Check(st, "Connect");
            }
        }

        /// <summary>Leaves the session; Disconnected follows.</summary>
        public void Disconnect()
        {
            OpenTokException.Check(Native.otc_session_disconnect(Handle), "Disconnect");
        }

        /// <summary>
        /// Sends a signal to one connection, or to everyone (this client
        /// included) when connection is null. type: up to 128 characters of
        /// letters, digits, '-', '_' and '~'; data: up to 8 KB. Bad input, or a
        /// session not connected, throws OpenTokException at once. While the
        /// session is reconnecting the signal is queued and sent once it is back,
        /// unless retryAfterReconnect is false: then it throws
        /// OpenTokException (ErrorCode.NotConnected) and is not sent.
        /// </summary>
        public void SendSignal(string type, string data, Connection connection = null, bool retryAfterReconnect = true)
        {
            var opts = new Native.SignalOptions { retry_after_reconnect = retryAfterReconnect ? 1 : 0 };
            if (connection == null)
            {
                OpenTokException.Check(Native.otc_session_send_signal_with_options(Handle, Native.Utf8(type), Native.Utf8(data), opts),
                    "SendSignal: the signal was not sent");
                return;
            }
            ulong ignored;
            Send(type, data, new[] { connection.Id }, opts, null, out ignored);
        }

        /// <summary>
        /// This binding's addition: sends a signal to everyone (this client
        /// included) and completes once the server has routed it, with the
        /// signal's id. The task fails with OpenTokException when the server
        /// refuses it or the session ends first. Bad input throws at once, as
        /// SendSignal.
        /// </summary>
        public Task<ulong> SendSignalAsync(string type, string data, bool retryAfterReconnect = true)
        {
            return SendAsync(type, data, null, retryAfterReconnect);
        }

        /// <summary>
        /// This binding's addition: sends a signal to a list of connections,
        /// all or nothing, and completes once the server has routed it, with
        /// the signal's id. The task fails with OpenTokException when the
        /// server refuses it (ErrorCode.SignalTargetNotConnected: one of them
        /// is not in the session, and nobody got it) or the session ends first.
        /// </summary>
        public Task<ulong> SendSignalAsync(string type, string data, IEnumerable<Connection> connections,
            bool retryAfterReconnect = true)
        {
            if (connections == null) throw new ArgumentNullException("connections", "no targets: for a broadcast, pass none");
            var ids = new List<string>();
            foreach (Connection c in connections)
            {
                if (c == null) throw new ArgumentNullException("connections", "a target connection is null");
                ids.Add(c.Id);
            }
            return SendAsync(type, data, ids.ToArray(), retryAfterReconnect);
        }

        /// <summary>As the other SendSignalAsync, with the targets given by connection id.</summary>
        public Task<ulong> SendSignalAsync(string type, string data, IEnumerable<string> connectionIds,
            bool retryAfterReconnect = true)
        {
            if (connectionIds == null) throw new ArgumentNullException("connectionIds", "no targets: for a broadcast, pass none");
            return SendAsync(type, data, new List<string>(connectionIds).ToArray(), retryAfterReconnect);
        }

        /// <summary>Our extension: sends a signal to the project's application
        /// server instead of the session (its callback URL or event stream gets
        /// it; no participant does). The task finishes with the signal id once
        /// the application server has it, or fails with OpenTokException: 1600
        /// (not listening), 1601 (it refused), 1603 (its queue was full), ...
        /// Bad input throws at once, as SendSignal does.</summary>
        public Task<ulong> SendSignalToServerAsync(string type, string data, bool retryAfterReconnect = true)
        {
            IntPtr p = Handle;
            var opts = new Native.SignalOptions { retry_after_reconnect = retryAfterReconnect ? 1 : 0 };
            var done = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
            long token = Trampolines.AddPending(this, done);
            ulong id;
            int st = Native.otc_session_send_signal_to_server(p, Native.Utf8(type), Native.Utf8(data), opts,
                Trampolines.Complete, new IntPtr(token), out id);
            if (st != 0)
            {
                Trampolines.TakePending(token);
                OpenTokException.Check(st, "SendSignalToServer: the signal was not sent");
            }
            return done.Task;
        }

        private Task<ulong> SendAsync(string type, string data, string[] ids, bool retryAfterReconnect)
        {
            if (ids != null && ids.Length == 0)
                throw new ArgumentException("an empty list of targets would mean everyone; pass none for a broadcast",
                    "connectionIds");
            var opts = new Native.SignalOptions { retry_after_reconnect = retryAfterReconnect ? 1 : 0 };
            var done = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
            ulong id;
            Send(type, data, ids, opts, done, out id);
            return done.Task;
        }

        private void Send(string type, string data, string[] ids, Native.SignalOptions opts,
            TaskCompletionSource<ulong> done, out ulong signalId)
        {
            IntPtr p = Handle;
            var strings = new IntPtr[ids == null ? 0 : ids.Length];
            long token = 0;
            try
            {
                for (int i = 0; i < strings.Length; i++)
                {
                    if (ids[i] == null) throw new ArgumentNullException("connectionIds", "a target connection id is null");
                    byte[] b = Native.Utf8(ids[i]);
                    strings[i] = Marshal.AllocHGlobal(b.Length);
                    Marshal.Copy(b, 0, strings[i], b.Length);
                }
                if (done != null) token = Trampolines.AddPending(this, done);
                int st = Native.otc_session_send_signal_to_connections(p, Native.Utf8(type), Native.Utf8(data),
                    strings.Length == 0 ? null : strings, (UIntPtr)strings.Length, opts,
                    done != null ? Trampolines.Complete : null, new IntPtr(token), out signalId);
                if (st != 0)
                {
                    if (done != null) Trampolines.TakePending(token);
                    OpenTokException.Check(st, "SendSignal: the signal was not sent");
                }
            }
            finally
            {
                foreach (IntPtr s in strings)
                    if (s != IntPtr.Zero) Marshal.FreeHGlobal(s);
            }
        }

        /// <summary>Deletes the C session (disconnecting it first if needed).
        /// No event is raised after this returns, unless it is called from an
        /// event handler of this session (that handler then finishes).</summary>
        public void Dispose()
        {
            Release(true);
            GC.SuppressFinalize(this);
        }

        private void Release(bool disposing)
        {
            IntPtr p;
            lock (_lock)
            {
                p = _ptr;
                _ptr = IntPtr.Zero;
            }
            if (p == IntPtr.Zero) return;
            Native.otc_session_delete(p);
            if (_self.IsAllocated) _self.Free();
            if (disposing)
            {
                Library.Release(this);
                Trampolines.FailPending(this);
            }
        }

        // --- raising events (on the library's thread) ----------------------------

        private static void Raise<T>(string name, Delegate handlers, object sender, T args) where T : EventArgs
        {
            if (handlers == null) return;
            foreach (Delegate d in handlers.GetInvocationList())
            {
                try
                {
                    var h1 = d as EventHandler<T>;
                    if (h1 != null) h1(sender, args);
                    else ((EventHandler)d)(sender, args);
                }
                catch (Exception e)
                {
                    try
                    {
                        Console.Error.WriteLine("OpenTok: a handler of Session." + name + " threw: " + e);
                    }
                    catch
                    {
                        // Console.Error itself failed: nothing more can be done.
                    }
                }
            }
        }

        internal void OnConnected() { Raise("Connected", Connected, this, EventArgs.Empty); }

        internal void OnDisconnected()
        {
            try
            {
                Raise("Disconnected", Disconnected, this, EventArgs.Empty);
            }
            finally
            {
                Library.Release(this);
            }
        }

        internal void OnConnectionCreated(Connection c) { Raise("ConnectionCreated", ConnectionCreated, this, new ConnectionEventArgs(c)); }
        internal void OnConnectionDropped(Connection c) { Raise("ConnectionDropped", ConnectionDropped, this, new ConnectionEventArgs(c)); }
        internal void OnSignal(string t, string d, Connection c) { Raise("Signal", Signal, this, new SignalEventArgs(t, d, c)); }
        internal void OnReconnectionStart() { Raise("ReconnectionStart", ReconnectionStart, this, EventArgs.Empty); }
        internal void OnReconnectionSuccess() { Raise("ReconnectionSuccess", ReconnectionSuccess, this, EventArgs.Empty); }
        internal void OnError(ErrorCode code, string message) { Raise("Error", Error, this, new ErrorEventArgs(code, message)); }
    }

    /// <summary>otc_init once per process, otc_destroy at its exit, and the
    /// set of sessions kept alive while connected.</summary>
    internal static class Library
    {
        private static readonly object Lock = new object();
        private static bool _initialized;
        private static readonly HashSet<Session> Live = new HashSet<Session>();

        internal static void Init()
        {
            lock (Lock)
            {
                if (_initialized) return;
                int st;
                try
                {
                    st = Native.otc_init(IntPtr.Zero);
                }
                catch (DllNotFoundException e)
                {
                    throw new DllNotFoundException(
                        "OpenTok: libopentok could not be loaded. Map \"opentok\" to its path with a <dllmap> in " +
                        "OpenTok.dll.config beside OpenTok.dll, or put libopentok.so on the loader's path " +
                        "(LD_LIBRARY_PATH, or make install + ldconfig).", e);
                }
                OpenTokException.Check(st, "otc_init failed");
                _initialized = true;
                AppDomain.CurrentDomain.ProcessExit += (s, e) =>
                {
                    lock (Lock)
                    {
                        if (!_initialized) return;
                        _initialized = false;
                    }
                    // Deletes the sessions still alive; no callback runs after it.
                    Native.otc_destroy();
                };
            }
        }

        internal static void Hold(Session s) { lock (Live) Live.Add(s); }
        internal static void Release(Session s) { lock (Live) Live.Remove(s); }
    }

    /// <summary>The C callbacks: static delegates (so the garbage collector
    /// never takes them) that find the Session from user_data.</summary>
    internal static class Trampolines
    {
        private static readonly Native.OnSession Connected = (s, u) => With(u, x => x.OnConnected());
        private static readonly Native.OnSession Disconnected = (s, u) => With(u, x => x.OnDisconnected());
        private static readonly Native.OnSession ReconnectionStarted = (s, u) => With(u, x => x.OnReconnectionStart());
        private static readonly Native.OnSession Reconnected = (s, u) => With(u, x => x.OnReconnectionSuccess());
        private static readonly Native.OnConnection Created = (s, u, c) =>
        {
            Connection conn = SafeCopy(c);
            With(u, x => x.OnConnectionCreated(conn));
        };
        private static readonly Native.OnConnection Dropped = (s, u, c) =>
        {
            Connection conn = SafeCopy(c);
            With(u, x => x.OnConnectionDropped(conn));
        };
        private static readonly Native.OnSignal SignalReceived = (s, u, t, d, c) =>
        {
            string type = null, data = null;
            Connection from = null;
            try
            {
                type = Native.Text(t) ?? "";
                data = Native.Text(d) ?? "";
                from = Connection.FromNative(c);
            }
            catch (Exception e)
            {
                Report("on_signal_received", e);
                return;
            }
            With(u, x => x.OnSignal(type, data, from));
        };
        private static readonly Native.OnError ErrorReported = (s, u, m, code) =>
        {
            string msg = null;
            try { msg = Native.Text(m) ?? ""; } catch (Exception e) { Report("on_error", e); }
            With(u, x => x.OnError((ErrorCode)code, msg ?? ""));
        };

        internal static readonly Native.OnSignalComplete Complete = (s, u, id, result, data) =>
        {
            try
            {
                TaskCompletionSource<ulong> done = TakePending(data.ToInt64());
                if (done == null) return;
                if (result == 0) done.TrySetResult(id);
                else done.TrySetException(new OpenTokException((ErrorCode)result,
                    "signal " + id + " was not delivered"));
            }
            catch (Exception e)
            {
                Report("on_complete", e);
            }
        };

        internal static Native.SessionCallbacks Table(IntPtr userData)
        {
            return new Native.SessionCallbacks
            {
                on_connected = Marshal.GetFunctionPointerForDelegate(Connected),
                on_disconnected = Marshal.GetFunctionPointerForDelegate(Disconnected),
                on_connection_created = Marshal.GetFunctionPointerForDelegate(Created),
                on_connection_dropped = Marshal.GetFunctionPointerForDelegate(Dropped),
                on_signal_received = Marshal.GetFunctionPointerForDelegate(SignalReceived),
                on_reconnection_started = Marshal.GetFunctionPointerForDelegate(ReconnectionStarted),
                on_reconnected = Marshal.GetFunctionPointerForDelegate(Reconnected),
                on_error = Marshal.GetFunctionPointerForDelegate(ErrorReported),
                user_data = userData,
            };
        }

        private static Connection SafeCopy(IntPtr c)
        {
            try { return Connection.FromNative(c); }
            catch (Exception e) { Report("a connection callback", e); return null; }
        }

        // Nothing thrown here may reach C.
        private static void With(IntPtr userData, Action<Session> f)
        {
            try
            {
                if (userData == IntPtr.Zero) return;
                var s = GCHandle.FromIntPtr(userData).Target as Session;
                if (s != null) f(s);
            }
            catch (Exception e)
            {
                Report("a session callback", e);
            }
        }

        private static void Report(string where, Exception e)
        {
            try { Console.Error.WriteLine("OpenTok: error in " + where + ": " + e); } catch { }
        }

        // Signals sent with a completion: token -> (owner, task source).
        private static readonly Dictionary<long, KeyValuePair<Session, TaskCompletionSource<ulong>>> Pending =
            new Dictionary<long, KeyValuePair<Session, TaskCompletionSource<ulong>>>();
        private static long _next;

        internal static long AddPending(Session s, TaskCompletionSource<ulong> done)
        {
            long token = Interlocked.Increment(ref _next);
            lock (Pending) Pending[token] = new KeyValuePair<Session, TaskCompletionSource<ulong>>(s, done);
            return token;
        }

        internal static TaskCompletionSource<ulong> TakePending(long token)
        {
            lock (Pending)
            {
                KeyValuePair<Session, TaskCompletionSource<ulong>> p;
                if (!Pending.TryGetValue(token, out p)) return null;
                Pending.Remove(token);
                return p.Value;
            }
        }

        /// <summary>After the C session is deleted no completion comes: what is
        /// still pending fails.</summary>
        internal static void FailPending(Session s)
        {
            var failed = new List<TaskCompletionSource<ulong>>();
            lock (Pending)
            {
                var tokens = new List<long>();
                foreach (var kv in Pending)
                    if (ReferenceEquals(kv.Value.Key, s)) tokens.Add(kv.Key);
                foreach (long t in tokens)
                {
                    failed.Add(Pending[t].Value);
                    Pending.Remove(t);
                }
            }
            foreach (var d in failed)
                d.TrySetException(new OpenTokException(ErrorCode.NotConnected, "the session was disposed before the signal was sent"));
        }
    }
}
