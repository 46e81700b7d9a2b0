//! `verify_session_id`, run on the session id of every `connect` and every
//! REST call, and `api_key_of`, which the CLI uses on ids it is given.
//!
//! The first input byte picks how the rest becomes an id (the committed
//! seeds start with the ASCII digit of their mode):
//!
//! | mode | id |
//! | --- | --- |
//! | 0 | the text as it is |
//! | 1 | `1_` + base64url(text), unpadded |
//! | 2 | `1_` + base64url(text), padded |
//! | 3 | `1_` + base64url(text + `~` + the right MAC of text) |
//!
//! Mode 3 checks verification against the format in session_id.rs: a
//! correctly signed id is accepted exactly when its body is
//! `1~API_KEY~x~y` (no further `~`) and the id is at most `MAX_ID_BYTES`
//! long. In every mode, an accepted id names the project's API key and is
//! refused by a project with another key (foreign) or another secret (bad
//! signature).
#![no_main]

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use otc_server::auth::session_id::api_key_of;
use otc_server::auth::{verify_session_id, SessionIdError};
use otc_server::Project;
use protocol::limits::MAX_ID_BYTES;

fn mac_hex(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let project = Project::dev();
    let text = String::from_utf8_lossy(rest);
    let id = match mode % 4 {
        0 => text.to_string(),
        1 => format!("1_{}", URL_SAFE_NO_PAD.encode(text.as_bytes())),
        2 => format!("1_{}", URL_SAFE.encode(text.as_bytes())),
        _ => {
            let mac = mac_hex(project.secret().expect("a project secret"), &text);
            format!("1_{}", URL_SAFE_NO_PAD.encode(format!("{text}~{mac}")))
        }
    };

    let result = verify_session_id(&project, &id);
    if let Err(e) = &result {
        let _ = e.to_string();
    }
    let _ = api_key_of(&id);
    if mode % 4 == 3 {
        let fields: Vec<&str> = text.split('~').collect();
        let well_formed = fields.len() == 4
            && fields[0] == "1"
            && fields[1] == project.api_key
            && id.len() <= MAX_ID_BYTES;
        assert_eq!(
            result.is_ok(),
            well_formed,
            "signed id {id:?} (body {text:?}): {result:?}"
        );
    }
    if result.is_err() {
        return;
    }
    assert_eq!(api_key_of(&id), Ok(project.api_key.clone()));
    let foreign = Project {
        api_key: format!("{}9", project.api_key),
        ..project.clone()
    };
    assert_eq!(
        verify_session_id(&foreign, &id),
        Err(SessionIdError::ForeignProject)
    );
    let impostor = Project::new(
        project.api_key.clone(),
        format!("{}-not", project.secret().expect("a project secret")),
    );
    assert_eq!(
        verify_session_id(&impostor, &id),
        Err(SessionIdError::BadSignature)
    );
});
