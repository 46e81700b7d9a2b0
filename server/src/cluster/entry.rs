//! One event of a session's shared log, in its Redis form: written by the
//! scripts ([`super::scripts`]), read back from the stream or from the
//! feed channel, and turned into the [`Event`] local delivery takes.
//!
//! The frame clients get is serialized once, on the node that produced the
//! event, with a placeholder where the seq goes ([`Template`]); the script
//! that assigns the seq puts it in. So every node delivers the same bytes,
//! and nobody parses JSON on the way.

use protocol::messages::DisconnectReason;
use protocol::ServerMessage;

use crate::hub::node::Event;
use crate::hub::Recipients;
use crate::link::Frame;

/// The seq a [`Template`] is serialized with: a number no session reaches.
const SEQ_MARK: u64 = u64::MAX;

/// A frame's text split around its seq.
#[derive(Debug, Clone)]
pub struct Template {
    pub pre: String,
    pub post: String,
}

impl Template {
    /// `make(seq)` serialized with the placeholder seq, split around it.
    pub fn of(make: impl FnOnce(u64) -> ServerMessage) -> Template {
        let text = make(SEQ_MARK).encode();
        let mark = SEQ_MARK.to_string();
        match text.split_once(&mark) {
            Some((pre, post)) => Template {
                pre: pre.to_string(),
                post: post.to_string(),
            },
            // Not reached: every event frame has a seq.
            None => Template {
                pre: text,
                post: String::new(),
            },
        }
    }

    #[cfg(test)]
    fn render(&self, seq: u64) -> String {
        format!("{}{seq}{}", self.pre, self.post)
    }
}

/// Recipients as the log stores them: `*` everyone, `w:ID` everyone who
/// gets connection events but ID, `l:ID ID …` a list.
pub fn encode_recipients(to: &Recipients) -> String {
    match to {
        Recipients::All => "*".into(),
        Recipients::Watchers { except } => format!("w:{except}"),
        Recipients::List(ids) => format!("l:{}", ids.join(" ")),
    }
}

fn decode_recipients(text: &str) -> Option<Recipients> {
    if text == "*" {
        return Some(Recipients::All);
    }
    if let Some(except) = text.strip_prefix("w:") {
        return Some(Recipients::Watchers {
            except: except.to_string(),
        });
    }
    let ids = text.strip_prefix("l:")?;
    Some(Recipients::List(
        ids.split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    ))
}

/// The fields of one entry, as strings (stream fields or feed lines).
pub struct Fields<'a> {
    pub seq: u64,
    pub kind: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub gone: &'a str,
    pub why: &'a str,
    pub frame: &'a str,
}

impl Fields<'_> {
    /// The event, or `None` for an entry this version cannot read.
    pub fn event(&self) -> Option<Event> {
        let gone = if self.gone.is_empty() {
            None
        } else {
            Some((
                self.gone.to_string(),
                DisconnectReason::from_wire(self.why)?,
            ))
        };
        Some(Event {
            seq: self.seq,
            frame: Frame::from(self.frame.to_string()),
            from: (!self.from.is_empty()).then(|| self.from.to_string()),
            to: decode_recipients(self.to)?,
            gone,
            is_signal: self.kind == "s",
        })
    }
}

/// What one message of a session's feed channel says.
pub enum FeedMessage {
    /// An event, as appended.
    Event(Event),
    /// A connection was resumed on some node with this takeover number.
    Takeover {
        connection_id: String,
        owner_gen: u64,
    },
}

/// Reads one feed message (`None`: not one this version knows).
pub fn parse_feed(payload: &str) -> Option<FeedMessage> {
    if let Some(rest) = payload.strip_prefix("t ") {
        let (id, g) = rest.split_once(' ')?;
        return Some(FeedMessage::Takeover {
            connection_id: id.to_string(),
            owner_gen: g.parse().ok()?,
        });
    }
    let rest = payload.strip_prefix("e ")?;
    let mut lines = rest.splitn(7, '\n');
    let seq = lines.next()?.parse().ok()?;
    let kind = lines.next()?;
    let from = lines.next()?;
    let to = lines.next()?;
    let gone = lines.next()?;
    let why = lines.next()?;
    let frame = lines.next()?;
    Fields {
        seq,
        kind,
        from,
        to,
        gone,
        why,
        frame,
    }
    .event()
    .map(FeedMessage::Event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ConnectionInfo;

    #[test]
    fn a_template_renders_the_frame_the_message_would_be() {
        let t = Template::of(|seq| ServerMessage::Signal {
            seq,
            from: Some("abc".into()),
            signal_type: "chat".into(),
            data: "18446744073709551615 and more".into(),
        });
        let want = ServerMessage::Signal {
            seq: 42,
            from: Some("abc".into()),
            signal_type: "chat".into(),
            data: "18446744073709551615 and more".into(),
        };
        assert_eq!(t.render(42), want.encode());
        let info = ConnectionInfo {
            id: "c1".into(),
            created_at_ms: 5,
            data: String::new(),
        };
        let t = Template::of(|seq| ServerMessage::ConnectionCreated {
            seq,
            connection: info.clone(),
        });
        let want = ServerMessage::ConnectionCreated {
            seq: 7,
            connection: info,
        };
        assert_eq!(t.render(7), want.encode());
    }

    #[test]
    fn recipients_and_feed_messages_read_back() {
        for to in [
            Recipients::All,
            Recipients::Watchers {
                except: "c1".into(),
            },
            Recipients::List(vec!["a".into(), "b".into()]),
        ] {
            assert_eq!(decode_recipients(&encode_recipients(&to)), Some(to));
        }
        let Some(FeedMessage::Event(e)) =
            parse_feed("e 9\nc\n\nw:c1\nc1\nforce_disconnected\n{\"x\":\"a\nb\"}")
        else {
            panic!("an event");
        };
        assert_eq!(e.seq, 9);
        assert_eq!(
            e.gone,
            Some(("c1".into(), DisconnectReason::ForceDisconnected))
        );
        assert_eq!(e.frame.text().as_str(), "{\"x\":\"a\nb\"}");
        assert!(!e.is_signal && e.from.is_none());
        assert!(matches!(
            parse_feed("t c1 3"),
            Some(FeedMessage::Takeover { owner_gen: 3, .. })
        ));
        assert!(parse_feed("e x").is_none());
        assert!(parse_feed("e 1\nc\n\nw:c\nc\nnot_a_reason\n{}").is_none());
    }
}
