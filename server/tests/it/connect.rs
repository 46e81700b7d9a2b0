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

/// A session whose participant list is far larger than one frame can still
/// be joined: the list comes paged (`connected`, then `connections`
/// frames), every page within the frame limit, before any event.
#[tokio::test]
async fn a_participant_list_larger_than_a_frame_is_paged() {
    use futures_util::StreamExt;
    use protocol::limits::{
        CONNECTION_LIST_PAGE_BYTES, MAX_CONNECTION_DATA_CHARS, MAX_FRAME_BYTES,
    };
    use tokio_tungstenite::tungstenite::Message;
    let server = start_dev().await;
    let sid = session();
    // Each entry's data escapes to six bytes a character in JSON: about
    // 6 KB per participant, 720 KB for the list.
    let data = "\u{1}".repeat(MAX_CONNECTION_DATA_CHARS);
    let mut present = Vec::new();
    for _ in 0..120 {
        let t = token_with(
            &sid,
            TokenOptions {
                data: Some(data.clone()),
                ..Default::default()
            },
        );
        present.push(Client::join_with(&server, &sid, &t, true).await);
    }
    let mut ws = open(&server).await;
    send(&mut ws, &connect_msg(&sid, &token(&sid), false)).await;
    let mut listed = Vec::new();
    let mut frames = 0;
    while listed.len() < present.len() {
        let text = match tokio::time::timeout(WAIT, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => t,
            other => panic!("expected a text frame, got {other:?}"),
        };
        assert!(
            text.len() <= MAX_FRAME_BYTES,
            "a frame of {} bytes",
            text.len()
        );
        assert!(
            text.len() <= CONNECTION_LIST_PAGE_BYTES + 2048,
            "a page of {} bytes",
            text.len()
        );
        let connections = match ServerMessage::decode(&text).expect("decode") {
            ServerMessage::Connected { connections, .. } if frames == 0 => connections,
            ServerMessage::Connections { connections } if frames > 0 => connections,
            other => panic!("frame {frames}: unexpected {other:?}"),
        };
        assert!(!connections.is_empty());
        frames += 1;
        listed.extend(connections);
    }
    assert!(frames > 10, "{frames} frames");
    let want: Vec<&str> = present.iter().map(|c| c.id.as_str()).collect();
    let got: Vec<&str> = listed.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(got, want, "everyone, once, in joining order");
    assert!(listed.iter().all(|c| c.data == data));
    // Then events as usual.
    let seq = present[0].signal("after", "list", None).await;
    present[0].acked(seq).await;
    let next = match tokio::time::timeout(WAIT, ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => ServerMessage::decode(&t).expect("decode"),
        other => panic!("{other:?}"),
    };
    assert!(
        matches!(next, ServerMessage::Signal { ref data, .. } if data == "list"),
        "{next:?}"
    );
    server.shutdown().await;
}
