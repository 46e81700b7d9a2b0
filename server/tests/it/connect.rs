//! Joining a session and the connection events.

use crate::client::*;
use otc_server::{Role, TokenOptions};
use protocol::messages::DisconnectReason;
use protocol::ServerMessage;

#[tokio::test]
async fn connect_sees_others_and_events_flow() {
    let server = start_dev().await;
    let sid = session();
    let data_token = token_with(
        &sid,
        TokenOptions {
            data: Some("name=alice".into()),
            ..Default::default()
        },
    );
    let mut a = Client::join_with(&server, &sid, &data_token, false).await;
    assert_eq!(a.data, "name=alice");
    assert!(a.others.is_empty());

    let mut b = Client::join(&server, &sid).await;
    assert_eq!(b.others.len(), 1);
    assert_eq!(b.others[0].id, a.id);
    assert_eq!(b.others[0].data, "name=alice");

    let c = created(&a.event().await);
    assert_eq!(c.id, b.id);

    // Broadcast reaches everyone, the sender included.
    let seq = a.signal("chat", "hello", None).await;
    a.acked(seq).await;
    let own = a.event().await;
    assert!(
        matches!(own, ServerMessage::Signal { ref from, ref data, .. } if from.as_deref() == Some(a.id.as_str()) && data == "hello")
    );
    assert_eq!(
        b.signal_in().await,
        (Some(a.id.clone()), "chat".into(), "hello".into())
    );

    let b_id = b.id.clone();
    b.disconnect().await;
    assert_eq!(
        destroyed(&a.event().await),
        (b_id, DisconnectReason::ClientDisconnected)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn publisher_only_may_connect_but_not_signal() {
    let server = start_dev().await;
    let sid = session();
    let t = token_with(
        &sid,
        TokenOptions {
            role: Role::PublisherOnly,
            ..Default::default()
        },
    );
    let mut p = Client::join_with(&server, &sid, &t, false).await;
    let seq = p.signal("x", "y", None).await;
    p.refused(seq, protocol::ErrorCode::PermissionDenied).await;
    server.shutdown().await;
}
