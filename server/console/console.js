// The developer's console of otc-server: join a session with a token, see
// who is there, send signals to everyone or to one participant, and watch
// everything that arrives. It uses the project's JavaScript client
// (clients/js, served from ./otc/) exactly as an application would.
//
// Everything received is shown with textContent, never as HTML: signal data
// and connection data come from other participants.

import OT from "./otc/index.js";

/** At most this many log entries are kept; the oldest go first. */
const MAX_LOG_ENTRIES = 1000;

const $ = (id) => document.getElementById(id);

/** The current session, or null. */
let session = null;

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function time() {
  const d = new Date();
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Who a connection is, in the log: its id, "(you)" for our own. */
function who(connectionId) {
  if (connectionId === null) return "server";
  const own = session?.connection?.connectionId;
  return connectionId === own ? `${connectionId} (you)` : connectionId;
}

/**
 * One line of the log. `fields` become data-* attributes (for people
 * reading the DOM and for the browser tests).
 */
function log(kind, text, fields = {}) {
  const li = el("li");
  li.dataset.kind = kind;
  for (const [k, v] of Object.entries(fields)) li.dataset[k] = v;
  li.append(el("span", "time", time()), el("span", "kind", kind), el("span", "text", text));
  const list = $("log");
  list.append(li);
  while (list.childElementCount > MAX_LOG_ENTRIES) list.firstElementChild.remove();
  li.scrollIntoView({ block: "nearest" });
}

function setStatus(state, text) {
  const s = $("status");
  s.dataset.state = state;
  s.textContent = text;
  const joined = state === "connected" || state === "reconnecting";
  $("connect").disabled = state !== "disconnected";
  $("disconnect").disabled = state === "disconnected";
  $("send-button").disabled = !joined;
  for (const id of ["api-key", "session-id", "token", "server-url"]) $(id).disabled = state !== "disconnected";
}

function errorText(err) {
  return `error ${err.code ?? "?"}${err.name ? ` ${err.name}` : ""}: ${err.message}`;
}

// --- participants --------------------------------------------------------------

function addParticipant(connection, own) {
  const id = connection.connectionId;
  if (document.querySelector(`#participants li[data-connection-id="${CSS.escape(id)}"]`)) return;
  const li = el("li", own ? "own" : "");
  li.dataset.connectionId = id;
  li.append(el("span", "id", own ? `${id} (you)` : id));
  if (connection.data) li.append(el("span", "data", connection.data));
  $("participants").append(li);
  const option = el("option", "", own ? `${id} (you)` : id);
  option.value = id;
  $("signal-to").append(option);
  updateCount();
}

function removeParticipant(id) {
  for (const e of document.querySelectorAll(
    `#participants li[data-connection-id="${CSS.escape(id)}"], #signal-to option[value="${CSS.escape(id)}"]`,
  )) {
    e.remove();
  }
  updateCount();
}

function clearParticipants() {
  $("participants").replaceChildren();
  for (const o of [...$("signal-to").options]) if (o.value !== "") o.remove();
  updateCount();
}

function updateCount() {
  $("participant-count").textContent = String($("participants").childElementCount);
}

// --- joining and leaving -------------------------------------------------------

function join(event) {
  event.preventDefault();
  if (session) return;
  const apiKey = $("api-key").value.trim();
  const sessionId = $("session-id").value.trim();
  const token = $("token").value.trim();
  const serverUrl = $("server-url").value.trim() || location.origin;
  let s;
  try {
    s = OT.initSession(apiKey, sessionId, { serverUrl, logger: (level, message) => level === "error" && log("error", message) });
  } catch (err) {
    log("error", errorText(err));
    return;
  }
  session = s;
  s.on({
    signal: (e) => {
      const from = e.from ? e.from.connectionId : null;
      log("signal", `${who(from)} ${e.signalType === "" ? "(no type)" : e.signalType}: ${e.data}`, {
        type: e.signalType,
        data: e.data,
        from: from ?? "",
      });
    },
    connectionCreated: (e) => {
      addParticipant(e.connection, false);
      log("joined", `${e.connection.connectionId}${e.connection.data ? ` data=${e.connection.data}` : ""}`, {
        connectionId: e.connection.connectionId,
      });
    },
    connectionDestroyed: (e) => {
      removeParticipant(e.connection.connectionId);
      log("left", `${e.connection.connectionId} (${e.reason})`, { connectionId: e.connection.connectionId });
    },
    sessionReconnecting: () => {
      setStatus("reconnecting", `reconnecting as ${s.connection?.connectionId}…`);
      log("reconnecting", "the link dropped; resuming the connection");
    },
    sessionReconnected: () => {
      setStatus("connected", `connected as ${s.connection.connectionId}`);
      log("reconnected", "resumed: nothing lost");
    },
    sessionDisconnected: (e) => {
      if (session === s) session = null;
      clearParticipants();
      setStatus("disconnected", `not connected (${e.reason})`);
      log("disconnected", e.reason);
    },
    exception: (e) => log("error", errorText(e)),
  });
  setStatus("connecting", "connecting…");
  s.connect(token, (err) => {
    if (err) {
      if (session === s) session = null;
      setStatus("disconnected", "not connected");
      log("error", `connect refused: ${errorText(err)}`);
      return;
    }
    addParticipant(s.connection, true);
    setStatus("connected", `connected as ${s.connection.connectionId}`);
    log("connected", `as ${s.connection.connectionId}`, { connectionId: s.connection.connectionId });
  });
}

function leave() {
  if (session) session.disconnect();
}

// --- sending -------------------------------------------------------------------

function send(event) {
  event.preventDefault();
  const s = session;
  if (!s) return;
  const type = $("signal-type").value;
  const data = $("signal-data").value;
  const to = $("signal-to").value;
  const target = to === "" ? "everyone" : who(to);
  const options = { type, data };
  if (to !== "") options.to = to;
  s.signal(options, (err) => {
    if (err) {
      log("error", `not sent to ${target}: ${errorText(err)}`, { type, code: String(err.code) });
    } else {
      log("sent", `to ${target} ${type === "" ? "(no type)" : type}: ${data}`, { type, data, to });
    }
  });
}

// --- start ---------------------------------------------------------------------

$("server-url").value = location.origin;
$("join").addEventListener("submit", join);
$("disconnect").addEventListener("click", leave);
$("send").addEventListener("submit", send);
$("clear-log").addEventListener("click", () => $("log").replaceChildren());
setStatus("disconnected", "not connected");
document.body.dataset.ready = "true";
