import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { generateSecret, parseSecret, signatureHeader, signWithKey } from "../../shared/webhooks/index.js";

const kat = JSON.parse(readFileSync(new URL("../fixtures/kat.json", import.meta.url), "utf8")).standardWebhooks as {
  secret: string;
  id: string;
  timestamp: number;
  body: string;
  signature: string;
};

describe("Standard Webhooks signatures", () => {
  it("reproduces the spec's known answer", async () => {
    expect(await signatureHeader([kat.secret], { id: kat.id, timestamp: kat.timestamp, body: kat.body })).toBe(kat.signature);
  });

  it("a changed id, timestamp or body changes the signature", async () => {
    const key = parseSecret(kat.secret);
    const base = { id: kat.id, timestamp: kat.timestamp, body: kat.body };
    const variants = [{ ...base, id: kat.id + "x" }, { ...base, timestamp: kat.timestamp + 1 }, { ...base, body: kat.body + " " }];
    for (const v of variants) expect(await signWithKey(key, v)).not.toBe(kat.signature);
  });

  it("generated secrets are whsec_ + 32 random bytes and parse back", () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(a).not.toBe(b);
    expect(parseSecret(a)).toHaveLength(32);
    expect(parseSecret(generateSecret(64))).toHaveLength(64);
    expect(() => generateSecret(16)).toThrow(RangeError);
  });

  it("refuses secrets that are not whsec_ + 24-64 bytes of canonical base64", () => {
    for (const bad of ["", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_AAAA", "whsec_" + "A".repeat(100), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw "]) {
      expect(() => parseSecret(bad), bad).toThrow(TypeError);
    }
  });

  it("the standardwebhooks package verifies our signatures with each secret of a rotation alone", async () => {
    const secrets = [generateSecret(), generateSecret(24), generateSecret(64)];
    const id = "msg_2bM1cdhdBuFqH7i8LHRVmNQv";
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ type: "webhook.test", timestamp: new Date().toISOString(), data: { é: "ü 😀" } });
    const header = await signatureHeader(secrets, { id, timestamp, body });
    expect(header.split(" ")).toHaveLength(3);
    const headers = { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": header };
    for (const secret of secrets) expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    // A secret that did not sign, or one changed byte of the body, does not verify.
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(secrets[0]!).verify(body.replace("ü", "u"), headers)).toThrow();
  });

  it("our signature equals the package's own for the same content", async () => {
    const secret = generateSecret();
    const at = new Date(1_765_000_000_000);
    const id = "msg_abc";
    expect(await signatureHeader([secret], { id, timestamp: 1_765_000_000, body: "{}" })).toBe(new Webhook(secret).sign(id, at, "{}"));
  });
});
