//! A small application server for the monitoring tests: an HTTP
//! endpoint on a loopback port that records the callbacks it gets and
//! checks their signature as a receiver would.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use otc_server::config::Callback;
use otc_server::monitor::webhook::SignatureClaims;
use otc_server::monitor::MonitorEvent;
use otc_server::{Config, ServerHandle, DEV_API_KEY};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

/// Upper bound on one wait for a callback (not a performance assertion).
const WAIT: Duration = Duration::from_secs(10);

/// One request the receiver got.
#[derive(Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn event(&self) -> MonitorEvent {
        serde_json::from_slice(&self.body).expect("a monitoring event")
    }

    /// Checks the signature as a receiver would: HS256 with `secret`, not
    /// expired, issued by `project`, over exactly this body.
    pub fn check_signature(&self, secret: &str, project: &str) {
        let auth = self
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .expect("an Authorization header");
        let jwt = auth.strip_prefix("Bearer ").expect("a bearer token");
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        v.set_required_spec_claims(&["exp", "iss"]);
        v.set_issuer(&[project]);
        let claims = jsonwebtoken::decode::<SignatureClaims>(
            jwt,
            &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
            &v,
        )
        .expect("the signature verifies")
        .claims;
        assert_eq!(claims.payload_hash, hex::encode(Sha256::digest(&self.body)));
        assert_eq!(
            self.headers.get("content-type").map(|v| v.as_bytes()),
            Some(&b"application/json"[..])
        );
    }
}

/// An application server's callback endpoint on a loopback port: it
/// answers each request with the next status of `script` (200 once the
/// script is used up) and hands the request to the test.
pub struct Receiver {
    pub url: String,
    rx: mpsc::UnboundedReceiver<Received>,
    script: Arc<Mutex<VecDeque<StatusCode>>>,
    stop: tokio::sync::oneshot::Sender<()>,
}

type Shared = (
    mpsc::UnboundedSender<Received>,
    Arc<Mutex<VecDeque<StatusCode>>>,
);

async fn record(State((tx, script)): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let status = script
        .lock()
        .expect("script")
        .pop_front()
        .unwrap_or(StatusCode::OK);
    let _ = tx.send(Received { headers, body });
    status
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/events", listener.local_addr().expect("addr"));
        let (tx, rx) = mpsc::unbounded_channel();
        let script = Arc::new(Mutex::new(VecDeque::new()));
        let app = Router::new()
            .route("/events", post(record))
            .with_state((tx, Arc::clone(&script)));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Receiver {
            url,
            rx,
            script,
            stop,
        }
    }

    /// The next answers, before the default 200s.
    pub fn answer_next(&self, statuses: &[StatusCode]) {
        self.script.lock().expect("script").extend(statuses);
    }

    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("a callback within the wait")
            .expect("receiver running")
    }

    /// Nothing more arrives within `d` (used only to show that something
    /// is NOT retried or repeated).
    pub async fn quiet_for(&mut self, d: Duration) -> bool {
        tokio::time::timeout(d, self.rx.recv()).await.is_err()
    }

    pub fn stop(self) {
        let _ = self.stop.send(());
    }
}

/// The development project with its callbacks going to `url`.
pub fn config_with_callback(url: &str, secret: Option<&str>) -> Config {
    Config {
        callbacks: vec![Callback {
            api_key: DEV_API_KEY.into(),
            url: url.into(),
            secret: secret.map(str::to_string),
        }],
        ..Config::dev()
    }
}

/// Reads an event stream's messages (`event:` name and `data:`).
pub struct Sse {
    pub resp: reqwest::Response,
    pub buf: String,
}

impl Sse {
    pub async fn open(server: &ServerHandle, auth: Option<String>) -> reqwest::Response {
        let mut req = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client")
            .get(format!(
                "{}/v2/project/{DEV_API_KEY}/events",
                server.base_url()
            ));
        if let Some(a) = auth {
            req = req.header("X-OPENTOK-AUTH", a);
        }
        req.send().await.expect("GET events")
    }

    pub async fn next(&mut self) -> (String, String) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let msg: String = self.buf.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in msg.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if name.is_empty() && data.is_empty() {
                    continue; // a keep-alive comment
                }
                return (name, data);
            }
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk())
                .await
                .expect("an event within the wait")
                .expect("stream readable")
                .expect("stream still open");
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Opens a stream with the development project's JWT and reads its
    /// `ready` message.
    pub async fn ready(server: &ServerHandle) -> Sse {
        let jwt =
            otc_server::rest::mint_rest_token(&otc_server::Project::dev(), Duration::from_secs(60))
                .expect("jwt");
        let resp = Sse::open(server, Some(jwt)).await;
        assert_eq!(resp.status(), reqwest::StatusCode::OK);
        let mut s = Sse {
            resp,
            buf: String::new(),
        };
        assert_eq!(s.next().await.0, "ready");
        s
    }
}
