//! The developer's console (`--console`): 404 when off, every file served
//! with its content type and the security headers when on, and the page
//! loads nothing but the server's own files.

use otc_server::console::{ASSETS, SECURITY_HEADERS};
use otc_server::{Config, ServerHandle};
use reqwest::StatusCode;

use crate::client::{start, WAIT};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(WAIT)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

async fn get(server: &ServerHandle, path: &str) -> reqwest::Response {
    http()
        .get(format!("{}{path}", server.base_url()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

async fn with_console(on: bool) -> ServerHandle {
    start(Config {
        console: on,
        ..Config::dev()
    })
    .await
}

#[tokio::test]
async fn console_is_404_when_off() {
    let server = with_console(false).await;
    for path in [
        "/console/",
        "/console",
        "/console/console.js",
        "/console/otc/index.js",
    ] {
        let r = get(&server, path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = r.json().await.expect("the usual JSON error body");
        assert_eq!(body["code"], 404, "{path}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn console_is_served_with_security_headers_when_on() {
    let server = with_console(true).await;
    assert!(
        ASSETS.len() >= 4,
        "the page, its script and style, the client"
    );
    for (name, content_type, body) in ASSETS {
        let path = format!("/console/{name}");
        let r = get(&server, &path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let h = r.headers().clone();
        assert_eq!(
            h.get("content-type").and_then(|v| v.to_str().ok()),
            Some(*content_type),
            "{path}"
        );
        for (header, value) in SECURITY_HEADERS {
            assert_eq!(
                h.get(header).and_then(|v| v.to_str().ok()),
                Some(value),
                "{path}: {header}"
            );
        }
        assert_eq!(r.text().await.expect("body"), *body, "{path}");
    }
    // The policy: this origin only, no inline script.
    let (_, csp) = SECURITY_HEADERS[0];
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert_eq!(SECURITY_HEADERS[1], ("x-content-type-options", "nosniff"));

    // The page names its script and style, and the script the client.
    let page = get(&server, "/console/").await.text().await.expect("page");
    assert!(page.contains(r#"src="console.js""#), "{page}");
    assert!(page.contains(r#"href="console.css""#), "{page}");
    let script = get(&server, "/console/console.js")
        .await
        .text()
        .await
        .expect("script");
    assert!(script.contains(r#"from "./otc/index.js""#));

    // Without the slash: redirected to the page.
    let r = get(&server, "/console").await;
    assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        r.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/console/")
    );
    // A file that is not there: 404, with the headers too.
    for path in [
        "/console/nope.js",
        "/console/otc/",
        "/console/../Cargo.toml",
        "/console/otc/index.js.map",
    ] {
        let r = get(&server, path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        if path.contains("..") {
            continue; // normalised by the client before it is sent
        }
        assert_eq!(
            r.headers()
                .get("x-content-type-options")
                .and_then(|v| v.to_str().ok()),
            Some("nosniff"),
            "{path}"
        );
    }
    // The rest of the server is unchanged beside it.
    assert_eq!(get(&server, "/healthz").await.status(), StatusCode::OK);
    server.shutdown().await;
}
