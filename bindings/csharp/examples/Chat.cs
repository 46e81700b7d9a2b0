// Chat: a terminal chat room on the C# binding, like c-examples/chat.c.
//
// Each line read from stdin is broadcast to the session as a signal of type
// "chat"; "/to ID TEXT" sends TEXT to one connection as a signal of type
// "private" (and says when the server has routed it). What arrives is printed
// as
//     [SENDER] TYPE: DATA            SENDER is a connection id, "server" for REST
//     [SENDER (own)] chat: TEXT      our own broadcast, back again
//     [SENDER -> US] private: TEXT   a signal sent to us only
// and what happens as "* ..." lines, errors as "! ..." lines. At the end of
// input (or "/quit") it leaves the session; when the session ends without
// us (the server dropped us), the program ends at once.
//
// Usage: mono Chat.exe [--server URL] [--timeout SECONDS] API_KEY SESSION_ID TOKEN
// Exit status: 0 when it connected and left by itself, 1 otherwise, 2 for usage.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using OpenTok;

internal static class ChatExample
{
    private static readonly object Out = new object();
    private static readonly Dictionary<string, Connection> Peers = new Dictionary<string, Connection>();
    private static readonly ManualResetEvent Joined = new ManualResetEvent(false);
    private static readonly ManualResetEvent Left = new ManualResetEvent(false);
    private static volatile bool _connected;
    private static string _me = "?";

    private static void Say(string format, params object[] args)
    {
        lock (Out)
        {
            Console.WriteLine(format, args);
            Console.Out.Flush();
        }
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: mono Chat.exe [--server URL] [--timeout SECONDS] API_KEY SESSION_ID TOKEN");
        return 2;
    }

    private static int Main(string[] args)
    {
        string server = null;
        double timeout = 15;
        var rest = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--server" && i + 1 < args.Length) server = args[++i];
            else if (args[i] == "--timeout" && i + 1 < args.Length && double.TryParse(args[i + 1], out timeout)) i++;
            else if (args[i].StartsWith("--")) return Usage();
            else rest.Add(args[i]);
        }
        if (rest.Count != 3) return Usage();

        using (var session = new Session(rest[0], rest[1], server))
        {
            session.Connected += (s, e) =>
            {
                _me = session.Connection.Id;
                _connected = true;
                Say("* connected as {0}", _me);
                Joined.Set();
            };
            session.Disconnected += (s, e) =>
            {
                Say("* disconnected");
                Left.Set();
                Ended.Cancel();
                Joined.Set();
            };
            session.ConnectionCreated += (s, e) =>
            {
                lock (Peers) Peers[e.Connection.Id] = e.Connection;
                Say("* connection created: {0}{1}", e.Connection.Id, e.Connection.Data.Length > 0 ? " data=" + e.Connection.Data : "");
            };
            session.ConnectionDropped += (s, e) =>
            {
                lock (Peers) Peers.Remove(e.Connection.Id);
                Say("* connection dropped: {0}", e.Connection.Id);
            };
            session.Signal += (s, e) =>
            {
                if (e.Connection == null) Say("[server] {0}: {1}", e.Type, e.Data);
                else if (e.Type == "private") Say("[{0} -> {1}] {2}: {3}", e.Connection.Id, _me, e.Type, e.Data);
                else Say("[{0}{1}] {2}: {3}", e.Connection.Id, e.Connection.Id == _me ? " (own)" : "", e.Type, e.Data);
            };
            session.ReconnectionStart += (s, e) => Say("* reconnecting (lines typed now are sent once it is back)");
            session.ReconnectionSuccess += (s, e) => Say("* reconnected as {0}", _me);
            session.Error += (s, e) => Say("! error {0}: {1}", (int)e.ErrorCode, e.Message);

            session.Connect(rest[2]);
            if (!Joined.WaitOne(TimeSpan.FromSeconds(timeout)) || !_connected)
            {
                Say("! could not connect");
                return 1;
            }
            bool ok = true;
            // stdin is read on a thread of its own, so that a session ended by
            // the server ends the program at once, without waiting for a line.
            var lines = new BlockingCollection<string>();
            var reader = new Thread(() =>
            {
                string l;
                while ((l = Console.ReadLine()) != null) lines.Add(l);
                lines.CompleteAdding();
            }) { IsBackground = true };
            reader.Start();
            foreach (string line in Lines(lines))
            {
                if (line == "/quit") break;
                try
                {
                    if (line.StartsWith("/to "))
                        ok &= SendPrivately(session, line.Substring(4));
                    else if (line.Length > 0)
                        session.SendSignal("chat", line);
                }
                catch (OpenTokException e)
                {
                    Say("! not sent: {0}", e.Message);
                    ok = false;
                }
            }
            if (Left.WaitOne(0))
            {
                ok = false; // the session ended without us
            }
            else
            {
                session.Disconnect();
                if (!Left.WaitOne(TimeSpan.FromSeconds(timeout))) ok = false;
            }
            return ok ? 0 : 1;
        }
    }

    private static readonly CancellationTokenSource Ended = new CancellationTokenSource();

    // The lines read, until the end of input or the end of the session.
    private static IEnumerable<string> Lines(BlockingCollection<string> lines)
    {
        while (true)
        {
            string line;
            try
            {
                if (!lines.TryTake(out line, Timeout.Infinite, Ended.Token)) yield break;
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
            yield return line;
        }
    }

    private static bool SendPrivately(Session session, string rest)
    {
        int sp = rest.IndexOf(' ');
        if (sp <= 0)
        {
            Say("! usage: /to <connection-id> <text>");
            return false;
        }
        string id = rest.Substring(0, sp), text = rest.Substring(sp + 1);
        Connection to;
        lock (Peers) Peers.TryGetValue(id, out to);
        if (to == null)
        {
            Say("! no connection {0} in this session", id);
            return true;
        }
        // SendSignal(type, data, connection) is the SDK's call; the async one
        // (this binding's addition) also says when the server has routed it.
        session.SendSignalAsync("private", text, new[] { to }).ContinueWith(t =>
        {
            if (t.IsFaulted) Say("! private message to {0} not sent: {1}", id, t.Exception.InnerException.Message);
            else Say("* sent privately to {0}: {1}", id, text);
        });
        return true;
    }
}
