// Tests of the C# binding against otc-server and the C chat example in the
// same sessions. Run by bindings/csharp/run-tests.sh, which says where the
// pieces are:
//   OTC_SERVER_BIN        otc-server
//   OTC_CHAT_BIN          c-examples/bin/chat
//   OTC_CS_README_EXE     README.md's C# snippet, compiled (doc-test: readme-csharp)
//   OTC_CS_CHAT_EXE       the C# chat example, compiled
// Prints one line per test and `csharp-tests: N passed, M failed`; exits 1
// when a test failed or none ran.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using OpenTok;
using static OpenTokTests.Harness;

namespace OpenTokTests
{
    internal static class Program
    {
        private static Server _server;
        private static string _chatBin, _readmeExe, _chatExe;

        private static string Env(string name)
        {
            string v = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(v)) throw new TestFailure(name + " is not set (run bindings/csharp/run-tests.sh)");
            return v;
        }

        private static int Main(string[] args)
        {
            var tests = new List<KeyValuePair<string, Action>>
            {
                T("own connection, disconnect", OwnConnectionAndDisconnect),
                T("broadcast both ways with the C client", BroadcastBothWays),
                T("targeted signals both ways, to the target only", TargetedSignals),
                T("SendSignalAsync: completion, unknown target", SendSignalAsyncCompletion),
                T("SendSignalToServerAsync: nobody listening is 1600", SendSignalToServer),
                T("REST signal has Connection == null", RestSignalHasNoSender),
                T("connection created and dropped", ConnectionCreatedAndDropped),
                T("bad input throws OpenTokException with the SDK's code", BadInput),
                T("not connected, bad arguments, disposed", NotConnectedAndArguments),
                T("refused token, unreachable server: Error then Disconnected", RefusedToken),
                T("a throwing handler is logged, events go on", ThrowingHandler),
                T("reconnection through a cut proxy", Reconnection),
                T("reconnection gives up after the ReconnectionWindow", ReconnectionGivesUp),
                T("Dispose from a handler; pending SendSignalAsync fails", DisposeFromHandler),
                T("a connected session nobody references keeps its events", UnreferencedConnectedSession),
                T("Session.Builder and handlers in the SDK's style", BuilderAndSdkStyleHandlers),
                T("README.md's C# snippet (doc-test: readme-csharp)", ReadmeSnippet),
                T("the C# chat example with the C chat client", ChatExample),
            };
            string only = Environment.GetEnvironmentVariable("CSHARP_TESTS_ONLY");
            int passed = 0, failed = 0;
            try
            {
                _chatBin = Env("OTC_CHAT_BIN");
                _readmeExe = Env("OTC_CS_README_EXE");
                _chatExe = Env("OTC_CS_CHAT_EXE");
                _server = new Server(Env("OTC_SERVER_BIN"));
            }
            catch (Exception e)
            {
                Console.WriteLine("csharp-tests: setup failed: " + e.Message);
                Console.WriteLine("csharp-tests: 0 passed, 1 failed");
                return 1;
            }
            foreach (var t in tests)
            {
                if (!string.IsNullOrEmpty(only) && !t.Key.Contains(only)) continue;
                var sw = Stopwatch.StartNew();
                try
                {
                    t.Value();
                    passed++;
                    Console.WriteLine("ok   {0} ({1:0.0} s)", t.Key, sw.Elapsed.TotalSeconds);
                }
                catch (Exception e)
                {
                    failed++;
                    Console.WriteLine("FAIL {0}: {1}", t.Key, e is TestFailure ? e.Message : e.ToString());
                }
            }
            _server.Dispose();
            if (_server.ExitCode != 0)
            {
                failed++;
                Console.WriteLine("FAIL otc-server did not shut down cleanly (exit {0})", _server.ExitCode);
            }
            Console.WriteLine("csharp-tests: {0} passed, {1} failed", passed, failed);
            return failed == 0 && passed > 0 ? 0 : 1;
        }

        private static KeyValuePair<string, Action> T(string name, Action f) { return new KeyValuePair<string, Action>(name, f); }

        // --- helpers -----------------------------------------------------------------

        private sealed class Joined : IDisposable
        {
            public Session S;
            public Recorder R;
            public void Dispose() { S.Dispose(); }
        }

        private static Joined Join(string sid, string data = null, string url = null)
        {
            var s = new Session(Server.ApiKey, sid, url ?? _server.Url);
            var r = new Recorder(s);
            s.Connect(_server.Token(sid, data));
            r.Expect("Connected");
            return new Joined { S = s, R = r };
        }

        private static Chat StartChat(string sid, string url = null)
        {
            return new Chat(_chatBin, url ?? _server.Url, sid, _server.Token(sid));
        }

        // --- tests ---------------------------------------------------------------------

        private static void OwnConnectionAndDisconnect()
        {
            string sid = _server.CreateSession();
            using (Joined a = Join(sid, "name=cs"))
            {
                Connection me = a.S.Connection;
                True(me != null, "Session.Connection is set once connected");
                True(me.Id.Length > 0, "own connection id");
                Equal("name=cs", me.Data, "own connection data");
                Equal(sid, me.SessionId, "own connection's session id");
                Equal(sid, a.S.Id, "Session.Id");
                True(me.CreationTime > new DateTime(2020, 1, 1) && me.CreationTime < DateTime.UtcNow.AddMinutes(5),
                    "creation time is a plausible UTC time: " + me.CreationTime.ToString("o"));
                True(a.R.All.All(e => e.Thread != Thread.CurrentThread.ManagedThreadId), "events arrive on the library's thread");
                a.S.Disconnect();
                a.R.Expect("Disconnected");
                True(a.S.Connection == null, "no own connection after Disconnected");
                // A disconnected session may connect again.
                a.S.Connect(_server.Token(sid));
                a.R.Expect("Connected");
                True(a.S.Connection != null && a.S.Connection.Id != me.Id, "a new connection the second time");
            }
        }

        private static void BroadcastBothWays()
        {
            string sid = _server.CreateSession();
            using (Joined a = Join(sid))
            using (Chat c = StartChat(sid))
            {
                string me = a.S.Connection.Id;
                Ev created = a.R.Expect("ConnectionCreated", e => e.Connection.Id == c.Id);
                Equal(sid, created.Connection.SessionId, "the created connection's session");
                c.Send("hi from C");
                Ev got = a.R.Expect("Signal", e => e.Type == "chat");
                Equal("hi from C", got.Data, "data from C");
                Equal(c.Id, got.Connection.Id, "sender of C's signal");

                a.S.SendSignal("chat", "hi from C# \u00e9\u20ac");
                c.Expect(@"^\[" + me + @"\] chat: hi from C# \u00e9\u20ac$");
                Ev own = a.R.Expect("Signal", e => e.Data.StartsWith("hi from C#"));
                Equal(me, own.Connection.Id, "our broadcast comes back to us, from us");
                Equal("hi from C# \u00e9\u20ac", own.Data, "UTF-8 both ways");
                // An empty type and empty data are allowed.
                a.S.SendSignal("", "");
                c.Expect(@"^\[" + me + @"\] : $");
            }
        }

        private static void TargetedSignals()
        {
            string sid = _server.CreateSession();
            using (Joined a = Join(sid))
            using (Joined b = Join(sid))
            using (Chat c = StartChat(sid))
            {
                string me = a.S.Connection.Id;
                Connection target = a.R.Expect("ConnectionCreated", e => e.Connection.Id == c.Id).Connection;
                a.S.SendSignal("private", "just for C", target);
                c.Expect(@"^\[" + me + " -> " + c.Id + @"\] private: just for C$");
                // b and a itself did not get it: a later broadcast arrives, the private one never did.
                a.S.SendSignal("marker", "after");
                b.R.Expect("Signal", e => e.Type == "marker");
                a.R.Expect("Signal", e => e.Type == "marker");
                Equal(0, b.R.Count(e => e.Kind == "Signal" && e.Type == "private"), "signals to C reaching b");
                Equal(0, a.R.Count(e => e.Kind == "Signal" && e.Type == "private"), "signals to C reaching a");

                c.Send("/to " + me + " private to C#");
                Ev got = a.R.Expect("Signal", e => e.Type == "private");
                Equal("private to C#", got.Data, "private data from C");
                Equal(c.Id, got.Connection.Id, "private sender");
                c.Send("marker from C");
                b.R.Expect("Signal", e => e.Data == "marker from C");
                Equal(0, b.R.Count(e => e.Kind == "Signal" && e.Type == "private"), "C's private signal reaching b");
            }
        }

        private static void SendSignalToServer()
        {
            string sid = _server.CreateSession();
            using (Joined a = Join(sid))
            using (Chat c = StartChat(sid))
            {
                string me = a.S.Connection.Id;
                // The test server has no callback URL and no event stream open.
                Task<ulong> t = a.S.SendSignalToServerAsync("order", "nobody listens");
                try
                {
                    t.Wait(Wait);
                    throw new TestFailure("a signal to a server that is not listening was delivered");
                }
                catch (AggregateException e)
                {
                    var ot = e.InnerException as OpenTokException;
                    True(ot != null, "the task fails with OpenTokException: " + e.InnerException);
                    Equal(ErrorCode.SignalTargetNotConnected, ot.ErrorCode, "not listening");
                }
                Throws(ErrorCode.InvalidSignalType, () => a.S.SendSignalToServerAsync("bad type!", "x"), "bad type");
                // No participant heard it.
                a.S.SendSignal("marker", "m");
                c.Expect(@"^\[" + me + @"\] marker: m$");
                Equal(0, c.Out.Count("nobody listens"), "lines of the signal to the server at C");
            }
        }

        private static void SendSignalAsyncCompletion()
        {
            string sid = _server.CreateSession();
            using (Joined a = Join(sid))
            using (Chat c = StartChat(sid))
            {
                string me = a.S.Connection.Id;
                Connection target = a.R.Expect("ConnectionCreated", e => e.Connection.Id == c.Id).Connection;
                // (The C client shows a signal of type "private" as sent to it.)
                Task<ulong> t = a.S.SendSignalAsync("private", "to a list", new[] { target });
                True(t.Wait(Wait), "the completion came");
                True(t.Result > 0, "a signal id");
                c.Expect(@"^\[" + me + " -> " + c.Id + @"\] private: to a list$");

                Task<ulong> all = a.S.SendSignalAsync("all", "to everyone");
                True(all.Wait(Wait), "the broadcast's completion came");
                True(all.Result > t.Result, "ids grow");
                c.Expect(@"^\[" + me + @"\] all: to everyone$");

                Task<ulong> bad = a.S.SendSignalAsync("list", "nobody", new[] { c.Id, "no-such-connection" });
                try
                {
                    bad.Wait(Wait);
                    throw new TestFailure("a signal to an unknown connection succeeded");
                }
                catch (AggregateException e)
                {
                    var ot = e.InnerException as OpenTokException;
                    True(ot != null, "the task fails with OpenTokException: " + e.InnerException);
                    Equal(ErrorCode.SignalTargetNotConnected, ot.ErrorCode, "unknown target");
                }
                // All or nothing: C did not get the list signal with a bad member.
                a.S.SendSignal("marker", "m");
                c.Expect(@"^\[" + me + @"\] marker: m$");
                Equal(0, c.Out.Count("nobody"), "lines of the refused list signal at C");
                Throws(ErrorCode.SignalTypeTooLong, () => a.S.SendSignalAsync(new string('t', 129), "x"), "async, bad type");
                try
                {
                    a.S.SendSignalAsync("x", "y", new string[0]);
                    throw new TestFailure("an empty target list was accepted");
                }
                catch (ArgumentException) { }
            }
        }

        private static void RestSignalHasNoSender()
        {
            string sid = _server.CreateSession();
            using (Joined a = Join(sid))
            using (Chat c = StartChat(sid))
            {
                int status = _server.RestSignal(sid, "news", "from the server");
                True(status >= 200 && status < 300, "REST signal status " + status);
                Ev got = a.R.Expect("Signal", e => e.Type == "news");
                Equal("from the server", got.Data, "REST data");
                True(got.Connection == null, "a REST signal has no sender (Connection == null)");
                c.Expect(@"^\[server\] news: from the server$");
                status = _server.RestSignal(sid, "dm", "one", a.S.Connection.Id);
                True(status >= 200 && status < 300, "REST signal to a connection: status " + status);
                got = a.R.Expect("Signal", e => e.Type == "dm");
                True(got.Connection == null, "a targeted REST signal has no sender either");
            }
        }

        private static void ConnectionCreatedAndDropped()
        {
            string sid = _server.CreateSession();
            using (Joined a = Join(sid))
            {
                Chat c = StartChat(sid);
                string cid = c.Id;
                Ev created = a.R.Expect("ConnectionCreated", e => e.Connection.Id == cid);
                True(created.Connection.CreationTime > new DateTime(2020, 1, 1), "created connection's creation time");
                using (Joined b = Join(sid, "b-data"))
                {
                    Ev cb = a.R.Expect("ConnectionCreated", e => e.Connection.Id == b.S.Connection.Id);
                    Equal("b-data", cb.Connection.Data, "the other connection's data");
                    // b hears of those already there.
                    b.R.Expect("ConnectionCreated", e => e.Connection.Id == a.S.Connection.Id);
                    b.R.Expect("ConnectionCreated", e => e.Connection.Id == cid);
                    Equal(0, c.Close(), "the C client's exit status");
                    Ev dropped = a.R.Expect("ConnectionDropped", e => e.Connection.Id == cid);
                    Equal(created.Connection, dropped.Connection, "the dropped connection is the one created");
                    b.R.Expect("ConnectionDropped", e => e.Connection.Id == cid);
                    string bid = b.S.Connection.Id;
                    b.S.Disconnect();
                    a.R.Expect("ConnectionDropped", e => e.Connection.Id == bid);
                }
                Equal(0, a.R.Count(e => e.Kind == "ConnectionCreated" && e.Connection.Id == a.S.Connection.Id),
                    "no ConnectionCreated for our own connection");
            }
        }

        private static void BadInput()
        {
            string sid = _server.CreateSession();
            using (Joined a = Join(sid))
            using (Chat c = StartChat(sid))
            {
                Connection target = a.R.Expect("ConnectionCreated", e => e.Connection.Id == c.Id).Connection;
                foreach (Connection to in new[] { null, target })
                {
                    string how = to == null ? "broadcast" : "targeted";
                    OpenTokException big = Throws(ErrorCode.SignalDataTooLong, () => a.S.SendSignal("ok", new string('x', 8193), to), how + ", 8193 bytes of data");
                    True(big.Message.Contains("8192 bytes"), "the message says the limit: " + big.Message);
                    Throws(ErrorCode.SignalDataTooLong, () => a.S.SendSignal("ok", new string('\u00e9', 4097), to), how + ", 8194 bytes of UTF-8");
                    Throws(ErrorCode.SignalTypeTooLong, () => a.S.SendSignal(new string('t', 129), "x", to), how + ", a type of 129 characters");
                    OpenTokException chars = Throws(ErrorCode.InvalidSignalType, () => a.S.SendSignal("bad type!", "x", to), how + ", a type with a space and '!'");
                    True(chars.Message.Contains("letters, digits"), "the message says what is allowed: " + chars.Message);
                }
                // The limits themselves are fine; C gets exactly those.
                a.S.SendSignal(new string('t', 128), new string('x', 8192));
                c.Expect(@"^\[" + a.S.Connection.Id + @"\] t{128}: x{8192}$");
                Equal(0, c.Out.Count("bad type|ok:"), "refused signals reaching C");
            }
        }

        private static void NotConnectedAndArguments()
        {
            string sid = _server.CreateSession();
            var s = new Session(Server.ApiKey, sid, _server.Url);
            try
            {
                Throws(ErrorCode.NotConnected, () => s.SendSignal("x", "y"), "SendSignal before Connect");
                Throws(ErrorCode.NotConnected, () => s.SendSignalAsync("x", "y"), "SendSignalAsync before Connect");
                Throws(ErrorCode.NotConnected, () => s.Disconnect(), "Disconnect before Connect");
                Throws(ErrorCode.NullOrInvalidParameter, () => s.Connect(""), "Connect with an empty token");
                True(s.Connection == null, "no own connection before Connect");
            }
            finally
            {
                s.Dispose();
            }
            s.Dispose(); // twice is fine
            try
            {
                s.SendSignal("x", "y");
                throw new TestFailure("SendSignal after Dispose did not throw");
            }
            catch (ObjectDisposedException) { }
            Throws(ErrorCode.NullOrInvalidParameter, () => new Session(Server.ApiKey, sid, "ftp://nope"), "an ftp server URL");
            Throws(ErrorCode.NullOrInvalidParameter, () => new Session("", sid, _server.Url), "an empty API key");
            Throws(ErrorCode.NullOrInvalidParameter, () => new Session(Server.ApiKey, "", _server.Url), "an empty session id");
        }

        private static void RefusedToken()
        {
            var s = new Session(Server.ApiKey, _server.CreateSession(), _server.Url);
            var r = new Recorder(s);
            using (s)
            {
                s.Connect("T1==bogus");
                Ev err = r.Expect("Error");
                Equal(ErrorCode.AuthorizationFailure, err.Code, "a refused token's error code");
                True(err.Message.Length > 0, "the error says why");
                r.Expect("Disconnected");
                Equal(0, r.Count(e => e.Kind == "Connected"), "Connected events for a refused token");
                // A token of another session is refused too.
                s.Connect(_server.Token(_server.CreateSession()));
                Ev err2 = r.Expect("Error");
                True(err2.Code == ErrorCode.AuthorizationFailure || err2.Code == ErrorCode.InvalidSession,
                    "a token of another session: " + err2);
                r.Expect("Disconnected");
            }
            // Nobody listening: ConnectionFailed (1006), then Disconnected.
            var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            closed.Start();
            int port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
            closed.Stop();
            string sid = _server.CreateSession();
            using (var s2 = new Session(Server.ApiKey, sid, "http://127.0.0.1:" + port))
            {
                var r2 = new Recorder(s2);
                s2.Connect(_server.Token(sid));
                Equal(ErrorCode.ConnectionFailed, r2.Expect("Error").Code, "connecting to a closed port");
                r2.Expect("Disconnected");
            }
        }

        private static void ThrowingHandler()
        {
            string sid = _server.CreateSession();
            TextWriter saved = Console.Error;
            var log = new StringWriter();
            Console.SetError(TextWriter.Synchronized(log));
            try
            {
                using (Joined a = Join(sid))
                {
                    var seen = new List<string>();
                    a.S.Signal += (o, e) => { throw new InvalidOperationException("handler failure " + e.Data); };
                    a.S.Signal += (o, e) => { lock (seen) seen.Add(e.Data); };
                    a.S.SendSignal("t", "1");
                    a.S.SendSignal("t", "2");
                    a.R.Expect("Signal", e => e.Data == "2");
                    a.S.SendSignal("t", "3");
                    a.R.Expect("Signal", e => e.Data == "3");
                    // Handlers run in order: once the recorder has 4, the one after it has 3.
                    a.S.SendSignal("t", "4");
                    a.R.Expect("Signal", e => e.Data == "4");
                    lock (seen) Equal("1,2,3", string.Join(",", seen.Take(3)), "the handler after the throwing one still ran");
                }
            }
            finally
            {
                Console.SetError(saved);
            }
            string text = log.ToString();
            True(text.Contains("handler failure 1") && text.Contains("handler failure 3"), "the exception was logged on Console.Error: " + text);
            True(text.Contains("Session.Signal"), "the log names the event: " + text);
        }

        private static void Reconnection()
        {
            string sid = _server.CreateSession();
            using (var proxy = new FaultProxy(_server.Url))
            using (Joined a = Join(sid, null, proxy.Url))
            using (Chat c = StartChat(sid))
            {
                string me = a.S.Connection.Id;
                Connection target = a.R.Expect("ConnectionCreated", e => e.Connection.Id == c.Id).Connection;
                a.S.SendSignal("chat", "before the cut", null, false);
                c.Expect(@"^\[" + me + @"\] chat: before the cut$");

                proxy.Refusing = true;
                proxy.Cut();
                True(proxy.LinksCut >= 1, "the proxy carried the session's link");
                a.R.Expect("ReconnectionStart");
                Equal(me, a.S.Connection == null ? null : a.S.Connection.Id, "own connection kept while reconnecting");

                a.S.SendSignal("chat", "queued broadcast");
                a.S.SendSignal("private", "queued private", target, true);
                Task<ulong> queued = a.S.SendSignalAsync("private", "queued list", new[] { target });
                Throws(ErrorCode.NotConnected, () => a.S.SendSignal("chat", "never broadcast", null, false), "retryAfterReconnect=false, broadcast");
                Throws(ErrorCode.NotConnected, () => a.S.SendSignal("chat", "never private", target, false), "retryAfterReconnect=false, targeted");
                Throws(ErrorCode.NotConnected, () => a.S.SendSignalAsync("chat", "never list", new[] { target }, false), "retryAfterReconnect=false, async");
                True(!queued.IsCompleted, "a queued signal completes only once sent");

                proxy.Refusing = false;
                a.R.Expect("ReconnectionSuccess");
                Equal(me, a.S.Connection.Id, "same connection id after the resume");
                True(queued.Wait(Wait) && queued.Result > 0, "the queued signal's completion");

                a.S.SendSignal("chat", "marker");
                c.Expect(@"^\[" + me + @"\] chat: marker$");
                Equal(1, c.Out.Count(@"^\[" + me + @"\] chat: queued broadcast$"), "the queued broadcast at C");
                Equal(1, c.Out.Count(@"^\[" + me + " -> " + c.Id + @"\] private: queued private$"), "the queued private signal at C");
                Equal(1, c.Out.Count(@"^\[" + me + " -> " + c.Id + @"\] private: queued list$"), "the queued list signal at C");
                Equal(0, c.Out.Count("never"), "signals sent with retryAfterReconnect=false at C");
                Equal(0, c.Out.Count(@"connection dropped"), "C saw no drop of the resumed connection");
                Equal(1, c.Out.Count(@"connection created: " + me), "C saw the resumed connection created once");
                // Our own queued broadcast comes back to us once.
                Equal(1, a.R.Count(e => e.Kind == "Signal" && e.Data == "queued broadcast"), "own queued broadcast back at a");
                Equal(0, a.R.Count(e => e.Kind == "Disconnected" || e.Kind == "Error"), "no Disconnected or Error");
                // Signals from C after the resume arrive.
                c.Send("after the resume");
                a.R.Expect("Signal", e => e.Data == "after the resume");
            }
        }

        private static void ReconnectionGivesUp()
        {
            string sid = _server.CreateSession();
            using (var proxy = new FaultProxy(_server.Url))
            using (Chat c = StartChat(sid))
            using (Session s = new Session.Builder(Server.ApiKey, sid)
            {
                ServerUrl = proxy.Url,
                ReconnectionWindow = TimeSpan.FromMilliseconds(300),
            }.Build())
            {
                var r = new Recorder(s);
                s.Connect(_server.Token(sid));
                r.Expect("Connected");
                proxy.Refusing = true;
                proxy.Cut();
                r.Expect("ReconnectionStart");
                Task<ulong> queued = s.SendSignalAsync("chat", "lost", true);
                Ev err = r.Expect("Error", e => e.Code == ErrorCode.ConnectionDropped);
                True(err.Message.Length > 0, "the error says why");
                r.Expect("Disconnected");
                Equal(0, r.Count(e => e.Kind == "ReconnectionSuccess"), "ReconnectionSuccess events");
                try
                {
                    queued.Wait(Wait);
                    throw new TestFailure("a signal queued in a session that never came back completed");
                }
                catch (AggregateException e)
                {
                    True(e.InnerException is OpenTokException, "it fails with OpenTokException: " + e.InnerException);
                }
                True(s.Connection == null, "no own connection after Disconnected");
                Throws(ErrorCode.NotConnected, () => s.SendSignal("chat", "x"), "SendSignal after giving up");
                // The others see the connection go once the server's grace is over,
                // not at once: the C client has not seen it drop yet, nor the signal.
                Equal(0, c.Out.Count("lost"), "the lost signal at C");
            }
        }

        private static void DisposeFromHandler()
        {
            string sid = _server.CreateSession();
            using (var proxy = new FaultProxy(_server.Url))
            using (Joined a = Join(sid, null, proxy.Url))
            {
                // A signal that cannot complete: queued while the link is down.
                proxy.Refusing = true;
                proxy.Cut();
                a.R.Expect("ReconnectionStart");
                Task<ulong> pending = a.S.SendSignalAsync("t", "pending");
                a.S.Dispose();
                try
                {
                    pending.Wait(Wait);
                    throw new TestFailure("a pending signal completed after Dispose");
                }
                catch (AggregateException e)
                {
                    True(e.InnerException is OpenTokException, "it fails with OpenTokException: " + e.InnerException);
                }
                Equal(0, a.R.Count(e => e.Kind == "ReconnectionSuccess"), "events after Dispose");
            }
            // Dispose inside a Signal handler: the handler finishes, nothing follows.
            using (Joined b = Join(sid))
            {
                var done = new ManualResetEvent(false);
                Exception inHandler = null;
                b.S.Signal += (o, e) =>
                {
                    if (e.Data == "bye")
                    {
                        try { b.S.Dispose(); } catch (Exception x) { inHandler = x; }
                        done.Set();
                    }
                };
                b.S.SendSignal("t", "bye");
                True(done.WaitOne(Wait), "the handler ran");
                True(inHandler == null, "Dispose in a handler threw: " + inHandler);
                try
                {
                    b.S.SendSignal("t", "later");
                    throw new TestFailure("SendSignal after Dispose in a handler did not throw");
                }
                catch (ObjectDisposedException) { }
            }
        }

        private static int _orphanSignals;
        private static readonly ManualResetEvent OrphanGotOne = new ManualResetEvent(false);

        private static void StartOrphan(string sid, ManualResetEvent connected)
        {
            var s = new Session(Server.ApiKey, sid, _server.Url);
            s.Connected += (o, e) => connected.Set();
            s.Signal += (o, e) => { if (e.Type == "orphan") { Interlocked.Increment(ref _orphanSignals); OrphanGotOne.Set(); } };
            s.Connect(_server.Token(sid));
        }

        private static void UnreferencedConnectedSession()
        {
            string sid = _server.CreateSession();
            using (Joined a = Join(sid))
            {
                var connected = new ManualResetEvent(false);
                StartOrphan(sid, connected); // no reference kept
                True(connected.WaitOne(Wait), "the unreferenced session connected");
                Ev created = a.R.Expect("ConnectionCreated");
                for (int i = 0; i < 3; i++)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                }
                a.S.SendSignal("orphan", "still there?");
                a.R.Expect("Signal", e => e.Type == "orphan");
                a.S.SendSignal("marker", "m");
                a.R.Expect("Signal", e => e.Type == "marker");
                True(OrphanGotOne.WaitOne(Wait), "the unreferenced session got the signal");
                Equal(1, Volatile.Read(ref _orphanSignals), "signals the collected-but-connected session got");
                Equal(0, a.R.Count(e => e.Kind == "ConnectionDropped" && e.Connection.Id == created.Connection.Id),
                    "the unreferenced session was not dropped");
            }
        }

        // Code in the shape of the SDK's samples: handlers as methods taking
        // Session.*EventArgs or the unprefixed names, and the Builder.
        private sealed class SdkStyle
        {
            public readonly List<string> Got = new List<string>();
            public Session Session;

            public void Session_Connected(object sender, EventArgs e) { lock (Got) Got.Add("connected " + Session.Connection.Id); }
            public void Session_ConnectionCreated(object sender, Session.ConnectionEventArgs e) { lock (Got) Got.Add("created " + e.Connection.Id); }
            public void Session_Signal(object sender, SignalEventArgs e) { lock (Got) Got.Add("signal " + e.Type + " " + e.Data + " " + (e.Connection != null ? e.Connection.ID : "server")); }
            public void Session_Error(object sender, Session.ErrorEventArgs e) { lock (Got) Got.Add("error " + e.ErrorCode); }
        }

        private static void BuilderAndSdkStyleHandlers()
        {
            string sid = _server.CreateSession();
            using (Chat c = StartChat(sid))
            {
                var app = new SdkStyle();
                app.Session = new Session.Builder(Server.ApiKey, sid) { ServerUrl = _server.Url, ConnectionEventsSuppressed = true }.Build();
                using (app.Session)
                {
                    app.Session.Connected += app.Session_Connected;
                    app.Session.ConnectionCreated += app.Session_ConnectionCreated;
                    app.Session.Signal += app.Session_Signal;
                    app.Session.Error += app.Session_Error;
                    // After the application's handlers: once it has seen an event, so have they.
                    var r = new Recorder(app.Session);
                    app.Session.Connect(_server.Token(sid));
                    r.Expect("Connected");
                    c.Send("hello SDK style");
                    r.Expect("Signal", e => e.Data == "hello SDK style");
                    lock (app.Got)
                    {
                        Equal("connected " + app.Session.Connection.Id, app.Got[0], "Connected handler");
                        Equal("signal chat hello SDK style " + c.Id, app.Got[1], "Signal handler");
                        Equal(2, app.Got.Count, "events with connection events suppressed: " + string.Join("; ", app.Got));
                    }
                }
            }
        }

        private static Process StartMono(string exe, params string[] args)
        {
            var all = new List<string> { "--debug", exe };
            all.AddRange(args);
            ProcessStartInfo psi = Harness.Child("mono", all.ToArray());
            // The child finds libopentok the way this program does.
            string lib = Environment.GetEnvironmentVariable("OTC_LIBOPENTOK");
            if (lib != null) psi.EnvironmentVariables["OTC_LIBOPENTOK"] = lib;
            return Process.Start(psi);
        }

        private static void ReadmeSnippet()
        {
            string sid = _server.CreateSession();
            using (Chat c = StartChat(sid))
            {
                Process p = StartMono(_readmeExe, Server.ApiKey, sid, _server.Token(sid), _server.Url);
                var output = new Lines("README snippet", p.StandardOutput);
                var errors = new Lines("README snippet stderr", p.StandardError);
                try
                {
                    // The Connected handler's broadcast reaches C ...
                    string who = c.Expect(@"^\[(\S+)\] chat: hello from C#$").Groups[1].Value;
                    True(who != c.Id, "sent by the snippet");
                    // ... and C's line reaches the Signal handler, with its sender.
                    c.Send("hello from C");
                    output.Expect(@"^chat: hello from C from " + c.Id + "$");
                    int status = _server.RestSignal(sid, "news", "rest");
                    True(status >= 200 && status < 300, "REST signal status " + status);
                    output.Expect(@"^news: rest from the server$");
                    p.StandardInput.Close();
                    Equal(0, Stop(p, gently: false), "the snippet's exit status; stderr: " + string.Join("\n", errors.All));
                    c.Expect(@"^\* connection dropped: " + who + "$");
                }
                finally
                {
                    if (!p.HasExited) Stop(p);
                }
            }
        }

        private static void ChatExample()
        {
            string sid = _server.CreateSession();
            using (Chat c = StartChat(sid))
            {
                Process p = StartMono(_chatExe, "--server", _server.Url, Server.ApiKey, sid, _server.Token(sid, "name=cs"));
                var output = new Lines("Chat.exe", p.StandardOutput);
                var errors = new Lines("Chat.exe stderr", p.StandardError);
                try
                {
                    string me = output.Expect(@"^\* connected as (\S+)$").Groups[1].Value;
                    output.Expect(@"^\* connection created: " + c.Id + "$");
                    c.Expect(@"^\* connection created: " + me + " data=name=cs$");
                    p.StandardInput.WriteLine("hello from the C# example");
                    p.StandardInput.Flush();
                    c.Expect(@"^\[" + me + @"\] chat: hello from the C# example$");
                    output.Expect(@"^\[" + me + @" \(own\)\] chat: hello from the C# example$");
                    c.Send("hello from C");
                    output.Expect(@"^\[" + c.Id + @"\] chat: hello from C$");
                    p.StandardInput.WriteLine("/to " + c.Id + " just you");
                    p.StandardInput.Flush();
                    c.Expect(@"^\[" + me + " -> " + c.Id + @"\] private: just you$");
                    output.Expect(@"^\* sent privately to " + c.Id + ": just you$");
                    c.Send("/to " + me + " psst");
                    output.Expect(@"^\[" + c.Id + " -> " + me + @"\] private: psst$");
                    _server.RestSignal(sid, "announcement", "from the server");
                    output.Expect(@"^\[server\] announcement: from the server$");
                    p.StandardInput.WriteLine("/to no-such-id x");
                    p.StandardInput.Flush();
                    output.Expect(@"^! no connection no-such-id");
                    p.StandardInput.Close();
                    output.Expect(@"^\* disconnected$");
                    Equal(0, Stop(p, gently: false), "Chat.exe's exit status; stderr: " + string.Join("\n", errors.All));
                    c.Expect(@"^\* connection dropped: " + me + "$");
                }
                finally
                {
                    if (!p.HasExited) Stop(p);
                }

                // Dropped by the application server while waiting for input:
                // it ends at once, with status 1, its stdin still open.
                p = StartMono(_chatExe, "--server", _server.Url, Server.ApiKey, sid, _server.Token(sid));
                output = new Lines("Chat.exe", p.StandardOutput);
                try
                {
                    string me = output.Expect(@"^\* connected as (\S+)$").Groups[1].Value;
                    int status = _server.RestForceDisconnect(sid, me);
                    True(status >= 200 && status < 300, "REST force disconnect status " + status);
                    output.Expect(@"^\* disconnected$");
                    if (!p.WaitForExit((int)Wait.TotalMilliseconds))
                    {
                        Harness.Signal(p, 3); // SIGQUIT: Mono prints its threads
                        p.WaitForExit(2000);
                        throw new TestFailure("Chat.exe did not end by itself; it printed:\n" + string.Join("\n", output.All));
                    }
                    Equal(1, Stop(p, gently: false), "Chat.exe's exit status when dropped");
                }
                finally
                {
                    if (!p.HasExited) Stop(p);
                }
            }
        }
    }
}
