//! A WebSocket client written by hand, byte by byte, for frames no real
//! client library would send (unmasked, reserved bits, bad opcodes, broken
//! fragmentation, invalid UTF-8) and to see exactly how the server closes:
//! which frames it sends, the close code, and whether the TCP connection
//! ends cleanly (FIN) or is reset.

use std::time::Duration;

use base64::Engine;
use otc_server::ServerHandle;
use protocol::{SUBPROTOCOL, WS_PATH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::WAIT;

/// An upgraded connection, after the server's 101 answer.
pub struct RawWs {
    pub tcp: TcpStream,
    /// Bytes read after the HTTP answer, not yet parsed into frames.
    buf: Vec<u8>,
}

/// A frame the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFrame {
    pub opcode: u8,
    pub payload: Vec<u8>,
}

/// How the server's side of the connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    /// Orderly end of stream.
    Fin,
    /// `ECONNRESET`: data the client sent was thrown away.
    Reset,
}

/// Builds one client frame: `fin`, `rsv` (the three bits, 0..=7), `opcode`,
/// masked with a fixed key unless `masked` is false.
pub fn frame(fin: bool, rsv: u8, opcode: u8, masked: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | ((rsv & 7) << 4) | (opcode & 0x0f)];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        let key = [0x37u8, 0xfa, 0x21, 0x3d];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// A masked, final text frame.
pub fn text(payload: &str) -> Vec<u8> {
    frame(true, 0, 0x1, true, payload.as_bytes())
}

impl RawWs {
    /// Connects and upgrades, offering our subprotocol.
    pub async fn open(server: &ServerHandle) -> RawWs {
        let mut tcp = TcpStream::connect(server.local_addr())
            .await
            .expect("tcp connect");
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
        let req = format!(
            "GET {WS_PATH} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: {SUBPROTOCOL}\r\n\r\n",
            server.local_addr()
        );
        tcp.write_all(req.as_bytes()).await.expect("write request");
        let mut buf = Vec::new();
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            assert!(buf.len() < 16 * 1024, "no end of the HTTP answer");
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(WAIT, tcp.read(&mut chunk))
                .await
                .expect("answer in time")
                .expect("read answer");
            assert!(n > 0, "closed during the upgrade");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        assert!(head.starts_with("HTTP/1.1 101"), "not upgraded: {head}");
        RawWs {
            tcp,
            buf: buf[head_end..].to_vec(),
        }
    }

    /// Sends raw bytes (write errors are ignored: the server may already
    /// have closed).
    pub async fn send(&mut self, bytes: &[u8]) {
        let _ = self.tcp.write_all(bytes).await;
    }

    /// Reads until the server ends the connection (bounded by [`WAIT`]);
    /// returns every frame it sent and how the stream ended.
    pub async fn read_to_end(&mut self) -> (Vec<ServerFrame>, Ending) {
        let mut ending = Ending::Fin;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let mut chunk = [0u8; 16 * 1024];
            match tokio::time::timeout_at(deadline, self.tcp.read(&mut chunk)).await {
                Err(_) => panic!("the server did not close within {WAIT:?}"),
                Ok(Ok(0)) => break,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                    ending = Ending::Reset;
                    break;
                }
                Ok(Err(e)) => panic!("read failed: {e}"),
            }
        }
        (parse(&self.buf), ending)
    }

    /// The next complete frame, waiting at most `wait`.
    pub async fn next_frame(&mut self, wait: Duration) -> Option<ServerFrame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some((f, used)) = parse_one(&self.buf) {
                self.buf.drain(..used);
                return Some(f);
            }
            let mut chunk = [0u8; 16 * 1024];
            match tokio::time::timeout_at(deadline, self.tcp.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => self.buf.extend_from_slice(&chunk[..n]),
                _ => return None,
            }
        }
    }
}

fn parse_one(b: &[u8]) -> Option<(ServerFrame, usize)> {
    if b.len() < 2 {
        return None;
    }
    let opcode = b[0] & 0x0f;
    assert_eq!(b[1] & 0x80, 0, "server frames are never masked");
    let (len, mut at) = match b[1] & 0x7f {
        126 => (u16::from_be_bytes([*b.get(2)?, *b.get(3)?]) as usize, 4),
        127 => {
            let mut n = [0u8; 8];
            n.copy_from_slice(b.get(2..10)?);
            (u64::from_be_bytes(n) as usize, 10)
        }
        n => (n as usize, 2),
    };
    let payload = b.get(at..at + len)?.to_vec();
    at += len;
    Some((ServerFrame { opcode, payload }, at))
}

fn parse(mut b: &[u8]) -> Vec<ServerFrame> {
    let mut out = Vec::new();
    while let Some((f, used)) = parse_one(b) {
        out.push(f);
        b = &b[used..];
    }
    out
}

/// The close code of a close frame.
pub fn close_code(frames: &[ServerFrame]) -> Option<u16> {
    frames.iter().find(|f| f.opcode == 0x8).and_then(|f| {
        (f.payload.len() >= 2).then(|| u16::from_be_bytes([f.payload[0], f.payload[1]]))
    })
}

/// The `error` frames' codes, in order.
pub fn error_codes(frames: &[ServerFrame]) -> Vec<i32> {
    frames
        .iter()
        .filter(|f| f.opcode == 0x1)
        .filter_map(|f| serde_json::from_slice::<serde_json::Value>(&f.payload).ok())
        .filter(|v| v["kind"] == "error")
        .filter_map(|v| v["code"].as_i64())
        .map(|c| c as i32)
        .collect()
}
