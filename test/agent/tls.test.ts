import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { haveOpenssl, makeSelfSignedCert } from "../support/selfSignedCert.js";
import { startTestAgent } from "./support/testAgent.js";

function get(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("local API over TLS", () => {
  it.skipIf(!haveOpenssl())("serves HTTPS with a certificate made at test time", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bo-tls-"));
    try {
      const { cert, key } = makeSelfSignedCert(dir);
      const agent = await startTestAgent({ api: { tlsCert: cert, tlsKey: key } });
      try {
        expect(agent.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        const ca = readFileSync(cert);
        const health = await get(agent.url + "/health", ca);
        expect(health.status).toBe(200);
        expect(JSON.parse(health.body).status).toBe("ready");
        // Plain HTTP to the TLS port gets no API answer.
        await expect(fetch(agent.url.replace("https:", "http:") + "/health")).rejects.toThrow();
        // An untrusted certificate is refused by a verifying client.
        await expect(get(agent.url + "/health", Buffer.from(""))).rejects.toThrow();
      } finally {
        await agent.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
