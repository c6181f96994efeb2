/**
 * The Fleet object in workerd: everything lives in SQLite, an evicted instance (abortAllDurableObjects)
 * rebuilds from it on the next request with nothing lost, and alarms do the timed work.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openCheckpoint } from "../../shared/checkpoint/index.js";
import { recordLeafHash, sealRecord, verifyConsistency, verifyInclusion } from "../../shared/log/index.js";
import { parseSignerKey, parseVerifierKey } from "../../shared/note/index.js";
import { base64ToBytes, bytesToBase64Url } from "../../shared/protocol/index.js";
import { GlobalLog } from "../../edge/fleet/global-log.js";

const ADMIN = { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" };

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = ADMIN) {
  const res = await exports.default.fetch(`http://edge.test${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // text route
  }
  return { status: res.status, body: json as any, headers: res.headers };
}

function stubFor(fleet: string) {
  return env.FLEET.get(env.FLEET.idFromName(fleet));
}

function newKey() {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, x: bytesToBase64Url(ed25519.getPublicKey(secretKey)) };
}

async function enrollIn(fleet: string, name: string) {
  const token = await api("POST", `/v1/enrollment-tokens?fleet=${fleet}`, { maxUses: 2 });
  expect(token.status).toBe(201);
  const key = newKey();
  const enrolled = await api("POST", `/v1/enroll?fleet=${fleet}`, { token: token.body.token, publicKey: { kty: "OKP", crv: "Ed25519", x: key.x }, name }, { "Content-Type": "application/json" });
  expect(enrolled.status).toBe(201);
  return { token: token.body, key, agentId: enrolled.body.agentId as string };
}

describe("Fleet object storage", () => {
  it("stores enrollment tokens hashed, never the secret", async () => {
    const { token } = await enrollIn("hashing", "pi");
    const rows = await runInDurableObject(stubFor("hashing"), (_instance, state) =>
      state.storage.sql.exec<{ token_hash: string; uses: number }>(`SELECT token_hash, uses FROM enrollment_tokens`).toArray(),
    );
    expect(rows).toHaveLength(1);
    const expected = Array.from(sha256(new TextEncoder().encode(token.token)), (b) => b.toString(16).padStart(2, "0")).join("");
    expect(rows[0]!.token_hash).toBe(expected);
    expect(rows[0]!.uses).toBe(1);
    const everything = await runInDurableObject(stubFor("hashing"), (_instance, state) =>
      JSON.stringify(state.storage.sql.exec(`SELECT * FROM enrollment_tokens`).toArray()),
    );
    expect(everything).not.toContain(token.token);
  });

  it("rebuilds registry, config and log from SQLite after the instance is killed", async () => {
    const fleet = "eviction";
    const { agentId, key } = await enrollIn(fleet, "survivor");
    const patched = await api("PATCH", `/v1/fleet/config?fleet=${fleet}`, { coupling: 1.25, summaryHz: 1 });
    expect(patched.body.version).toBe(2);

    // Append records through the object's own log over its SQLite, then sign a checkpoint.
    const signer = parseSignerKey(env.LOG_SIGNING_KEY!);
    const records = [0, 1, 2].map((seq) =>
      sealRecord({ agentId, seq, kind: "memory", timestamp: 1_700_000_000_000 + seq, payloadJson: JSON.stringify({ seq }) }, key.secretKey),
    );
    await runInDurableObject(stubFor(fleet), (_instance, state) => {
      const log = new GlobalLog(state.storage.sql);
      state.storage.transactionSync(() => {
        for (const record of records) expect(log.append(record, Date.now()).kind).toBe("appended");
      });
      // Indices 0 and 1 are the agent's key entries (enrolled, approved).
      expect(log.append(records[1]!, Date.now())).toEqual({ kind: "duplicate", index: 3 });
      log.publishCheckpoint("edge.test/fleet/eviction", signer, Date.now());
    });
    // Those appends went around the running instance's in-memory tree (the object is the only
    // writer in production); start from a fresh instance so it reads them.
    await abortAllDurableObjects();
    const before = {
      agents: (await api("GET", `/v1/agents?fleet=${fleet}`)).body,
      fleet: (await api("GET", `/v1/fleet?fleet=${fleet}`)).body,
      checkpoint: (await api("GET", `/v1/log/checkpoint?fleet=${fleet}`)).body,
      proof: (await api("GET", `/v1/log/proof/inclusion?fleet=${fleet}&agent=${agentId}&seq=2`)).body,
    };
    expect(before.fleet.log.size).toBe(5);

    await abortAllDurableObjects();

    // A brand-new instance: memory is gone, SQLite is not.
    const after = {
      agents: (await api("GET", `/v1/agents?fleet=${fleet}`)).body,
      fleet: (await api("GET", `/v1/fleet?fleet=${fleet}`)).body,
      checkpoint: (await api("GET", `/v1/log/checkpoint?fleet=${fleet}`)).body,
      proof: (await api("GET", `/v1/log/proof/inclusion?fleet=${fleet}&agent=${agentId}&seq=2`)).body,
    };
    expect(after.agents).toEqual(before.agents);
    expect(after.fleet.config).toEqual(before.fleet.config);
    expect(after.fleet.config).toMatchObject({ version: 2, coupling: 1.25, summaryHz: 1 });
    expect(after.fleet.log).toEqual(before.fleet.log);
    expect(after.checkpoint).toBe(before.checkpoint);
    expect(after.proof).toEqual(before.proof);

    // The rebuilt tree keeps growing consistently with what was signed before.
    const verifier = parseVerifierKey((await api("GET", "/v1/log/key")).body.trim());
    const cp1 = openCheckpoint(after.checkpoint, [verifier]).checkpoint;
    const more = sealRecord({ agentId, seq: 3, kind: "memory", timestamp: 1_700_000_000_003, payloadJson: "{}" }, key.secretKey);
    await runInDurableObject(stubFor(fleet), (_instance, state) => {
      const log = new GlobalLog(state.storage.sql);
      state.storage.transactionSync(() => expect(log.append(more, Date.now())).toEqual({ kind: "appended", index: 5 }));
      // Checkpoints are at most one a second: let the last one be two seconds old.
      state.storage.sql.exec(`UPDATE checkpoints SET created_at = created_at - 2000`);
    });
    await abortAllDurableObjects();
    await runInDurableObject(stubFor(fleet), async (_instance, state) => state.storage.setAlarm(Date.now() + 60_000));
    expect(await runDurableObjectAlarm(stubFor(fleet))).toBe(true);
    const cp2 = openCheckpoint((await api("GET", `/v1/log/checkpoint?fleet=${fleet}`)).body, [verifier]).checkpoint;
    expect(cp2.size).toBe(6);
    const consistency = (await api("GET", `/v1/log/proof/consistency?fleet=${fleet}&from=${cp1.size}&to=${cp2.size}`)).body;
    verifyConsistency(cp1.size, cp2.size, consistency.proof.map(base64ToBytes), cp1.root, cp2.root);
    const inclusion = (await api("GET", `/v1/log/proof/inclusion?fleet=${fleet}&index=5&size=6`)).body;
    verifyInclusion(recordLeafHash(more), 5, 6, inclusion.proof.map(base64ToBytes), cp2.root);
  });

  it("remembers used JWT ids across eviction", async () => {
    const { agentId } = await enrollIn("jti", "pi");
    const { consumeJti } = await import("../../edge/fleet/registry.js");
    const now = Date.now();
    expect(await runInDurableObject(stubFor("jti"), (_i, state) => consumeJti(state.storage.sql, "jti-1", agentId, now + 60_000, now))).toBe(true);
    await abortAllDurableObjects();
    expect(await runInDurableObject(stubFor("jti"), (_i, state) => consumeJti(state.storage.sql, "jti-1", agentId, now + 60_000, now))).toBe(false);
    // Expired ids are forgotten.
    expect(await runInDurableObject(stubFor("jti"), (_i, state) => consumeJti(state.storage.sql, "jti-1", agentId, now + 60_000, now + 120_000))).toBe(true);
  });
});

/** Waits for the alarm to sign the checkpoint of one enrollment's two key entries (checkpoints [0, 2]). */
async function keyEntriesCheckpointed(fleet: string): Promise<void> {
  for (let waited = 0; waited < 5000; waited += 50) {
    const sizes = await runInDurableObject(stubFor(fleet), (_i, state) => state.storage.sql.exec<{ size: number }>(`SELECT size FROM checkpoints ORDER BY size`).toArray().map((r) => r.size));
    if (sizes.join() === "0,2") return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no checkpoint of the key entries in ${fleet}`);
}

describe("Fleet object alarms", () => {
  it("publishes a checkpoint only when the tree grew, and marks silent agents offline", async () => {
    const fleet = "alarms";
    const { agentId, key } = await enrollIn(fleet, "quiet");
    const checkpoints = () =>
      runInDurableObject(stubFor(fleet), (_i, state) => state.storage.sql.exec<{ size: number }>(`SELECT size FROM checkpoints ORDER BY size`).toArray().map((r) => r.size));
    // The empty tree is checkpointed when the fleet is created, then (a second later, by the alarm)
    // the enrollment's key entries (enrolled, approved).
    expect((await checkpoints())[0]).toBe(0);
    await keyEntriesCheckpointed(fleet);

    await runInDurableObject(stubFor(fleet), async (_i, state) => {
      const log = new GlobalLog(state.storage.sql);
      state.storage.transactionSync(() =>
        log.append(sealRecord({ agentId, seq: 0, kind: "digest", timestamp: 1, payloadJson: "1" }, key.secretKey), Date.now()),
      );
      // An agent that was online but has been silent for a minute.
      state.storage.sql.exec(`UPDATE agents SET online = 1, connected = 1, last_seen_at = ? WHERE id = ?`, Date.now() - 60_000, agentId);
      // Checkpoints are at most one a second: let the last one be two seconds old.
      state.storage.sql.exec(`UPDATE checkpoints SET created_at = created_at - 2000`);
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    await abortAllDurableObjects();
    expect(await runDurableObjectAlarm(stubFor(fleet))).toBe(true);
    expect(await checkpoints()).toEqual([0, 2, 3]);
    const view = (await api("GET", `/v1/agents/${agentId}?fleet=${fleet}`)).body;
    expect(view).toMatchObject({ online: false, connected: false });
    const outbox = await runInDurableObject(stubFor(fleet), (_i, state) =>
      state.storage.sql.exec<{ kind: string }>(`SELECT kind FROM outbox ORDER BY id`).toArray().map((r) => r.kind),
    );
    expect(outbox).toContain("agent.offline");
    expect(outbox).toContain("checkpoint.published");

    // Nothing new: the next alarm signs nothing.
    await runInDurableObject(stubFor(fleet), async (_i, state) => state.storage.setAlarm(Date.now() + 60_000));
    expect(await runDurableObjectAlarm(stubFor(fleet))).toBe(true);
    expect(await checkpoints()).toEqual([0, 2, 3]);
  });

  it("schedules no alarm for an idle fleet", async () => {
    await enrollIn("idle", "pi");
    // The enrollment's key entries are signed a second later, and announced (checkpoint.published)
    // once the minute since the empty tree's event has passed: let that minute be over.
    await keyEntriesCheckpointed("idle");
    await runInDurableObject(stubFor("idle"), (_i, state) => {
      state.storage.sql.exec(`UPDATE meta SET value = CAST(CAST(value AS INTEGER) - 61000 AS TEXT) WHERE key = 'checkpoint_event_at'`);
    });
    await abortAllDurableObjects();
    expect(await runDurableObjectAlarm(stubFor("idle"))).toBe(true);
    const announced = await runInDurableObject(stubFor("idle"), (_i, state) =>
      state.storage.sql.exec<{ payload: string }>(`SELECT payload FROM outbox WHERE kind = 'checkpoint.published' ORDER BY id`).toArray().map((r) => JSON.parse(r.payload).size),
    );
    expect(announced).toEqual([0, 2]);
    await abortAllDurableObjects();
    expect(await runDurableObjectAlarm(stubFor("idle"))).toBe(false);
  });
});

describe("fleets nobody created", () => {
  it("are not created by public routes: 404 (log) or 401 (enroll), and nothing is stored", async () => {
    const res = await api("GET", "/v1/log/checkpoint?fleet=made-up", undefined, {});
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("fleet_not_found");
    const enroll = await api("POST", "/v1/enroll?fleet=made-up", { token: "bet_x", publicKey: { kty: "OKP", crv: "Ed25519", x: newKey().x }, name: "x" }, { "Content-Type": "application/json" });
    expect(enroll.status).toBe(401);
    const tables = await runInDurableObject(stubFor("made-up"), (_i, state) => state.storage.sql.exec(`SELECT name FROM sqlite_master`).toArray());
    expect(tables).toEqual([]);
    // An operator creates it by using it.
    expect((await api("POST", "/v1/enrollment-tokens?fleet=made-up", {})).status).toBe(201);
    expect((await api("GET", "/v1/log/checkpoint?fleet=made-up", undefined, {})).status).toBe(200);
  });
});
