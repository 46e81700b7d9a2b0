// The official OpenTok Node server SDK (npm package `opentok`, unmodified,
// pinned in package.json) against otc-server.
//
// What an application server does with the SDK -- create sessions, mint
// client tokens (JWT, the default, and the legacy T1 form) of every role,
// signal the whole session or one connection, force a client out -- is
// checked from the other end by the C chat example (c-examples/chat.c,
// linked against libopentok), whose output says what its callbacks got:
//
//     * connected as <id>
//     * connection created: <id> [data=<connection data>]
//     * connection dropped: <id>
//     * disconnected
//     ! error <code>: <message>
//     [<sender id, "<id> (own)" for our own, or "server">] <type>: <data>
//     ! message not sent: error <code>, <why>    (a signal the server refused)
//
// The server listens on a free loopback port for the whole file and is
// stopped with SIGTERM at the end, which must give exit status 0. Every wait
// is bounded (harness.mjs, WAIT_MS).

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";

import OpenTok from "opentok";

import { Room, Server, WAIT_MS, describeToken, jwtClaims, literal, within } from "./harness.mjs";

// A project of our own (not the server's built-in development one), so the
// key and secret really go from the command line to the SDK's checks.
const API_KEY = "581937";
const API_SECRET = randomBytes(24).toString("hex"); // 48 characters

const ROLES = ["subscriber", "publisher", "moderator", "publisheronly"];
// Library log level OTC_LOG_LEVEL_WARN (2): the library logs a signal the
// server refused at that level (and the chat example prints it too).
const LOG_WARN = 2;

let server;
let ot;

before(async () => {
  server = await Server.start({ apiKey: API_KEY, apiSecret: API_SECRET });
  ot = sdk(API_SECRET);
});

after(async () => {
  if (!server) return; // it did not start; before() said why
  const code = await server.stop();
  if (code !== 0) console.error(`otc-server log:\n${server.log()}`);
  assert.equal(code, 0, "otc-server did not shut down cleanly on SIGTERM");
});

/** An SDK client pointed at our server. */
function sdk(secret) {
  // opentok 2.x takes the API URL as `apiUrl` in its third argument (an
  // options object; a bare string is read the same way).
  return new OpenTok(API_KEY, secret, { apiUrl: server.url, timeout: WAIT_MS });
}

/** Runs a callback-style SDK call; resolves with its result, rejects with its error. */
function call(what, start) {
  return within(
    new Promise((resolve, reject) => {
      start((err, value) => (err ? reject(err) : resolve(value)));
    }),
    what,
  );
}

/** Runs a callback-style SDK call that must fail; resolves with the error. */
async function refused(what, start) {
  let value;
  try {
    value = await call(what, start);
  } catch (err) {
    return err;
  }
  assert.fail(`${what} should have failed; it gave ${JSON.stringify(value)}`);
}

async function createSession(client = ot, opts = {}) {
  const session = await call("createSession", (cb) => client.createSession(opts, cb));
  return session.sessionId;
}

function signal(sessionId, connectionId, payload) {
  return call(`signal ${JSON.stringify(payload)}`, (cb) => ot.signal(sessionId, connectionId, payload, cb));
}

function created(chat, data) {
  return new RegExp(`^\\* connection created: ${literal(chat.id)}${data ? ` data=${literal(data)}` : ""}$`);
}

/** A test with its own chat clients, all closed at its end. */
function withRoom(name, body) {
  test(name, { timeout: 6 * WAIT_MS }, async () => {
    const room = new Room(server.url, API_KEY);
    try {
      await body(room);
    } finally {
      await room.close();
    }
  });
}

describe("sessions", () => {
  test("createSession gives a session id of the 1_ form", async () => {
    const sid = await createSession();
    assert.match(sid, /^1_/);
    assert.notEqual(await createSession(), sid, "two sessions, one id");
  });

  test("createSession options are accepted", async () => {
    const sid = await createSession(ot, { mediaMode: "routed", archiveMode: "always", location: "127.0.0.1" });
    assert.match(sid, /^1_/);
    // generateToken decodes the id and checks that it is of our project.
    assert.ok(ot.generateToken(sid, { role: "moderator" }));
  });
});

describe("client tokens", () => {
  withRoom("the default JWT form, with role and data, and the T1 form connect", async (room) => {
    const sid = await createSession();

    const aliceToken = ot.generateToken(sid, { role: "moderator", data: "name=alice" });
    assert.equal(aliceToken.split(".").length, 3, "a JWT by default");
    assert.ok(!aliceToken.startsWith("T1=="));
    const claims = jwtClaims(aliceToken);
    assert.equal(claims.iss, API_KEY, describeToken(aliceToken));
    assert.equal(claims.scope, "session.connect");
    assert.equal(claims.session_id, sid);
    assert.equal(claims.role, "moderator");
    assert.equal(claims.connection_data, "name=alice");
    const bobToken = ot.generateToken(sid, { role: "subscriber", data: "name=bob" });
    assert.equal(jwtClaims(bobToken).role, "subscriber");

    const alice = await room.join(sid, aliceToken, "alice");
    const bob = await room.join(sid, bobToken, "bob");
    assert.notEqual(alice.id, bob.id);
    assert.equal(room.idFile("alice"), alice.id);
    await alice.expect(created(bob, "name=bob"));
    await bob.expect(created(alice, "name=alice"));

    // The legacy form: opentok 2.x still makes it when the third argument
    // (generateT1Token) is true.
    const carolToken = ot.generateToken(sid, { role: "publisher", data: "name=carol" }, true);
    assert.match(carolToken, /^T1==/);
    const carol = await room.join(sid, carolToken, "carol");
    await alice.expect(created(carol, "name=carol"));
    await bob.expect(created(carol, "name=carol"));
    await carol.expectAll([created(alice, "name=alice"), created(bob, "name=bob")]);
  });

  withRoom("every role connects; a publisheronly participant may not signal", async (room) => {
    const sid = await createSession();
    const chats = {};
    for (const role of ROLES) {
      const token = ot.generateToken(sid, { role, data: `role=${role}` });
      assert.equal(jwtClaims(token).role, role, describeToken(token));
      chats[role] = await room.join(sid, token, role, { log: LOG_WARN });
    }
    for (const role of ROLES) {
      const others = ROLES.filter((r) => r !== role);
      await chats[role].expectAll(others.map((r) => created(chats[r], `role=${r}`)));
    }

    // The publisheronly participant's signal is queued by the library and
    // refused by the server (1601, OTC_SIGNAL_PERMISSION_DENIED), which the
    // library logs as a warning and the chat example reports.
    const po = chats.publisheronly;
    po.send("from publisheronly");
    await po.expectAll([
      /^opentok \[WARN\] .*the server refused signal #1: .*publisher_only.*\b1601\b/,
      /^! message not sent: error 1601, /,
    ]);

    // Everyone else's arrive, at every other participant, the
    // publisheronly one included; a sender also gets its own back.
    const senders = ROLES.filter((r) => r !== "publisheronly");
    for (const role of senders) chats[role].send(`from ${role}`);
    const seen = {};
    for (const role of ROLES) {
      const id = literal(chats[role].id);
      const expected = senders
        .filter((r) => r !== role)
        .map((r) => new RegExp(`^\\[${literal(chats[r].id)}\\] chat: from ${r}$`));
      if (senders.includes(role)) expected.push(new RegExp(`^\\[${id} \\(own\\)\\] chat: from ${role}$`));
      seen[role] = await chats[role].expectAll(expected);
    }
    // A server signal after everything: nobody got the refused one before it.
    await signal(sid, null, { type: "end", data: "of test" });
    for (const role of ROLES) {
      const { lines } = await chats[role].until(/^\[server\] end: of test$/);
      const all = [...seen[role], ...lines];
      assert.ok(!all.some((l) => l.includes("from publisheronly")), `${role} got the refused signal:\n${all.join("\n")}`);
    }
  });
});

describe("signals from the application server", () => {
  withRoom("to the whole session and to one connection", async (room) => {
    const sid = await createSession();
    const alice = await room.join(sid, ot.generateToken(sid, { data: "name=alice" }), "alice");
    const bob = await room.join(sid, ot.generateToken(sid, {}, true), "bob");
    await bob.expect(created(alice, "name=alice"));
    await alice.expect(created(bob));

    // To the whole session: everyone, with no sender connection.
    await signal(sid, null, { type: "news", data: "hello from the app server" });
    for (const c of [alice, bob]) assert.deepEqual(await c.nextServerSignal(), ["news", "hello from the app server"]);

    // To one connection: only bob. Alice's next server signal is the
    // broadcast sent after it.
    await signal(sid, bob.id, { type: "dm", data: "only for bob" });
    assert.deepEqual(await bob.nextServerSignal(), ["dm", "only for bob"]);
    await signal(sid, null, { type: "news", data: "second" });
    assert.deepEqual(await alice.nextServerSignal(), ["news", "second"]);
    assert.deepEqual(await bob.nextServerSignal(), ["news", "second"]);

    // One after the other, they arrive in order.
    for (let i = 0; i < 10; i++) await signal(sid, i % 2 ? alice.id : null, { type: "seq", data: String(i) });
    const got = async (c, n) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push((await c.nextServerSignal())[1]);
      return out;
    };
    assert.deepEqual(await got(alice, 10), ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    assert.deepEqual(await got(bob, 5), ["0", "2", "4", "6", "8"]);

    // The largest data passes whole; one byte more, a type with a space:
    // refused (this SDK reports those as RequestError).
    await signal(sid, bob.id, { type: "big", data: "y".repeat(8192) });
    assert.deepEqual(await bob.nextServerSignal(), ["big", "y".repeat(8192)]);
    for (const payload of [
      { type: "big", data: "x".repeat(8193) },
      { type: "no spaces", data: "x" },
    ]) {
      const err = await refused(`signal ${payload.type}`, (cb) => ot.signal(sid, null, payload, cb));
      assert.ok(err instanceof OpenTok.RequestError, `${err?.constructor?.name}: ${err?.message}`);
    }
    await signal(sid, null, { type: "after", data: "refusals" });
    for (const c of [alice, bob]) assert.deepEqual(await c.nextServerSignal(), ["after", "refusals"]);
  });

  withRoom("forceDisconnect", async (room) => {
    const sid = await createSession();
    const alice = await room.join(sid, ot.generateToken(sid), "alice");
    const bob = await room.join(sid, ot.generateToken(sid, { role: "subscriber" }), "bob");
    await alice.expect(created(bob));

    await call("forceDisconnect", (cb) => ot.forceDisconnect(sid, bob.id, cb));
    await bob.expect(/^\* disconnected$/);
    await alice.expect(new RegExp(`^\\* connection dropped: ${literal(bob.id)}$`));

    // Gone: a second try is the SDK's ForceDisconnectError (a 404).
    const err = await refused("forceDisconnect again", (cb) => ot.forceDisconnect(sid, bob.id, cb));
    assert.ok(err instanceof OpenTok.ForceDisconnectError, `${err?.constructor?.name}: ${err?.message}`);

    // Alice is still there and still gets signals.
    await signal(sid, null, { type: "after", data: "still here" });
    assert.deepEqual(await alice.nextServerSignal(), ["after", "still here"]);
  });
});

describe("refusals", () => {
  // The refusal tests' participants hold T1 tokens: what they check does
  // not depend on the token form, which the tests above cover.
  withRoom("signals to an unknown session or connection are SignalErrors (404)", async (room) => {
    const sid = await createSession();
    const alice = await room.join(sid, ot.generateToken(sid, {}, true), "alice");

    const nobody = await createSession(); // well formed, ours, nobody in it
    for (const [what, target] of [
      ["a session nobody joined", [nobody, null]],
      ["an unknown connection", [sid, "0123456789abcdef0123456789abcdef"]],
      ["a connection of another session", [nobody, alice.id]],
    ]) {
      const err = await refused(`signal to ${what}`, (cb) => ot.signal(...target, { type: "t", data: "x" }, cb));
      assert.ok(err instanceof OpenTok.SignalError, `${what}: ${err?.constructor?.name}: ${err?.message}`);
      assert.match(err.message, /not found/);
    }
    const err = await refused("forceDisconnect in a session nobody joined", (cb) =>
      ot.forceDisconnect(nobody, alice.id, cb),
    );
    assert.ok(err instanceof OpenTok.ForceDisconnectError, `${err?.constructor?.name}: ${err?.message}`);

    // Alice got none of them.
    await signal(sid, null, { type: "after", data: "refusals" });
    assert.deepEqual(await alice.nextServerSignal(), ["after", "refusals"]);
  });

  withRoom("an SDK with the wrong secret is refused (403)", async (room) => {
    const bad = sdk(`not-the-secret-${randomBytes(16).toString("hex")}`);
    const err = await refused("createSession with the wrong secret", (cb) => bad.createSession(cb));
    // The SDK turns a 401 or 403 into its AuthError, and createSession wraps
    // that in a plain Error.
    assert.match(err.message, /^Failed to createSession\. .*Invalid API key or secret/);
    // The very credential it sends (its project JWT), sent by hand: a 403.
    const res = await within(
      fetch(`${server.url}/session/create`, { method: "POST", headers: { "X-OPENTOK-AUTH": bad.generateJwt() } }),
      "POST /session/create",
    );
    assert.equal(res.status, 403);

    const sid = await createSession();
    const sigErr = await refused("signal with the wrong secret", (cb) =>
      bad.signal(sid, null, { type: "t", data: "x" }, cb),
    );
    assert.ok(sigErr instanceof OpenTok.AuthError, `${sigErr?.constructor?.name}: ${sigErr?.message}`);

    // A token signed with the wrong secret does not get a client in, in
    // either form (generateToken cannot tell: it only signs).
    for (const t1 of [false, true]) {
      const forged = await room.join(sid, bad.generateToken(sid, {}, t1), `forged-${t1 ? "t1" : "jwt"}`, {
        connect: false,
      });
      await forged.expect(/^! error 1004: /);
    }
  });

  withRoom("a client token is not a REST credential (403)", async (room) => {
    const sid = await createSession();
    const alice = await room.join(sid, ot.generateToken(sid, {}, true), "alice");
    const url = `${server.url}/v2/project/${API_KEY}/session/${sid}/signal`;
    const post = (auth) =>
      within(
        fetch(url, {
          method: "POST",
          headers: { "X-OPENTOK-AUTH": auth, "Content-Type": "application/json" },
          body: JSON.stringify({ type: "t", data: "from a participant" }),
        }),
        `POST ${url}`,
      );

    for (const [what, token] of [
      ["a default client token", ot.generateToken(sid)],
      ["a moderator token with data", ot.generateToken(sid, { role: "moderator", data: "x" })],
      ["a T1 token", ot.generateToken(sid, {}, true)],
    ]) {
      const res = await post(token);
      const text = await res.text();
      assert.equal(res.status, 403, `${what} (${describeToken(token)}): ${res.status} ${text}`);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      const body = JSON.parse(text);
      assert.equal(body.code, 403, text);
      assert.equal(typeof body.message, "string", text);
      assert.ok(body.message.length > 0, text);
    }

    // The same request with the SDK's own project JWT goes through, so the
    // 403s above were about the credential alone.
    const ok = await post(ot.generateJwt());
    assert.equal(ok.status, 204, await ok.text());
    assert.deepEqual(await alice.nextServerSignal(), ["t", "from a participant"]);
  });
});
