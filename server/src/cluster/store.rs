//! The cluster's shared state in Redis: typed calls over the scripts
//! ([`super::scripts`]) and plain reads of the log. The one place that
//! talks to Redis with commands (the feed's subscriptions are in
//! [`super::feed`]).
//!
//! The connection is redis-rs's `ConnectionManager`: one multiplexed
//! connection that reconnects by itself. A call made while Redis is
//! unreachable fails at once with [`StoreError::Unavailable`]; callers turn
//! that into `OTC_SESSION_NO_MESSAGING_SERVER` (1503) or try again.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

use super::entry::{encode_recipients, Fields, Template};
use super::keys::{self, SessionKeys};
use super::scripts::Scripts;
use crate::hub::node::Event;
use crate::hub::Recipients;

/// How long one Redis call may take before it counts as failed.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// A failed Redis call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis could not be reached, or did not answer in time.
    #[error("Redis is unreachable: {0}")]
    Unavailable(String),
    /// Redis answered something the scripts never answer (a bug, or keys
    /// changed by hand).
    #[error("unexpected answer from Redis: {0}")]
    Unexpected(String),
}

impl From<redis::RedisError> for StoreError {
    fn from(e: redis::RedisError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// A member as the shared state describes it (for lists).
#[derive(Debug, Clone)]
pub struct Listed {
    pub info_json: String,
    pub join_order: u64,
}

/// What the join script answered.
pub enum Joined {
    Done {
        join_order: u64,
        seq: u64,
        others: Vec<Listed>,
    },
    OtherProject,
    Full,
}

/// What the resume script answered.
pub enum Resumed {
    Done {
        owner_gen: u64,
        role: String,
        suppress: bool,
        join_order: u64,
        info_json: String,
        client_seqs: String,
        top: u64,
        project: String,
        settled: u64,
    },
    Refused,
}

/// What the signal script answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Signalled {
    Appended(u64),
    Missing(String),
    NotOwner,
    Repeat,
    Nobody,
    OtherProject,
}

/// What the leave script answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Left {
    Appended(u64),
    NotMember,
    NotOwner,
    OtherProject,
}

/// A signal to append.
pub struct SignalCall<'a> {
    pub session_id: &'a str,
    /// Sender and its owner string (`None`: the application server).
    pub from: Option<(&'a str, String)>,
    pub client_seq: u64,
    pub client_seqs: &'a str,
    pub to: &'a Recipients,
    pub template: &'a Template,
    /// Checked against the session's project (REST), if given.
    pub project: Option<&'a str>,
}

/// The cluster's Redis state.
#[derive(Clone)]
pub struct Store {
    conn: ConnectionManager,
    scripts: std::sync::Arc<Scripts>,
    /// Told of every departure this store's leave script made: the script
    /// runs once per departure, so the cluster reports each one once.
    monitor: crate::monitor::Monitor,
}

fn owner_string(node: &str, owner_gen: u64) -> String {
    format!("{node}|{owner_gen}")
}

impl Store {
    /// A store over `client`. The connection is made on first use and
    /// repaired after a loss, in the background.
    pub fn connect(
        client: redis::Client,
        monitor: crate::monitor::Monitor,
    ) -> Result<Store, StoreError> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| StoreError::Unexpected(e.to_string()))?;
        Ok(Store {
            conn,
            scripts: std::sync::Arc::new(Scripts::new()),
            monitor,
        })
    }

    /// The owner string of this node's takeover `owner_gen`.
    pub fn owner(node: &str, owner_gen: u64) -> String {
        owner_string(node, owner_gen)
    }

    async fn run(
        &self,
        script: &Script,
        session_id: &str,
        args: &[&str],
    ) -> Result<Vec<String>, StoreError> {
        let keys = SessionKeys::new(session_id);
        let mut inv = script.prepare_invoke();
        for k in &keys.keys {
            inv.key(k);
        }
        inv.arg(&keys.feed);
        for a in args {
            inv.arg(*a);
        }
        let mut conn = self.conn.clone();
        let out: Vec<String> = tokio::time::timeout(CALL_TIMEOUT, inv.invoke_async(&mut conn))
            .await
            .map_err(|_| StoreError::Unavailable("no answer in time".into()))??;
        if out.is_empty() {
            return Err(StoreError::Unexpected("an empty answer".into()));
        }
        Ok(out)
    }

    /// Adds a member: see the join script.
    #[allow(clippy::too_many_arguments)]
    pub async fn join(
        &self,
        session_id: &str,
        connection_id: &str,
        info_json: &str,
        meta: &str,
        node: &str,
        max: usize,
        project: &str,
        created: &Template,
        want_list: bool,
    ) -> Result<Joined, StoreError> {
        let max = max.to_string();
        let want = if want_list { "1" } else { "0" };
        let out = self
            .run(
                &self.scripts.join,
                session_id,
                &[
                    connection_id,
                    info_json,
                    meta,
                    node,
                    &max,
                    project,
                    &created.pre,
                    &created.post,
                    want,
                ],
            )
            .await?;
        match out[0].as_str() {
            "0" if out.len() >= 3 => Ok(Joined::Done {
                join_order: number(&out[1])?,
                seq: number(&out[2])?,
                others: listed(&out[3..])?,
            }),
            "1" => Ok(Joined::OtherProject),
            "2" => Ok(Joined::Full),
            _ => Err(unexpected(&out)),
        }
    }

    /// Takes a connection over for this node: see the resume script.
    pub async fn resume(
        &self,
        session_id: &str,
        connection_id: &str,
        secret_hash: &str,
        node: &str,
        last_seq: u64,
    ) -> Result<Resumed, StoreError> {
        let last = last_seq.to_string();
        let out = self
            .run(
                &self.scripts.resume,
                session_id,
                &[connection_id, secret_hash, node, &last],
            )
            .await?;
        match out[0].as_str() {
            "0" if out.len() == 10 => Ok(Resumed::Done {
                owner_gen: number(&out[1])?,
                role: out[2].clone(),
                suppress: out[3] == "1",
                join_order: number(&out[4])?,
                info_json: out[5].clone(),
                client_seqs: out[6].clone(),
                top: number(&out[7])?,
                project: out[8].clone(),
                settled: number(&out[9])?,
            }),
            "1" => Ok(Resumed::Refused),
            _ => Err(unexpected(&out)),
        }
    }

    /// Appends a signal: see the signal script.
    pub async fn signal(&self, call: &SignalCall<'_>) -> Result<Signalled, StoreError> {
        let (from, owner) = match &call.from {
            Some((id, owner)) => (*id, owner.as_str()),
            None => ("", ""),
        };
        let seq = call.client_seq.to_string();
        let to = encode_recipients(call.to);
        let out = self
            .run(
                &self.scripts.signal,
                call.session_id,
                &[
                    from,
                    owner,
                    &seq,
                    call.client_seqs,
                    &to,
                    &call.template.pre,
                    &call.template.post,
                    call.project.unwrap_or(""),
                ],
            )
            .await?;
        match (out[0].as_str(), out.get(1)) {
            ("0", Some(seq)) => Ok(Signalled::Appended(number(seq)?)),
            ("1", Some(id)) => Ok(Signalled::Missing(id.clone())),
            ("2", _) => Ok(Signalled::NotOwner),
            ("3", _) => Ok(Signalled::Repeat),
            ("4", _) => Ok(Signalled::Nobody),
            ("5", _) => Ok(Signalled::OtherProject),
            _ => Err(unexpected(&out)),
        }
    }

    /// Counts client seq `client_seq` of a signal to the application server
    /// (which appends nothing to the log): see the client seq script.
    pub async fn count_client_seq(
        &self,
        session_id: &str,
        connection_id: &str,
        owner: &str,
        client_seq: u64,
        client_seqs: &str,
    ) -> Result<Signalled, StoreError> {
        let seq = client_seq.to_string();
        let out = self
            .run(
                &self.scripts.client_seq,
                session_id,
                &[connection_id, owner, &seq, client_seqs],
            )
            .await?;
        match out[0].as_str() {
            "0" => Ok(Signalled::Appended(0)),
            "2" => Ok(Signalled::NotOwner),
            "3" => Ok(Signalled::Repeat),
            _ => Err(unexpected(&out)),
        }
    }

    /// Removes a member and appends its departure: see the leave script.
    pub async fn leave(
        &self,
        session_id: &str,
        connection_id: &str,
        expected_owner: Option<&str>,
        reason: protocol::messages::DisconnectReason,
        project: Option<&str>,
    ) -> Result<Left, StoreError> {
        let template = Template::of(|seq| protocol::ServerMessage::ConnectionDestroyed {
            seq,
            connection_id: connection_id.to_string(),
            reason,
        });
        let out = self
            .run(
                &self.scripts.leave,
                session_id,
                &[
                    connection_id,
                    expected_owner.unwrap_or(""),
                    reason.as_str(),
                    &template.pre,
                    &template.post,
                    project.unwrap_or(""),
                ],
            )
            .await?;
        match (out[0].as_str(), out.get(1)) {
            ("0", Some(seq)) => {
                let info = out.get(2).and_then(|j| serde_json::from_str(j).ok());
                match (info, out.get(3).filter(|p| !p.is_empty())) {
                    (Some(info), Some(project)) => self.monitor.emit(
                        crate::monitor::MonitorEvent::destroyed(project, session_id, &info, reason),
                    ),
                    _ => {
                        tracing::warn!(session = %session_id, connection = %connection_id, "cluster: a departure without its connection's info or project is not reported to the application server")
                    }
                }
                Ok(Left::Appended(number(seq)?))
            }
            ("1", _) => Ok(Left::NotMember),
            ("2", _) => Ok(Left::NotOwner),
            ("5", _) => Ok(Left::OtherProject),
            _ => Err(unexpected(&out)),
        }
    }

    /// Records how far members are settled (raised, never lowered) and
    /// trims the log below the lowest.
    pub async fn ack(&self, session_id: &str, acks: &[(String, u64)]) -> Result<(), StoreError> {
        let flat: Vec<String> = acks
            .iter()
            .flat_map(|(c, n)| [c.clone(), n.to_string()])
            .collect();
        let args: Vec<&str> = flat.iter().map(String::as_str).collect();
        self.run(&self.scripts.ack, session_id, &args).await?;
        Ok(())
    }

    /// For a dead node: how many of the session's connections it still
    /// owns, and those whose grace is over (connection id, owner).
    pub async fn reap(
        &self,
        session_id: &str,
        node: &str,
        now_ms: u64,
        grace: Duration,
    ) -> Result<(u64, Vec<(String, String)>), StoreError> {
        let prefix = format!("{node}|");
        let now = now_ms.to_string();
        let grace = grace.as_millis().to_string();
        let out = self
            .run(&self.scripts.reap, session_id, &[&prefix, &now, &grace])
            .await?;
        if out[0] != "0" || out.len() < 2 || !out.len().is_multiple_of(2) {
            return Err(unexpected(&out));
        }
        let left = number(&out[1])?;
        let expired = out[2..]
            .chunks(2)
            .map(|p| (p[0].clone(), p[1].clone()))
            .collect();
        Ok((left, expired))
    }

    /// The session's project (`None`: no such session) and members.
    pub async fn list(
        &self,
        session_id: &str,
    ) -> Result<(Option<String>, Vec<Listed>), StoreError> {
        let out = self.run(&self.scripts.list, session_id, &[]).await?;
        if out[0] != "0" || out.len() < 2 {
            return Err(unexpected(&out));
        }
        let project = (!out[1].is_empty()).then(|| out[1].clone());
        Ok((project, listed(&out[2..])?))
    }

    /// The owners (`node|takeover`) of these connections, `None` for one
    /// the session does not hold; asked by the node that holds them, which
    /// also clears any reaper's marks on them (see `liveness`).
    pub async fn owners(
        &self,
        session_id: &str,
        ids: &[String],
    ) -> Result<Vec<Option<String>>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys = SessionKeys::new(session_id);
        let mut conn = self.conn.clone();
        // The node asking is alive and holds these members: any mark a
        // reaper left on them while it was taken for dead is void.
        let (out,): (Vec<Option<String>>,) = tokio::time::timeout(
            CALL_TIMEOUT,
            redis::pipe()
                .cmd("HMGET")
                .arg(&keys.keys[1])
                .arg(ids)
                .cmd("HDEL")
                .arg(&keys.keys[9])
                .arg(ids)
                .ignore()
                .query_async(&mut conn),
        )
        .await
        .map_err(|_| StoreError::Unavailable("no answer in time".into()))??;
        Ok(out)
    }

    /// The session's last event seq (0: none yet).
    pub async fn last_seq(&self, session_id: &str) -> Result<u64, StoreError> {
        let keys = SessionKeys::new(session_id);
        let mut conn = self.conn.clone();
        let seq: Option<u64> = tokio::time::timeout(CALL_TIMEOUT, conn.get(&keys.keys[3]))
            .await
            .map_err(|_| StoreError::Unavailable("no answer in time".into()))??;
        Ok(seq.unwrap_or(0))
    }

    /// Does `node` own any connection of the session?
    pub async fn owns_any(&self, session_id: &str, node: &str) -> Result<bool, StoreError> {
        let keys = SessionKeys::new(session_id);
        let mut conn = self.conn.clone();
        let owners: Vec<String> = tokio::time::timeout(CALL_TIMEOUT, conn.hvals(&keys.keys[1]))
            .await
            .map_err(|_| StoreError::Unavailable("no answer in time".into()))??;
        let prefix = format!("{node}|");
        Ok(owners.iter().any(|o| o.starts_with(&prefix)))
    }

    /// The log's events `after+1 ..= through`, in order.
    pub async fn range(
        &self,
        session_id: &str,
        after: u64,
        through: u64,
    ) -> Result<Vec<Event>, StoreError> {
        if through <= after {
            return Ok(Vec::new());
        }
        let keys = SessionKeys::new(session_id);
        let mut conn = self.conn.clone();
        let rows: Vec<(String, Vec<String>)> = tokio::time::timeout(
            CALL_TIMEOUT,
            redis::cmd("XRANGE")
                .arg(keys.log())
                .arg(format!("{}-0", after + 1))
                .arg(format!("{through}-0"))
                .query_async(&mut conn),
        )
        .await
        .map_err(|_| StoreError::Unavailable("no answer in time".into()))??;
        rows.iter().map(|(id, fields)| entry(id, fields)).collect()
    }

    /// Refreshes this node's liveness key (it expires after `ttl`) and
    /// announces the node.
    pub async fn heartbeat(&self, node: &str, ttl: Duration) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let mut pipe = redis::pipe();
        let call = pipe
            .cmd("SET")
            .arg(keys::node_alive(node))
            .arg("1")
            .arg("PX")
            .arg(ttl_ms)
            .ignore()
            .cmd("SADD")
            .arg(keys::NODES)
            .arg(node)
            .ignore()
            .query_async::<()>(&mut conn);
        tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| StoreError::Unavailable("no answer in time".into()))??;
        Ok(())
    }

    /// Forgets this node's liveness key at once (a clean stop).
    pub async fn retire(&self, node: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let call = conn.del::<_, ()>(keys::node_alive(node));
        tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| StoreError::Unavailable("no answer in time".into()))??;
        Ok(())
    }

    /// Notes that `node` has members in `session_id` (for the reaper).
    pub async fn note_session(&self, node: &str, session_id: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let call = conn.sadd::<_, _, ()>(keys::node_sessions(node), session_id);
        tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| StoreError::Unavailable("no answer in time".into()))??;
        Ok(())
    }

    /// The nodes announced, with whether each is alive.
    pub async fn nodes(&self) -> Result<Vec<(String, bool)>, StoreError> {
        let mut conn = self.conn.clone();
        let nodes: Vec<String> = tokio::time::timeout(CALL_TIMEOUT, conn.smembers(keys::NODES))
            .await
            .map_err(|_| StoreError::Unavailable("no answer in time".into()))??;
        let mut out = Vec::with_capacity(nodes.len());
        for n in nodes {
            let alive: bool = tokio::time::timeout(CALL_TIMEOUT, conn.exists(keys::node_alive(&n)))
                .await
                .map_err(|_| StoreError::Unavailable("no answer in time".into()))??;
            out.push((n, alive));
        }
        Ok(out)
    }

    /// The sessions a node has noted.
    pub async fn node_sessions(&self, node: &str) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        let call = conn.smembers(keys::node_sessions(node));
        Ok(tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| StoreError::Unavailable("no answer in time".into()))??)
    }

    /// Drops `session_id` from a node's sessions; with `None`, forgets the
    /// node altogether.
    pub async fn forget_node_session(
        &self,
        node: &str,
        session_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let call = async {
            match session_id {
                Some(s) => conn.srem::<_, _, ()>(keys::node_sessions(node), s).await,
                None => {
                    redis::pipe()
                        .del(keys::node_sessions(node))
                        .ignore()
                        .srem(keys::NODES, node)
                        .ignore()
                        .query_async::<()>(&mut conn)
                        .await
                }
            }
        };
        tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| StoreError::Unavailable("no answer in time".into()))??;
        Ok(())
    }
}

fn number(s: &str) -> Result<u64, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Unexpected(format!("{s:?} is not a number")))
}

fn unexpected(out: &[String]) -> StoreError {
    StoreError::Unexpected(format!("{:?}", out.iter().take(4).collect::<Vec<_>>()))
}

/// Pairs of info JSON and meta (`hash role sup join-order`).
fn listed(flat: &[String]) -> Result<Vec<Listed>, StoreError> {
    if !flat.len().is_multiple_of(2) {
        return Err(StoreError::Unexpected("an odd member list".into()));
    }
    flat.chunks(2)
        .map(|p| {
            let order = p[1].rsplit(' ').next().unwrap_or("");
            Ok(Listed {
                info_json: p[0].clone(),
                join_order: number(order)?,
            })
        })
        .collect()
}

/// One stream entry (id `seq-0`, fields as the scripts write them).
fn entry(id: &str, fields: &[String]) -> Result<Event, StoreError> {
    let seq = number(id.strip_suffix("-0").unwrap_or(id))?;
    let get = |name: &str| {
        fields
            .chunks(2)
            .find(|p| p.len() == 2 && p[0] == name)
            .map(|p| p[1].as_str())
            .unwrap_or("")
    };
    Fields {
        seq,
        kind: get("k"),
        from: get("from"),
        to: get("to"),
        gone: get("gone"),
        why: get("why"),
        frame: get("f"),
    }
    .event()
    .ok_or_else(|| StoreError::Unexpected(format!("log entry {id} cannot be read")))
}
