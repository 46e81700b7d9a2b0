// The current Vonage server SDK for Node (`@vonage/video`, unmodified,
// pinned in package.json) and the `opentok` SDK in its Vonage mode, against
// otc-server with a Vonage *application* configured: an application id and
// the public half of an RSA key pair the test makes. The SDKs sign their
// REST JWTs and client tokens RS256 with the private half; the server has
// only the public one.
//
// What an application server does -- create sessions, mint client tokens,
// signal the session and one connection, force a client out -- is checked
// from the other end by the C chat example, which connects with the
// application id as its API key (see opentok_sdk.test.mjs for what it
// prints). The server listens on a free loopback port for the whole file
// and must exit 0 on SIGTERM at the end. Every wait is bounded.

import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { Video } from "@vonage/video";
import OpenTok from "opentok";

import { Room, Server, WAIT_MS, describeToken, jwtClaims, literal, within } from "./harness.mjs";

const APP_ID = randomUUID();
// An OpenTok project beside the application: both are served at once.
const API_KEY = "640213";
const API_SECRET = randomBytes(24).toString("hex");

function rsaPair() {
  return generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
}

const keys = rsaPair();
const dir = mkdtempSync(join(tmpdir(), "otc-node-vonage-"));
const publicKeyFile = join(dir, "app.pub.pem");
writeFileSync(publicKeyFile, keys.publicKey);

let server;
let video;

before(async () => {
  server = await Server.start({
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    args: ["--application-id", APP_ID, "--public-key-file", publicKeyFile],
  });
  video = vonage(keys.privateKey);
});

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!server) return; // it did not start; before() said why
  const code = await server.stop();
  if (code !== 0) console.error(`otc-server log:\n${server.log()}`);
  assert.equal(code, 0, "otc-server did not shut down cleanly on SIGTERM");
});

/** An @vonage/video client of our application, pointed at our server. */
function vonage(privateKey, applicationId = APP_ID) {
  return new Video({ applicationId, privateKey }, { videoHost: server.url, timeout: WAIT_MS });
}

function created(chat, data) {
  return new RegExp(`^\\* connection created: ${literal(chat.id)}${data ? ` data=${literal(data)}` : ""}$`);
}

/** The HTTP status of a rejected SDK call (its error carries the response). */
async function status(what, promise) {
  let value;
  try {
    value = await within(promise, what);
  } catch (err) {
    const s = err?.response?.status ?? err?.status;
    assert.ok(s, `${what}: an error with no HTTP status: ${err}`);
    return s;
  }
  assert.fail(`${what} should have failed; it gave ${JSON.stringify(value)}`);
}

function withRoom(name, body) {
  test(name, { timeout: 6 * WAIT_MS }, async () => {
    const room = new Room(server.url, APP_ID);
    try {
      await body(room);
    } finally {
      await room.close();
    }
  });
}

describe("@vonage/video", () => {
  test("createSession, with and without options", async () => {
    // With none, the SDK sends archiveMode=manual&location=null&p2p.preference=routed... as a form.
    const plain = await within(video.createSession(), "createSession()");
    assert.match(plain.sessionId, /^1_/);
    const routed = await within(
      video.createSession({ mediaMode: "routed", archiveMode: "always", location: "127.0.0.1" }),
      "createSession(options)",
    );
    assert.match(routed.sessionId, /^1_/);
    assert.notEqual(routed.sessionId, plain.sessionId);
    // The session id names the application, as OpenTok's name the API key.
    const fields = Buffer.from(plain.sessionId.slice(2), "base64url").toString("utf8").split("~");
    assert.ok(fields.includes(APP_ID), fields.join("~"));
  });

  withRoom("client tokens join; signals to all and to one; force disconnect", async (room) => {
    const { sessionId: sid } = await within(video.createSession({ mediaMode: "routed" }), "createSession");
    const aliceToken = video.generateClientToken(sid, { role: "moderator", data: "name=alice" });
    const claims = jwtClaims(aliceToken);
    assert.equal(claims.application_id, APP_ID, describeToken(aliceToken));
    assert.equal(claims.scope, "session.connect");
    assert.equal(claims.session_id, sid);
    const bobToken = video.generateClientToken(sid, { data: "name=bob", initialLayoutClassList: ["focus", "top"] });

    const alice = await room.join(sid, aliceToken, "alice");
    const bob = await room.join(sid, bobToken, "bob");
    await alice.expect(created(bob, "name=bob"));
    await bob.expect(created(alice, "name=alice"));

    await within(video.sendSignal({ type: "news", data: "to everyone" }, sid), "sendSignal (session)");
    for (const c of [alice, bob]) assert.deepEqual(await c.nextServerSignal(), ["news", "to everyone"]);
    await within(video.sendSignal({ type: "dm", data: "only bob" }, sid, bob.id), "sendSignal (bob)");
    assert.deepEqual(await bob.nextServerSignal(), ["dm", "only bob"]);
    await within(video.sendSignal({ type: "news", data: "second" }, sid), "sendSignal (session)");
    assert.deepEqual(await alice.nextServerSignal(), ["news", "second"], "alice did not get bob's");
    assert.deepEqual(await bob.nextServerSignal(), ["news", "second"]);

    // Participants signal each other as in any session.
    alice.send("hello bob");
    await bob.expect(new RegExp(`^\\[${literal(alice.id)}\\] chat: hello bob$`));

    await within(video.disconnectClient(sid, bob.id), "disconnectClient");
    await bob.expect(/^\* disconnected$/);
    await alice.expect(new RegExp(`^\\* connection dropped: ${literal(bob.id)}$`));
    assert.equal(await status("disconnectClient (gone)", video.disconnectClient(sid, bob.id)), 404);
    assert.equal(await status("sendSignal (too big)", video.sendSignal({ type: "t", data: "x".repeat(8193) }, sid)), 413);
  });

  withRoom("another key is refused, at REST and at the door", async (room) => {
    const { sessionId: sid } = await within(video.createSession(), "createSession");
    const forger = vonage(rsaPair().privateKey);
    assert.equal(await status("createSession (wrong key)", forger.createSession()), 403);
    assert.equal(await status("sendSignal (wrong key)", forger.sendSignal({ type: "t", data: "x" }, sid)), 403);
    // An application the server does not know.
    const stranger = vonage(keys.privateKey, randomUUID());
    assert.equal(await status("createSession (unknown application)", stranger.createSession()), 403);
    // A token signed with another key does not get a client in.
    const c = await room.join(sid, forger.generateClientToken(sid), "forged", { connect: false });
    await c.expect(/^! error 1004: /);
  });

  test("a client token never administers", async () => {
    const { sessionId: sid } = await within(video.createSession(), "createSession");
    const token = video.generateClientToken(sid, { role: "moderator" });
    const res = await within(
      fetch(`${server.url}/v2/project/${APP_ID}/session/${sid}/signal`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ type: "t", data: "x" }),
      }),
      "signal with a client token",
    );
    assert.equal(res.status, 403);
    assert.match((await res.json()).message, /client token/);
  });
});

describe("opentok in its Vonage mode", () => {
  // opentok switches to Vonage mode when the key is a UUID and the secret a
  // PKCS#8 private key: RS256 JWTs with application_id (and iss, ist).
  const call = (what, start) =>
    within(new Promise((resolve, reject) => start((err, v) => (err ? reject(err) : resolve(v)))), what);

  withRoom("createSession, generateToken, signal, forceDisconnect", async (room) => {
    const ot = new OpenTok(APP_ID, keys.privateKey, { apiUrl: server.url, timeout: WAIT_MS });
    const session = await call("createSession", (cb) => ot.createSession({ mediaMode: "routed" }, cb));
    const sid = session.sessionId;
    assert.match(sid, /^1_/);
    const token = ot.generateToken(sid, { role: "publisher", data: "name=carol" });
    assert.equal(jwtClaims(token).application_id, APP_ID, describeToken(token));
    const carol = await room.join(sid, token, "carol");
    const dave = await room.join(sid, ot.generateToken(sid), "dave");
    await carol.expect(created(dave));
    await call("signal", (cb) => ot.signal(sid, null, { type: "news", data: "from opentok" }, cb));
    for (const c of [carol, dave]) assert.deepEqual(await c.nextServerSignal(), ["news", "from opentok"]);
    await call("signal (one)", (cb) => ot.signal(sid, dave.id, { type: "dm", data: "dave only" }, cb));
    assert.deepEqual(await dave.nextServerSignal(), ["dm", "dave only"]);
    await call("forceDisconnect", (cb) => ot.forceDisconnect(sid, dave.id, cb));
    await dave.expect(/^\* disconnected$/);
    await carol.expect(new RegExp(`^\\* connection dropped: ${literal(dave.id)}$`));
  });
});
