//! How the REST API says no.
//!
//! Every refusal is a JSON body `{"code": <HTTP status>, "message": "..."}`,
//! the shape OpenTok's own REST API answers with, so scripts can read the
//! reason and the official SDKs see the status code they map to exceptions.
//! Messages describe what the *caller* got wrong; internal failures are
//! logged here and answered with a generic 500 so no internal detail leaks.

use std::borrow::Cow;

use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::ErrorCode;
use serde::Serialize;

use crate::hub::HubError;

/// A refusal: status code and a message for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: Cow<'static, str>,
    /// Ask for HTTP Basic credentials (`WWW-Authenticate`), as OpenVidu does
    /// on a 401.
    basic_challenge: bool,
}

#[derive(Serialize)]
struct Body<'a> {
    code: u16,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            status,
            message: message.into(),
            basic_challenge: false,
        }
    }

    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 401 with a Basic challenge (OpenVidu's answer to bad credentials).
    pub fn unauthorized_basic(message: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            basic_challenge: true,
            ..Self::new(StatusCode::UNAUTHORIZED, message)
        }
    }

    /// A failure that is ours, not the caller's: the detail goes to the log,
    /// the caller gets a generic message.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!("REST request failed: {detail}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
    }

    /// A body that could not be read: too large (413) or cut short (400).
    pub fn from_body_rejection(r: &BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "request body is larger than {} bytes",
                    super::MAX_BODY_BYTES
                ),
            )
        } else {
            Self::bad_request("request body could not be read")
        }
    }

    /// The OpenTok status for a hub refusal of a REST signal or force
    /// disconnect: 413 for a type or data over the limits, 400 for other
    /// invalid values, 404 when the session has nobody connected or the
    /// connection is not in it.
    pub fn from_hub(e: HubError) -> Self {
        match e.code {
            ErrorCode::SignalTypeTooLong | ErrorCode::SignalDataTooLong => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, e.message)
            }
            ErrorCode::InvalidSignalType | ErrorCode::NullOrInvalidParameter => {
                Self::bad_request(e.message)
            }
            ErrorCode::InvalidSession | ErrorCode::SignalTargetNotConnected => {
                Self::not_found(e.message)
            }
            // A cluster node cut off from Redis: nothing was done; retry.
            ErrorCode::NoMessagingServer => Self::new(StatusCode::SERVICE_UNAVAILABLE, e.message),
            _ => Self::internal(format!("hub refused with {}: {}", e.code, e.message)),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

/// The message of a refusal, kept in the response's extensions for the
/// request log ([`crate::ops::request_log`]), which logs it with the status.
#[derive(Debug, Clone)]
pub struct RefusalReason(pub Cow<'static, str>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            code: self.status.as_u16(),
            message: &self.message,
        };
        let mut resp = (self.status, Json(body)).into_response();
        resp.extensions_mut()
            .insert(RefusalReason(self.message.clone()));
        if self.basic_challenge {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"openvidu\""),
            );
        }
        resp
    }
}
