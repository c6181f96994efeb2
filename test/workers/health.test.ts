import { env, exports } from "cloudflare:workers";
import { expect, it } from "vitest";
import { createApp } from "../../edge/http/app.js";

it("serves /health from the Worker", async () => {
  const res = await exports.default.fetch("http://edge.test/health");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true });
});

it("says clearly which secret is missing instead of failing later", async () => {
  const app = createApp();
  for (const [missing, bindings] of [
    ["ADMIN_TOKEN", { ...env, ADMIN_TOKEN: undefined }],
    ["LOG_SIGNING_KEY", { ...env, LOG_SIGNING_KEY: "" }],
  ] as const) {
    for (const path of ["/health", "/v1/agents", "/v1/log/checkpoint"]) {
      const res = await app.fetch(new Request(`http://edge.test${path}`), bindings);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("secrets_missing");
      expect(body.error.message).toContain(missing);
      expect(body.error.message).toContain(".dev.vars");
    }
  }
});

it("refuses to run with a LOG_SIGNING_KEY that is not a note signer key", async () => {
  const res = await createApp().fetch(new Request("http://edge.test/health"), { ...env, LOG_SIGNING_KEY: "not-a-key" });
  expect(res.status).toBe(503);
  expect(await res.json()).toMatchObject({ error: { code: "log_signing_key_invalid" } });
});

it("answers unknown routes and methods with JSON errors", async () => {
  // Under /v1 the Worker answers itself; elsewhere a GET is the dashboard's (assets), any other method a JSON 404.
  for (const [method, path] of [["GET", "/v1/nothing"], ["GET", "/v1"], ["POST", "/v2/nothing"], ["DELETE", "/"]] as const) {
    const notFound = await exports.default.fetch(`http://edge.test${path}`, { method });
    expect(notFound.status, `${method} ${path}`).toBe(404);
    expect(await notFound.json()).toMatchObject({ error: { code: "not_found" } });
  }
  const wrongMethod = await exports.default.fetch("http://edge.test/v1/agents", { method: "DELETE" });
  expect(wrongMethod.status).toBe(405);
  expect(wrongMethod.headers.get("Allow")).toContain("GET");
  expect(await wrongMethod.json()).toMatchObject({ error: { code: "method_not_allowed" } });
});
