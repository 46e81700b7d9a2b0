// The test program's support: a tiny assertion harness (no NUnit), otc-server
// started on a free loopback port and stopped by its PID, tokens and REST
// JWTs minted by the server binary, the C chat example as a child, a
// recorder of a Session's events, and a TCP proxy that can cut its links.
// Every wait is bounded by Harness.Wait.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using OpenTok;

namespace OpenTokTests
{
    internal sealed class TestFailure : Exception
    {
        public TestFailure(string message) : base(message) { }
    }

    internal static class Harness
    {
        public static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

        public static void True(bool condition, string what)
        {
            if (!condition) throw new TestFailure(what);
        }

        public static void Equal<T>(T expected, T actual, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
                throw new TestFailure(string.Format("{0}: expected <{1}>, got <{2}>", what, expected, actual));
        }

        /// <summary>Runs f, which must throw OpenTokException with this code.</summary>
        public static OpenTokException Throws(ErrorCode code, Action f, string what)
        {
            try
            {
                f();
            }
            catch (OpenTokException e)
            {
                Equal(code, e.ErrorCode, what + " (" + e.Message + ")");
                True(e.Message.Contains(((int)code).ToString()), what + ": the message names the code: " + e.Message);
                return e;
            }
            throw new TestFailure(what + ": no OpenTokException was thrown");
        }

        /// <summary>The environment of a child: ours without OTC_* settings,
        /// which would change where the library or the server connects.</summary>
        public static ProcessStartInfo Child(string file, params string[] args)
        {
            var psi = new ProcessStartInfo(file)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            var sb = new StringBuilder();
            foreach (string a in args)
            {
                if (sb.Length > 0) sb.Append(' ');
                sb.Append(Quote(a));
            }
            psi.Arguments = sb.ToString();
            var drop = new List<string>();
            foreach (string k in psi.EnvironmentVariables.Keys)
                if (k.StartsWith("OTC_", StringComparison.Ordinal)) drop.Add(k);
            foreach (string k in drop) psi.EnvironmentVariables.Remove(k);
            psi.EnvironmentVariables["NO_PROXY"] = "127.0.0.1,localhost";
            psi.EnvironmentVariables["no_proxy"] = "127.0.0.1,localhost";
            return psi;
        }

        // Process arguments are one string on Mono; quote each one.
        private static string Quote(string a)
        {
            if (a.Length > 0 && a.IndexOfAny(new[] { ' ', '"', '\'', '\\', '\t' }) < 0) return a;
            return "\"" + a.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
        }

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        private static extern int sys_kill(int pid, int sig);

        public static void Signal(Process p, int sig) { sys_kill(p.Id, sig); }

        /// <summary>SIGTERM, then SIGKILL if it is still there after the bound.</summary>
        public static int Stop(Process p, bool gently = true)
        {
            if (!p.HasExited && gently) sys_kill(p.Id, 15);
            if (!p.WaitForExit((int)Wait.TotalMilliseconds))
            {
                try { p.Kill(); } catch (InvalidOperationException) { }
                p.WaitForExit(5000);
                return -9;
            }
            p.WaitForExit(); // the output readers are done too
            return p.ExitCode;
        }
    }

    /// <summary>The lines a child prints, waited for with a bound.</summary>
    internal sealed class Lines
    {
        private readonly string _name;
        private readonly List<string> _all = new List<string>();
        private int _cursor;
        private bool _ended;

        public Lines(string name, TextReader reader)
        {
            _name = name;
            var t = new Thread(() =>
            {
                try
                {
                    string line;
                    while ((line = reader.ReadLine()) != null)
                        lock (_all) { _all.Add(line); Monitor.PulseAll(_all); }
                }
                catch (IOException) { }
                finally
                {
                    lock (_all) { _ended = true; Monitor.PulseAll(_all); }
                }
            }) { IsBackground = true, Name = name + " reader" };
            t.Start();
        }

        public string[] All { get { lock (_all) return _all.ToArray(); } }

        /// <summary>Waits for the next line (after those already expected)
        /// matching pattern.</summary>
        public Match Expect(string pattern)
        {
            var rx = new Regex(pattern);
            DateTime deadline = DateTime.UtcNow + Harness.Wait;
            lock (_all)
            {
                while (true)
                {
                    for (; _cursor < _all.Count; _cursor++)
                    {
                        Match m = rx.Match(_all[_cursor]);
                        if (m.Success)
                        {
                            _cursor++;
                            return m;
                        }
                    }
                    TimeSpan left = deadline - DateTime.UtcNow;
                    if (_ended)
                        throw new TestFailure(_name + " ended before /" + pattern + "/; it printed:\n  " + string.Join("\n  ", _all));
                    if (left <= TimeSpan.Zero)
                        throw new TestFailure(_name + ": no /" + pattern + "/ within " + Harness.Wait.TotalSeconds +
                                              " s; it printed:\n  " + string.Join("\n  ", _all));
                    Monitor.Wait(_all, left);
                }
            }
        }

        /// <summary>How many lines so far match pattern.</summary>
        public int Count(string pattern)
        {
            var rx = new Regex(pattern);
            int n = 0;
            foreach (string l in All) if (rx.IsMatch(l)) n++;
            return n;
        }
    }

    /// <summary>otc-server with a project of its own, on 127.0.0.1:0.</summary>
    internal sealed class Server : IDisposable
    {
        public const string ApiKey = "472033";
        public readonly string ApiSecret;
        public readonly string Url;
        private readonly string _bin;
        private readonly Process _proc;
        private readonly Lines _out;

        public Server(string bin)
        {
            _bin = bin;
            var rnd = new byte[20];
            using (var rng = System.Security.Cryptography.RandomNumberGenerator.Create()) rng.GetBytes(rnd);
            ApiSecret = BitConverter.ToString(rnd).Replace("-", "").ToLowerInvariant();
            _proc = Process.Start(Harness.Child(bin, "serve", "--listen", "127.0.0.1:0", "--api-key", ApiKey, "--api-secret", ApiSecret));
            _out = new Lines("otc-server", _proc.StandardOutput);
            var err = new Lines("otc-server stderr", _proc.StandardError);
            GC.KeepAlive(err);
            Url = _out.Expect(@"listening on (http://127\.0\.0\.1:\d+)").Groups[1].Value;
        }

        /// <summary>Runs a subcommand of the server binary with our project.</summary>
        public string Cli(params string[] args)
        {
            var all = new List<string>(args) { "--api-key", ApiKey, "--api-secret", ApiSecret };
            using (Process p = Process.Start(Harness.Child(_bin, all.ToArray())))
            {
                p.StandardInput.Close();
                var stderr = p.StandardError.ReadToEndAsync();
                var stdout = p.StandardOutput.ReadToEndAsync();
                if (!p.WaitForExit((int)Harness.Wait.TotalMilliseconds))
                {
                    p.Kill();
                    throw new TestFailure("otc-server " + args[0] + " did not finish");
                }
                p.WaitForExit();
                Harness.True(p.ExitCode == 0, "otc-server " + args[0] + " failed: " + stderr.Result);
                return stdout.Result.Trim();
            }
        }

        public string CreateSession() { return Cli("create-session"); }

        public string Token(string sessionId, string data = null)
        {
            return data == null ? Cli("token", "--session-id", sessionId) : Cli("token", "--session-id", sessionId, "--data", data);
        }

        /// <summary>POSTs a signal through the REST API; returns the HTTP status.</summary>
        public int RestSignal(string sessionId, string type, string data, string connectionId = null)
        {
            string path = "/v2/project/" + ApiKey + "/session/" + sessionId;
            if (connectionId != null) path += "/connection/" + connectionId;
            return Http("POST", path + "/signal", "{\"type\":\"" + type + "\",\"data\":\"" + data + "\"}");
        }

        /// <summary>DELETEs a connection through the REST API (force
        /// disconnect); returns the HTTP status.</summary>
        public int RestForceDisconnect(string sessionId, string connectionId)
        {
            return Http("DELETE", "/v2/project/" + ApiKey + "/session/" + sessionId + "/connection/" + connectionId, null);
        }

        // One HTTP/1.1 request on a connection of its own, written by hand:
        // the server is on loopback, and Mono's HttpWebRequest failed now and
        // then with "Operation aborted" while writing a request body.
        private int Http(string method, string path, string json)
        {
            string jwt = Cli("rest-token");
            var uri = new Uri(Url);
            byte[] body = json == null ? new byte[0] : Encoding.UTF8.GetBytes(json);
            var head = new StringBuilder();
            head.Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\n");
            head.Append("Host: ").Append(uri.Authority).Append("\r\n");
            head.Append("X-OPENTOK-AUTH: ").Append(jwt).Append("\r\n");
            if (json != null) head.Append("Content-Type: application/json\r\n");
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
            head.Append("Connection: close\r\n\r\n");
            using (var tcp = new TcpClient())
            {
                tcp.ReceiveTimeout = tcp.SendTimeout = (int)Harness.Wait.TotalMilliseconds;
                tcp.Connect(IPAddress.Loopback, uri.Port);
                NetworkStream ns = tcp.GetStream();
                byte[] h = Encoding.ASCII.GetBytes(head.ToString());
                ns.Write(h, 0, h.Length);
                ns.Write(body, 0, body.Length);
                string status = new StreamReader(ns, Encoding.ASCII).ReadLine();
                Match m = Regex.Match(status ?? "", @"^HTTP/1\.[01] (\d{3}) ");
                Harness.True(m.Success, method + " " + path + ": not an HTTP status line: " + status);
                return int.Parse(m.Groups[1].Value);
            }
        }

        public int ExitCode { get; private set; }

        public void Dispose()
        {
            ExitCode = Harness.Stop(_proc);
        }
    }

    /// <summary>c-examples/bin/chat in a session.</summary>
    internal sealed class Chat : IDisposable
    {
        public readonly string Id;
        public readonly Lines Out;
        private readonly Process _proc;

        public Chat(string bin, string url, string sessionId, string token)
        {
            ProcessStartInfo psi = Harness.Child(bin, "--server", url, "--linger", "0", "--timeout",
                ((int)Harness.Wait.TotalSeconds).ToString(), Server.ApiKey, sessionId, token);
            _proc = Process.Start(psi);
            Out = new Lines("chat", _proc.StandardOutput);
            var err = new Lines("chat stderr", _proc.StandardError);
            GC.KeepAlive(err);
            Id = Out.Expect(@"^\* connected as (\S+)$").Groups[1].Value;
        }

        public void Send(string line)
        {
            _proc.StandardInput.WriteLine(line);
            _proc.StandardInput.Flush();
        }

        public Match Expect(string pattern) { return Out.Expect(pattern); }

        /// <summary>/quit, end of input, and its exit status.</summary>
        public int Close()
        {
            if (!_proc.HasExited)
            {
                try
                {
                    _proc.StandardInput.WriteLine("/quit");
                    _proc.StandardInput.Close();
                }
                catch (IOException) { }
            }
            return Harness.Stop(_proc, gently: false);
        }

        public void Dispose() { Close(); }
    }

    /// <summary>One event a Session raised.</summary>
    internal sealed class Ev
    {
        public string Kind; // Connected, Disconnected, ConnectionCreated, ConnectionDropped, Signal, ReconnectionStart, ReconnectionSuccess, Error
        public Connection Connection; // created/dropped; a signal's sender
        public string Type, Data;
        public ErrorCode Code;
        public string Message;
        public int Thread;

        public override string ToString()
        {
            switch (Kind)
            {
                case "Signal": return string.Format("Signal({0}, {1}, from {2})", Type, Data, Connection == null ? "server" : Connection.Id);
                case "Error": return string.Format("Error({0}, {1})", Code, Message);
                case "ConnectionCreated":
                case "ConnectionDropped": return Kind + "(" + Connection.Id + ")";
                default: return Kind;
            }
        }
    }

    /// <summary>Every event of a Session, in order, waited for with a bound.</summary>
    internal sealed class Recorder
    {
        private readonly List<Ev> _all = new List<Ev>();
        private int _cursor;

        public Recorder(Session s)
        {
            s.Connected += (o, e) => Add(new Ev { Kind = "Connected" });
            s.Disconnected += (o, e) => Add(new Ev { Kind = "Disconnected" });
            s.ConnectionCreated += (o, e) => Add(new Ev { Kind = "ConnectionCreated", Connection = e.Connection });
            s.ConnectionDropped += (o, e) => Add(new Ev { Kind = "ConnectionDropped", Connection = e.Connection });
            s.Signal += (o, e) => Add(new Ev { Kind = "Signal", Type = e.Type, Data = e.Data, Connection = e.Connection });
            s.ReconnectionStart += (o, e) => Add(new Ev { Kind = "ReconnectionStart" });
            s.ReconnectionSuccess += (o, e) => Add(new Ev { Kind = "ReconnectionSuccess" });
            s.Error += (o, e) => Add(new Ev { Kind = "Error", Code = e.ErrorCode, Message = e.Message });
        }

        private void Add(Ev e)
        {
            e.Thread = Thread.CurrentThread.ManagedThreadId;
            lock (_all) { _all.Add(e); Monitor.PulseAll(_all); }
        }

        public Ev[] All { get { lock (_all) return _all.ToArray(); } }

        /// <summary>The next event of this kind (after those already
        /// expected) for which pred holds.</summary>
        public Ev Expect(string kind, Func<Ev, bool> pred = null)
        {
            DateTime deadline = DateTime.UtcNow + Harness.Wait;
            lock (_all)
            {
                while (true)
                {
                    for (; _cursor < _all.Count; _cursor++)
                    {
                        Ev e = _all[_cursor];
                        if (e.Kind == kind && (pred == null || pred(e)))
                        {
                            _cursor++;
                            return e;
                        }
                    }
                    TimeSpan left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero)
                        throw new TestFailure("no " + kind + " event within " + Harness.Wait.TotalSeconds + " s; events: " +
                                              string.Join(", ", _all));
                    Monitor.Wait(_all, left);
                }
            }
        }

        public int Count(Func<Ev, bool> pred)
        {
            int n = 0;
            foreach (Ev e in All) if (pred(e)) n++;
            return n;
        }
    }

    /// <summary>A TCP proxy on 127.0.0.1:0 in front of the server. Cut()
    /// closes every link it carries; while Refusing, new links are accepted
    /// and closed at once, so a client cannot come back until told.</summary>
    internal sealed class FaultProxy : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly int _targetPort;
        private readonly List<TcpClient> _links = new List<TcpClient>();
        private readonly Thread _accept;
        private volatile bool _refusing, _stopped;

        public FaultProxy(string serverUrl)
        {
            _targetPort = new Uri(serverUrl).Port;
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            _accept = new Thread(AcceptLoop) { IsBackground = true, Name = "proxy accept" };
            _accept.Start();
        }

        public string Url { get { return "http://127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port; } }

        public bool Refusing { set { _refusing = value; } }

        public int LinksCut { get; private set; }

        private void AcceptLoop()
        {
            while (!_stopped)
            {
                TcpClient c;
                try { c = _listener.AcceptTcpClient(); }
                catch (SocketException) { return; }
                catch (ObjectDisposedException) { return; }
                if (_refusing || _stopped)
                {
                    c.Close();
                    continue;
                }
                var s = new TcpClient();
                try
                {
                    s.Connect(IPAddress.Loopback, _targetPort);
                }
                catch (SocketException)
                {
                    c.Close();
                    continue;
                }
                lock (_links) { _links.Add(c); _links.Add(s); }
                Pump(c, s, "up");
                Pump(s, c, "down");
            }
        }

        private static void Pump(TcpClient from, TcpClient to, string dir)
        {
            var t = new Thread(() =>
            {
                var buf = new byte[16384];
                try
                {
                    NetworkStream a = from.GetStream(), b = to.GetStream();
                    int n;
                    while ((n = a.Read(buf, 0, buf.Length)) > 0) b.Write(buf, 0, n);
                }
                catch (IOException) { }
                catch (ObjectDisposedException) { }
                catch (InvalidOperationException) { }
                finally
                {
                    from.Close();
                    to.Close();
                }
            }) { IsBackground = true, Name = "proxy " + dir };
            t.Start();
        }

        /// <summary>Closes every current link (both sides).</summary>
        public void Cut()
        {
            List<TcpClient> links;
            lock (_links)
            {
                links = new List<TcpClient>(_links);
                _links.Clear();
            }
            foreach (TcpClient l in links)
            {
                // shutdown wakes a Read blocked on the socket; Close alone may not.
                try { l.Client.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
                l.Close();
            }
            LinksCut += links.Count / 2;
        }

        public void Dispose()
        {
            _stopped = true;
            _listener.Stop();
            Cut();
            _accept.Join(5000);
        }
    }
}
