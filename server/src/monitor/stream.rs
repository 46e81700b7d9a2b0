//! Event streams: `GET /v2/project/{key}/events`, the project's events as
//! Server-Sent Events for an application server that holds the request
//! open (authorized by a project JWT, as every REST route).
//!
//! Each event is one SSE message whose `event:` is the event's name
//! (`connectionCreated`, `connectionDestroyed`) and whose `data:` is the
//! same JSON a callback carries. A stream that falls more than
//! [`protocol::limits::EVENT_STREAM_BUFFER`] events behind skips ahead and gets a `lagged`
//! message (`{"missed": n}`) instead, so one slow reader never holds up
//! the others or the server. An idle stream gets a comment every
//! [`EVENT_STREAM_KEEPALIVE`]. A stream starts with a `ready` message (so
//! the reader knows from when on it hears events) and ends when the server
//! shuts down.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use protocol::limits::{EVENT_STREAM_KEEPALIVE, MAX_EVENT_STREAMS_PER_PROJECT};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::MonitorEvent;
use crate::rest::auth::project_from_jwt;
use crate::rest::error::ApiError;
use crate::server::App;

/// One open stream's receiver; counts as open until dropped.
pub struct Subscription {
    rx: broadcast::Receiver<Arc<MonitorEvent>>,
    _open: OpenGuard,
}

struct OpenGuard(Arc<AtomicUsize>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Subscription {
    /// `None` when [`MAX_EVENT_STREAMS_PER_PROJECT`] are open already.
    pub(super) fn open(
        rx: broadcast::Receiver<Arc<MonitorEvent>>,
        open: Arc<AtomicUsize>,
    ) -> Option<Subscription> {
        let mut n = open.load(Ordering::Acquire);
        loop {
            if n >= MAX_EVENT_STREAMS_PER_PROJECT {
                return None;
            }
            match open.compare_exchange(n, n + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(now) => n = now,
            }
        }
        Some(Subscription {
            rx,
            _open: OpenGuard(open),
        })
    }

    /// The next SSE message, or `None` once the monitor is gone or
    /// `shutdown` fires.
    async fn next(&mut self, shutdown: &CancellationToken) -> Option<Event> {
        let got = tokio::select! {
            got = self.rx.recv() => got,
            () = shutdown.cancelled() => return None,
        };
        Some(match got {
            Ok(ev) => Event::default()
                .event(ev.event.as_str())
                .json_data(&*ev)
                .unwrap_or_else(|_| Event::default().comment("unencodable event")),
            Err(broadcast::error::RecvError::Lagged(missed)) => Event::default()
                .event("lagged")
                .data(format!("{{\"missed\":{missed}}}")),
            Err(broadcast::error::RecvError::Closed) => return None,
        })
    }
}

fn messages(
    sub: Subscription,
    project: String,
    shutdown: CancellationToken,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let ready = Event::default().event("ready").data(format!(
        "{{\"projectId\":{}}}",
        serde_json::Value::from(project)
    ));
    futures_util::stream::unfold(
        (Some(ready), sub, shutdown),
        |(first, mut sub, shutdown)| async move {
            if let Some(ready) = first {
                return Some((Ok(ready), (None, sub, shutdown)));
            }
            let ev = sub.next(&shutdown).await?;
            Some((Ok(ev), (None, sub, shutdown)))
        },
    )
}

/// `GET /v2/project/{key}/events`.
pub async fn events(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    p: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let key = p
        .map(|Path(k)| k)
        .map_err(|_| ApiError::not_found("no such route"))?;
    let project = project_from_jwt(&app.config, &headers, Some(&key))?;
    let Some(sub) = app.hub.monitor().subscribe(&project.api_key) else {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "project {} already has {MAX_EVENT_STREAMS_PER_PROJECT} event streams open on \
                 this server",
                project.api_key
            ),
        ));
    };
    let stream = messages(sub, project.api_key.clone(), app.shutdown.clone());
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(EVENT_STREAM_KEEPALIVE))
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_limit_of_streams_is_open_and_closing_frees_one() {
        let (tx, _) = broadcast::channel::<Arc<MonitorEvent>>(4);
        let open = Arc::new(AtomicUsize::new(0));
        let mut subs: Vec<Subscription> = (0..MAX_EVENT_STREAMS_PER_PROJECT)
            .map(|_| Subscription::open(tx.subscribe(), Arc::clone(&open)).expect("room"))
            .collect();
        assert!(Subscription::open(tx.subscribe(), Arc::clone(&open)).is_none());
        subs.pop();
        assert!(Subscription::open(tx.subscribe(), Arc::clone(&open)).is_some());
        drop(subs);
        assert_eq!(open.load(Ordering::Acquire), 0);
    }
}
