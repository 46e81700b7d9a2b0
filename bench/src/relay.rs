//! The baseline: a minimal relay written with tokio-tungstenite.
//!
//! It is what "the transport's practical limit" means in the results: accept
//! WebSocket connections, put each in the *room* named by its URL path, and
//! forward every text frame a member sends, unchanged, to every other member
//! of its room. No parsing, no authentication, no acknowledgements, no
//! replay — only the work any WebSocket relay must do. Writes are batched
//! (feed everything queued, then flush once) and TCP_NODELAY is set, as a
//! careful hand-written relay would do.
//!
//! It runs as a child process (`otc-bench relay --listen ADDR`) so that its
//! CPU time and memory can be read from `/proc` exactly like the server's.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Frames queued per member before its room's senders wait for it.
const QUEUE_FRAMES: usize = 4096;

type Members = Arc<Vec<(u64, mpsc::Sender<Message>)>>;

/// Rooms by name. Each room's member list is copied on join/leave and shared
/// read-only while forwarding, so a frame costs one lock and one `Arc` clone.
#[derive(Default)]
struct Rooms {
    rooms: Mutex<HashMap<String, Members>>,
    next_id: AtomicU64,
}

impl Rooms {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Members>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn join(&self, room: &str, tx: mpsc::Sender<Message>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut rooms = self.lock();
        let entry = rooms.entry(room.to_string()).or_default();
        let mut v: Vec<_> = entry.iter().cloned().collect();
        v.push((id, tx));
        *entry = Arc::new(v);
        id
    }

    fn leave(&self, room: &str, id: u64) {
        let mut rooms = self.lock();
        if let Some(entry) = rooms.get_mut(room) {
            let v: Vec<_> = entry.iter().filter(|(m, _)| *m != id).cloned().collect();
            if v.is_empty() {
                rooms.remove(room);
            } else {
                *entry = Arc::new(v);
            }
        }
    }

    fn members(&self, room: &str) -> Option<Members> {
        self.lock().get(room).cloned()
    }
}

/// Accepts connections until the process ends.
pub async fn serve(listener: TcpListener) {
    let rooms = Arc::new(Rooms::default());
    loop {
        match listener.accept().await {
            Ok((sock, _)) => {
                let _ = sock.set_nodelay(true);
                tokio::spawn(member(sock, Arc::clone(&rooms)));
            }
            // Out of descriptors or similar: back off instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn member(sock: TcpStream, rooms: Arc<Rooms>) {
    let mut room = String::new();
    // The callback's type is tungstenite's, large error variant included.
    #[allow(clippy::result_large_err)]
    let remember_path = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        room = req.uri().path().to_string();
        Ok(resp)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(sock, remember_path).await else {
        return;
    };
    let (tx, rx) = mpsc::channel(QUEUE_FRAMES);
    let id = rooms.join(&room, tx);
    let (sink, mut stream) = ws.split();
    let writer = tokio::spawn(write_loop(sink, rx));
    while let Some(Ok(msg)) = stream.next().await {
        match msg {
            Message::Text(_) => {
                let Some(members) = rooms.members(&room) else {
                    continue;
                };
                for (other, tx) in members.iter() {
                    if *other != id {
                        // A gone member is simply skipped.
                        let _ = tx.send(msg.clone()).await;
                    }
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    rooms.leave(&room, id);
    writer.abort();
}

/// Writes queued frames, batching whatever is already waiting into one flush.
async fn write_loop(
    mut sink: SplitSink<WebSocketStream<TcpStream>, Message>,
    mut rx: mpsc::Receiver<Message>,
) {
    while let Some(m) = rx.recv().await {
        if sink.feed(m).await.is_err() {
            return;
        }
        while let Ok(m) = rx.try_recv() {
            if sink.feed(m).await.is_err() {
                return;
            }
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
}
