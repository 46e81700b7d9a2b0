//! `verify_token`, the server's check of the token in every `connect`.
//!
//! The first input byte picks how the rest becomes a token (the committed
//! seeds start with an ASCII digit, `'0'..='5'`, which is the mode itself):
//!
//! | mode | token |
//! | --- | --- |
//! | 0 | the text as it is (a JWT, or `T1==...` itself) |
//! | 1 | `T1==` + the text |
//! | 2 | `T1==` + base64(text): any content behind a valid base64 layer |
//! | 3 | legacy, `partner_id=KEY&sig=GOOD:` + text, signed over the text |
//! | 4 | JWT over the text as claims (or `header\nclaims`), signed |
//! | 5 | legacy, text split at `:` into head and data, `&sig=GOOD` added to the head |
//!
//! Modes 3-5 sign with the project secret, so the fuzzer reaches the code
//! behind the signature check. `@SID@` in the text is replaced by the
//! session id being joined (created once), so seeds can name it.
//!
//! Beyond "never panics": a token that verifies grants at most
//! `MAX_CONNECTION_DATA_CHARS` of connection data, has not expired, and is
//! refused for another session of the same project.
#![no_main]

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use otc_server::{create_session_id, verify_token, Project};
use protocol::limits::MAX_CONNECTION_DATA_CHARS;

const SID_MARK: &str = "@SID@";

struct Fixture {
    project: Project,
    session: String,
    other_session: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let project = Project::dev();
        Fixture {
            session: create_session_id(&project),
            other_session: create_session_id(&project),
            project,
        }
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha1_hex(secret: &str, data: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(data.as_bytes());
    hex(&mac.finalize().into_bytes())
}

fn jwt(secret: &str, text: &str) -> String {
    let (header, claims) = text
        .split_once('\n')
        .unwrap_or((r#"{"alg":"HS256","typ":"JWT"}"#, text));
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(signed.as_bytes());
    format!(
        "{signed}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let text = String::from_utf8_lossy(rest).replace(SID_MARK, &f.session);
    let secret = f.project.secret().expect("a project secret");
    let token = match mode % 6 {
        0 => text,
        1 => format!("T1=={text}"),
        2 => format!("T1=={}", STANDARD.encode(&text)),
        3 => {
            let raw = format!(
                "partner_id={}&sig={}:{text}",
                f.project.api_key,
                sha1_hex(secret, &text)
            );
            format!("T1=={}", STANDARD.encode(raw))
        }
        4 => jwt(secret, &text),
        _ => {
            let (head, body) = text.split_once(':').unwrap_or(("", &text));
            let raw = format!("{head}&sig={}:{body}", sha1_hex(secret, body));
            format!("T1=={}", STANDARD.encode(raw))
        }
    };

    let before = now_secs();
    let result = verify_token(&f.project, &f.session, &token);
    if let Err(e) = &result {
        // Logged on refusal; must not panic.
        let _ = e.to_string();
    }
    let Ok(grant) = result else { return };
    let chars = grant.connection_data.chars().count();
    assert!(
        chars <= MAX_CONNECTION_DATA_CHARS,
        "granted {chars} characters of connection data"
    );
    assert!(
        grant.expires_at >= before,
        "granted an expired token ({} < {before})",
        grant.expires_at
    );
    assert!(
        verify_token(&f.project, &f.other_session, &token).is_err(),
        "a token for one session opened another"
    );
});
