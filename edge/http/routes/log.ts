import { Hono } from "hono";
import { cors } from "hono/cors";
import { INCLUSION_BATCH_MAX } from "../../../shared/log/index.js";
import { fail, fleetStub, queryInt, queryIntList, unwrap, type AppContext, type AppEnv } from "../context.js";
import { PUBLISHED_COSIGNATURES_MAX, type CheckpointQuery } from "../../fleet/published-checkpoint.js";

const CACHE = {
  checkpoint: "public, max-age=1",
  key: "public, max-age=3600",
  /** A proof or page for explicit sizes never changes: the log is append-only. */
  immutable: "public, max-age=31536000, immutable",
  short: "public, max-age=1",
} as const;

/**
 * The global log's public routes (mounted at /v1): checkpoint, key, proofs, entries. Unauthenticated,
 * cacheable, readable cross-origin.
 *
 * @param verifierKey the note verifier key of LOG_SIGNING_KEY (the app validates the secret first)
 */
export function logRoutes(verifierKey: (signingKey: string) => string | null): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .use("/log/*", cors({ origin: "*", allowMethods: ["GET"] }))
    .get("/log/checkpoint", async (c) => {
      const checkpoint = unwrap(await fleetStub(c).checkpoint(c.get("scope"), checkpointQuery(c)));
      return c.body(checkpoint.note, 200, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": CACHE.checkpoint });
    })
    .get("/log/key", (c) =>
      c.body(`${verifierKey(c.env.LOG_SIGNING_KEY!)}\n`, 200, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": CACHE.key }),
    )
    .get("/log/proof/inclusion", async (c) => {
      const size = queryInt(c, "size");
      const index = queryInt(c, "index");
      const agent = c.req.query("agent");
      const seq = queryInt(c, "seq");
      if (index === undefined && (agent === undefined || seq === undefined)) {
        fail(400, "bad_query", "give index (and optionally size), or agent and seq");
      }
      const target = index === undefined ? { agentId: agent!, seq: seq! } : { index };
      const proof = unwrap(await fleetStub(c).inclusionProof(c.get("scope"), { ...target, ...(size === undefined ? {} : { size }) }));
      c.header("Cache-Control", size === undefined ? CACHE.short : CACHE.immutable);
      return c.json(proof);
    })
    .get("/log/proof/inclusions", async (c) => {
      const size = queryInt(c, "size");
      const indices = queryIntList(c, "indices", INCLUSION_BATCH_MAX);
      const batch = unwrap(await fleetStub(c).inclusionProofs(c.get("scope"), { indices, ...(size === undefined ? {} : { size }) }));
      c.header("Cache-Control", size === undefined ? CACHE.short : CACHE.immutable);
      return c.json(batch);
    })
    .get("/log/proof/consistency", async (c) => {
      const from = queryInt(c, "from");
      const to = queryInt(c, "to");
      if (from === undefined) fail(400, "bad_query", "give from (and optionally to)");
      const proof = unwrap(await fleetStub(c).consistencyProof(c.get("scope"), { from, ...(to === undefined ? {} : { to }) }));
      c.header("Cache-Control", to === undefined ? CACHE.short : CACHE.immutable);
      return c.json(proof);
    })
    .get("/log/entries", async (c) => {
      const start = queryInt(c, "start") ?? 0;
      const end = queryInt(c, "end") ?? start + 256;
      const page = unwrap(await fleetStub(c).entries(c.get("scope"), start, end));
      // Only a full, non-empty page is final: an empty one (start = end = size) would pin an old size in caches.
      c.header("Cache-Control", page.end === end && end > start ? CACHE.immutable : CACHE.short);
      return c.json(page);
    })
    .route("/log/agents", agentLogRoutes());
}

/** Longest agent id a route passes on (ids are `ag_` + 32 hex; anything else is simply not found). */
const AGENT_ID_MAX = 64;

/**
 * An agent's own log (mounted at /v1/log/agents, under the CORS rule above): its key history, its
 * latest (or a named, or the newest below a global index) accepted checkpoint, and proofs at the sizes it signed. Unauthenticated, cacheable.
 */
function agentLogRoutes(): Hono<AppEnv> {
  const agentId = (c: AppContext): string => c.req.param("agentId")!.slice(0, AGENT_ID_MAX);
  return new Hono<AppEnv>()
    .get("/:agentId/keys", async (c) => {
      const keys = unwrap(await fleetStub(c).agentKeys(c.get("scope"), agentId(c)));
      return c.json(keys, 200, { "Cache-Control": CACHE.short });
    })
    .get("/:agentId/checkpoint", async (c) => {
      const size = queryInt(c, "size");
      const before = queryInt(c, "before");
      if (size !== undefined && before !== undefined) fail(400, "bad_query", "give size or before, not both");
      const query = size !== undefined ? { size } : before !== undefined ? { before } : {};
      const checkpoint = unwrap(await fleetStub(c).agentCheckpoint(c.get("scope"), agentId(c), query));
      // `before` can name indices not yet assigned (a later checkpoint may still land below it).
      c.header("Cache-Control", size === undefined ? CACHE.short : CACHE.immutable);
      return c.json(checkpoint);
    })
    .get("/:agentId/proof/inclusion", async (c) => {
      const seq = queryInt(c, "seq");
      const size = queryInt(c, "size");
      if (seq === undefined) fail(400, "bad_query", "give seq (and optionally size)");
      const proof = unwrap(await fleetStub(c).agentInclusionProof(c.get("scope"), { agentId: agentId(c), seq, ...(size === undefined ? {} : { size }) }));
      c.header("Cache-Control", size === undefined ? CACHE.short : CACHE.immutable);
      return c.json(proof);
    })
    .get("/:agentId/proof/consistency", async (c) => {
      const from = queryInt(c, "from");
      const to = queryInt(c, "to");
      if (from === undefined) fail(400, "bad_query", "give from (and optionally to)");
      const proof = unwrap(await fleetStub(c).agentConsistencyProof(c.get("scope"), { agentId: agentId(c), from, ...(to === undefined ? {} : { to }) }));
      c.header("Cache-Control", to === undefined ? CACHE.short : CACHE.immutable);
      return c.json(proof);
    });
}

const AGENT_ID = /^ag_[0-9a-f]{32}$/;

/** `?size=`, `?witnesses=id,…` (1–48 agent ids) and `?quorum=` (1–48) of GET /v1/log/checkpoint. */
function checkpointQuery(c: AppContext): CheckpointQuery {
  const size = queryInt(c, "size");
  const quorum = queryInt(c, "quorum");
  const raw = c.req.query("witnesses");
  let witnesses: string[] | undefined;
  if (raw !== undefined) {
    const ids = [...new Set(raw.split(","))];
    if (raw === "" || ids.length > PUBLISHED_COSIGNATURES_MAX || !ids.every((id) => AGENT_ID.test(id))) {
      fail(400, "bad_query", `query parameter witnesses must be 1 to ${PUBLISHED_COSIGNATURES_MAX} comma-separated agent ids`, { witnesses: raw.slice(0, 32) });
    }
    witnesses = ids;
  }
  if (quorum !== undefined && (quorum < 1 || quorum > (witnesses?.length ?? PUBLISHED_COSIGNATURES_MAX))) {
    fail(400, "bad_query", `query parameter quorum must be 1 to ${witnesses?.length ?? PUBLISHED_COSIGNATURES_MAX} (the witnesses named)`, { quorum });
  }
  return { ...(size === undefined ? {} : { size }), ...(witnesses === undefined ? {} : { witnesses }), ...(quorum === undefined ? {} : { quorum }) };
}
