import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("serves /health from the Worker", async () => {
  const res = await exports.default.fetch("http://edge.test/health");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true });
});
