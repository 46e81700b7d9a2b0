// The part of include/opentok.h this binding calls, declared for P/Invoke.
//
// Every declaration must match the header exactly: the runtime cannot check
// it, and a wrong type or struct layout is undefined behaviour. Strings go
// in as NUL-terminated UTF-8 byte arrays and come out as IntPtr read by
// Native.Text, so no runtime's default string marshaling is relied on.
//
// The library is named "opentok": Mono resolves it through a <dllmap> in
// OpenTok.dll.config next to OpenTok.dll (bindings/csharp/run-tests.sh
// writes one from OTC_LIBOPENTOK), else as libopentok.so on the dynamic
// loader's path (LD_LIBRARY_PATH, or an install with ldconfig).
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace OpenTok
{
    internal static class Native
    {
        internal const string Lib = "opentok";

        // Callback prototypes, as in otc_session_callbacks.
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void OnSession(IntPtr session, IntPtr userData);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void OnConnection(IntPtr session, IntPtr userData, IntPtr connection);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void OnSignal(IntPtr session, IntPtr userData, IntPtr type, IntPtr signal, IntPtr connection);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void OnError(IntPtr session, IntPtr userData, IntPtr errorString, int errorCode);

        // otc_signal_completion_callback(session, user_data, uint64_t signal_id,
        //                                otc_status result, void *completion_data)
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void OnSignalComplete(IntPtr session, IntPtr userData, ulong signalId, int result, IntPtr completionData);

        // struct otc_session_callbacks: 18 function pointers in the header's
        // order, then user_data and reserved. Fields we do not use stay NULL.
        [StructLayout(LayoutKind.Sequential)]
        internal struct SessionCallbacks
        {
            public IntPtr on_connected;
            public IntPtr on_disconnected;
            public IntPtr on_connection_created;
            public IntPtr on_connection_dropped;
            public IntPtr on_stream_received;
            public IntPtr on_stream_dropped;
            public IntPtr on_stream_has_audio_changed;
            public IntPtr on_stream_has_video_changed;
            public IntPtr on_stream_has_captions_changed;
            public IntPtr on_stream_video_dimensions_changed;
            public IntPtr on_stream_video_type_changed;
            public IntPtr on_signal_received;
            public IntPtr on_reconnection_started;
            public IntPtr on_reconnected;
            public IntPtr on_archive_started;
            public IntPtr on_archive_stopped;
            public IntPtr on_error;
            public IntPtr on_mute_forced;
            public IntPtr user_data;
            public IntPtr reserved;
        }

        // struct otc_signal_options { otc_bool retry_after_reconnect; }, by value.
        [StructLayout(LayoutKind.Sequential)]
        internal struct SignalOptions
        {
            public int retry_after_reconnect;
        }

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int otc_init(IntPtr reserved);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int otc_destroy();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr otc_session_settings_new();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int otc_session_settings_delete(IntPtr settings);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int otc_session_settings_set_server_url(IntPtr settings, byte[] url);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int otc_session_settings_set_connection_events_suppressed(IntPtr settings, int suppress);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int otc_session_settings_set_reconnection_window_ms(IntPtr settings, long ms);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int otc_session_settings_set_ca_file(IntPtr settings, byte[] path);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr otc_session_new_with_settings(byte[] apiKey, byte[] sessionId,
            ref SessionCallbacks callbacks, IntPtr settings);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int otc_session_delete(IntPtr session);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int otc_session_connect(IntPtr session, byte[] token);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int otc_session_disconnect(IntPtr session);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int otc_session_send_signal_with_options(IntPtr session, byte[] type, byte[] signal,
            SignalOptions options);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int otc_session_send_signal_to_connections(IntPtr session, byte[] type, byte[] signal,
            IntPtr[] connectionIds, UIntPtr connectionCount, SignalOptions options,
            OnSignalComplete onComplete, IntPtr completionData, out ulong signalIdOut);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int otc_session_send_signal_to_server(IntPtr session, byte[] type, byte[] signal,
            SignalOptions options, OnSignalComplete onComplete, IntPtr completionData, out ulong signalIdOut);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr otc_session_get_connection(IntPtr session);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr otc_connection_get_id(IntPtr connection);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr otc_connection_get_data(IntPtr connection);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern long otc_connection_get_creation_time(IntPtr connection);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr otc_connection_get_session_id(IntPtr connection);

        /// <summary>A C string as a NUL-terminated UTF-8 array; null stays null (NULL).</summary>
        internal static byte[] Utf8(string s)
        {
            if (s == null) return null;
            int n = Encoding.UTF8.GetByteCount(s);
            var bytes = new byte[n + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        /// <summary>A NUL-terminated UTF-8 C string as a string; NULL gives null.</summary>
        internal static string Text(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) n++;
            var bytes = new byte[n];
            Marshal.Copy(p, bytes, 0, n);
            return Encoding.UTF8.GetString(bytes);
        }
    }
}
