//! The developer's console: a static web page at `/console/` that joins a
//! session with a pasted token, lists the participants, sends broadcast and
//! private signals and logs every signal that arrives. Off unless
//! `--console` (`OTC_CONSOLE`, `console = true`) is given; then these routes
//! are not mounted and `/console/` is the router's 404.
//!
//! Everything the page needs is compiled into the binary with
//! `include_str!`: its HTML, script and style sheet (`server/console/`) and
//! the JavaScript client's ES modules (`server/console/otc/`). Those are a
//! committed copy of what `tsc` builds into `clients/js/dist/`, written by
//! `node clients/js/scripts/console-copy.mjs` (source map comments left
//! out), so a clean clone builds the server without Node; `clients/js`'s
//! test run (`run-tests.sh`) fails when the copy differs from a fresh
//! build, and a unit test below fails when a file of the directory is not
//! in [`ASSETS`] (or the other way round). No framework, no CDN: the page
//! loads nothing from anywhere else, and its Content-Security-Policy says
//! so to the browser.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::rest::ApiError;

/// Where the console is mounted.
pub const CONSOLE_PATH: &str = "/console/";

/// What every console response says to the browser: load and connect to
/// this origin only (the WebSocket included: `connect-src 'self'` covers
/// `ws://` and `wss://` of the same host and port), no inline script or
/// style, no plug-ins, no framing, no form posts, no `<base>`; do not
/// guess content types; send no referrer (a token pasted into the page
/// never leaves it that way); and revalidate, so a new server's files are
/// used at once.
pub const SECURITY_HEADERS: [(&str, &str); 6] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-cache"),
    ("cross-origin-opener-policy", "same-origin"),
];

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// Every file under `/console/`: (path below it, content type, content).
/// `""` is the page itself.
pub const ASSETS: &[(&str, &str, &str)] = &[
    ("", HTML, include_str!("../console/index.html")),
    ("console.js", JS, include_str!("../console/console.js")),
    ("console.css", CSS, include_str!("../console/console.css")),
    ("favicon.svg", SVG, include_str!("../console/favicon.svg")),
    ("otc/codes.js", JS, include_str!("../console/otc/codes.js")),
    (
        "otc/connection.js",
        JS,
        include_str!("../console/otc/connection.js"),
    ),
    (
        "otc/errors.js",
        JS,
        include_str!("../console/otc/errors.js"),
    ),
    (
        "otc/events.js",
        JS,
        include_str!("../console/otc/events.js"),
    ),
    ("otc/index.js", JS, include_str!("../console/otc/index.js")),
    (
        "otc/limits.js",
        JS,
        include_str!("../console/otc/limits.js"),
    ),
    (
        "otc/messages.js",
        JS,
        include_str!("../console/otc/messages.js"),
    ),
    (
        "otc/outbox.js",
        JS,
        include_str!("../console/otc/outbox.js"),
    ),
    (
        "otc/policy.js",
        JS,
        include_str!("../console/otc/policy.js"),
    ),
    (
        "otc/reconnect.js",
        JS,
        include_str!("../console/otc/reconnect.js"),
    ),
    (
        "otc/session.js",
        JS,
        include_str!("../console/otc/session.js"),
    ),
    (
        "otc/transport.js",
        JS,
        include_str!("../console/otc/transport.js"),
    ),
    (
        "otc/validate.js",
        JS,
        include_str!("../console/otc/validate.js"),
    ),
];

/// The console's routes, for [`crate::server`] to merge when the console
/// is on. `/console` (no slash) redirects to `/console/`, so the page's
/// relative URLs resolve below it.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent(CONSOLE_PATH) }),
        )
        .route(CONSOLE_PATH, get(|| async { asset("") }))
        .route(
            "/console/{*file}",
            get(|Path(file): Path<String>| async move { asset(&file) }),
        )
}

/// The file `file` below `/console/` with the security headers, or a 404
/// (also with them).
fn asset(file: &str) -> Response {
    let mut response = match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => {
            ([(header::CONTENT_TYPE, *content_type)], *body).into_response()
        }
        None => ApiError::new(StatusCode::NOT_FOUND, "no such file in the console").into_response(),
    };
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of `server/console/` is served, and nothing else.
    #[test]
    fn every_file_of_the_directory_is_an_asset() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("console");
        let mut on_disk = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("server/console") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let rel = path.strip_prefix(&root).expect("below root");
                let rel = rel.to_str().expect("utf-8 name").replace('\\', "/");
                on_disk.push(if rel == "index.html" {
                    String::new()
                } else {
                    rel
                });
            }
        }
        on_disk.sort();
        let mut listed: Vec<String> = ASSETS.iter().map(|(n, _, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(
            listed, on_disk,
            "server/src/console.rs ASSETS must list exactly the files of server/console/ \
             (after `node clients/js/scripts/console-copy.mjs` added or removed one)"
        );
    }

    #[test]
    fn the_page_has_no_inline_script_or_style_and_loads_only_its_own_files() {
        let page = ASSETS[0].2;
        assert!(page.contains(r#"<script type="module" src="console.js"></script>"#));
        assert!(
            !page.contains("<script>") && !page.contains(" style="),
            "inline"
        );
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "nothing from elsewhere"
        );
        for (name, content_type, body) in ASSETS {
            if *content_type == JS {
                assert!(!body.contains("sourceMappingURL"), "{name}");
            }
        }
    }
}
