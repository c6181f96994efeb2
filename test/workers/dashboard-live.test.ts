/**
 * The dashboard's live channel in workerd: viewer sockets on the real Fleet object (hibernating,
 * tagged "viewer") next to real agent sockets. Viewers are opened through the object's upgrade with
 * the Worker's internal headers (the Worker's session check is the sessions' own tests; the route's
 * refusals are tested here through the Worker).
 */
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decodePhaseFrame, parseLiveMessage, type AgentsMessage, type LiveMessage, type PhaseFrame, type SnapshotMessage } from "../../shared/dashboard/index.js";
import { FleetSockets } from "../../edge/fleet/fleet-sockets.js";
import { CONNECT_HEADERS } from "../../edge/fleet/scope.js";
import { VIEWER_HEADERS } from "../../edge/fleet/viewer-request.js";
import { ADMIN, enrollAgent, open } from "./fleet-agent.js";

const stub = (fleet: string) => env.FLEET.get(env.FLEET.idFromName(fleet));
const HASH = "ab".repeat(32);

class ViewerClient {
  readonly texts: LiveMessage[] = [];
  readonly frames: PhaseFrame[] = [];
  readonly invalid: string[] = [];
  closed: { code: number; reason: string } | undefined;
  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener("message", async (event) => {
      try {
        if (typeof event.data === "string") this.texts.push(event.data === "pong" ? ({ type: "pong" } as never) : parseLiveMessage(event.data));
        // workerd's client end delivers binary as a Blob (a browser: set binaryType = "arraybuffer").
        else this.frames.push(decodePhaseFrame(event.data instanceof Blob ? await event.data.arrayBuffer() : (event.data as ArrayBuffer)));
      } catch (err) {
        this.invalid.push(`${String(err)}: ${String(event.data).slice(0, 120)}`);
      }
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
    });
  }
  async until<T>(find: () => T | undefined, what: string): Promise<T> {
    for (let waited = 0; waited < 6000; waited += 20) {
      const found = find();
      if (found !== undefined) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${what}; got ${this.texts.map((m) => m.type).join(",")} and ${this.frames.length} frames, closed ${JSON.stringify(this.closed)}, invalid ${this.invalid.join(" | ")}`);
  }
}

/** The object's viewer upgrade, as the Worker forwards it after the session and Origin checks. */
function viewerUpgrade(fleet: string, expiresAt = Date.now() + 3_600_000): Promise<Response> {
  return stub(fleet).fetch("https://fleet.internal/viewer", {
    headers: { Upgrade: "websocket", [VIEWER_HEADERS.sessionHash]: HASH, [VIEWER_HEADERS.expiresAt]: String(expiresAt), [CONNECT_HEADERS.fleetId]: fleet, [CONNECT_HEADERS.host]: "edge.test" },
  });
}

async function openViewer(fleet: string): Promise<ViewerClient> {
  const res = await viewerUpgrade(fleet);
  expect(res.status).toBe(101);
  return new ViewerClient(res.webSocket!);
}

describe("dashboard live channel in workerd", () => {
  it("snapshot, then a phase frame after an agent's summary, then an agents message removing it on revoke; never agent traffic", async () => {
    const agent = await enrollAgent("live-flow", "pi-1");
    const session = await open(agent, 1);
    const viewer = await openViewer(agent.fleet);
    const snapshot = await viewer.until(() => viewer.texts.find((m): m is SnapshotMessage => m.type === "snapshot"), "no snapshot");
    const mine = snapshot.agents.find((a) => a.id === agent.agentId)!;
    expect(mine).toMatchObject({ name: "pi-1", status: "active", connected: true, online: true });
    expect(snapshot.fleet.fleetId).toBe("live-flow");

    const t = Date.now();
    session.send({ v: 1, type: "summary", lamport: 2, t, theta: 2.5, omega: 0.25, coherence: 0.75, tokenHz: 9 });
    const entry = await viewer.until(() => viewer.frames.flatMap((f) => f.agents).find((a) => a.i === mine.i), "no phase frame");
    expect(entry.theta).toBeCloseTo(2.5, 3);
    expect(entry.omega).toBeCloseTo(0.25, 6);
    expect(entry.coherence).toBeCloseTo(0.75, 2);
    expect(Math.abs(entry.t - t)).toBeLessThanOrEqual(1);

    const revoked = await exports.default.fetch(`http://edge.test/v1/agents/${agent.agentId}/revoke?fleet=${agent.fleet}`, { method: "POST", headers: ADMIN });
    expect(revoked.status).toBe(200);
    await viewer.until(() => viewer.texts.find((m): m is AgentsMessage => m.type === "agents" && m.remove.includes(mine.i)), "no removal");
    // A heartbeat `fleet` follows within 2 s; nothing the agents get (field, config…) ever reaches a viewer.
    await viewer.until(() => viewer.texts.find((m) => m.type === "fleet"), "no fleet heartbeat");
    expect(viewer.invalid).toEqual([]);
    viewer.ws.close(1000, "done");
  }, 20_000);

  it("a viewer is never an agent socket: FleetSockets sees only the agent; ping gets pong; a junk frame closes it 1008", async () => {
    const agent = await enrollAgent("live-sockets");
    const session = await open(agent, 1);
    const viewer = await openViewer(agent.fleet);
    await viewer.until(() => viewer.texts.find((m) => m.type === "snapshot"), "no snapshot");
    await runInDurableObject(stub(agent.fleet), (_instance, state) => {
      const sockets = new FleetSockets(state);
      expect(state.getWebSockets()).toHaveLength(2);
      expect(sockets.all()).toHaveLength(1);
      expect([...sockets.liveAgentIds()]).toEqual([agent.agentId]);
      expect(state.getWebSockets("viewer")).toHaveLength(1);
    });
    viewer.ws.send("ping");
    await viewer.until(() => viewer.texts.find((m) => (m.type as string) === "pong"), "no pong");
    viewer.ws.send('{"type":"subscribe"}');
    const closed = await viewer.until(() => viewer.closed, "not closed");
    expect(closed.code).toBe(1008);
    // The agent's socket is untouched.
    session.send({ v: 1, type: "ping", nonce: "still-here" });
    await session.next("pong", (p) => p.nonce === "still-here");
    session.ws.close(1000, "done");
  });

  it("the 17th viewer is refused 429 viewers_full", async () => {
    const fleet = "live-full";
    const viewers: ViewerClient[] = [];
    for (let k = 0; k < 16; k++) viewers.push(await openViewer(fleet));
    const refused = await viewerUpgrade(fleet);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { code: "viewers_full" } });
    for (const v of viewers) v.ws.close(1000, "done");
  });

  it("the Worker's route: 426 without an upgrade, 403 origin_refused from another origin, 401 session_required without a session", async () => {
    const url = "http://edge.test/v1/dashboard/live";
    const code = async (res: Response) => [res.status, ((await res.json()) as { error: { code: string } }).error.code];
    expect(await code(await exports.default.fetch(url))).toEqual([426, "upgrade_required"]);
    expect(await code(await exports.default.fetch(url, { headers: { Upgrade: "websocket", Origin: "https://evil.example" } }))).toEqual([403, "origin_refused"]);
    expect(await code(await exports.default.fetch(url, { headers: { Upgrade: "websocket" } }))).toEqual([403, "origin_refused"]);
    // Internal headers from outside are worth nothing.
    const forged = await exports.default.fetch(url, { headers: { Upgrade: "websocket", Origin: "http://edge.test", [VIEWER_HEADERS.sessionHash]: HASH, [VIEWER_HEADERS.expiresAt]: String(Date.now() + 1e6) } });
    expect(await code(forged)).toEqual([401, "session_required"]);
  });
});
