import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodePhaseFrame,
  encodePhaseFrame,
  parseLiveMessage,
  LiveMessageError,
  PhaseFrameError,
  phaseFrameBytes,
  quantizeTheta,
  type PhaseEntry,
} from "../../shared/dashboard/index.js";

const TWO_PI = 2 * Math.PI;
/** Distance on the circle. */
const arc = (a: number, b: number) => {
  const d = Math.abs(a - b) % TWO_PI;
  return Math.min(d, TWO_PI - d);
};

const entry = fc.record({
  i: fc.integer({ min: 0, max: 0xffff }),
  theta: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  omega: fc.double({ min: -1e3, max: 1e3, noNaN: true }),
  coherence: fc.double({ min: 0, max: 1, noNaN: true }),
  dt: fc.integer({ min: -1e9, max: 1e9 }),
});

describe("phase frame", () => {
  it("round trips within the quantization (θ to 2π/65536, coherence to 1/255, ω to f32, t to the ms)", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 4e12, noNaN: true }), fc.array(entry, { maxLength: 50 }), (at, raw) => {
        const agents: PhaseEntry[] = raw.map((e) => ({ i: e.i, theta: e.theta, omega: e.omega, coherence: e.coherence, t: at + e.dt }));
        const bytes = encodePhaseFrame(at, agents);
        expect(bytes.byteLength).toBe(phaseFrameBytes(agents.length));
        const frame = decodePhaseFrame(bytes);
        expect(frame.at).toBe(at);
        expect(frame.agents).toHaveLength(agents.length);
        frame.agents.forEach((got, k) => {
          const sent = agents[k]!;
          expect(got.i).toBe(sent.i);
          expect(got.theta).toBeGreaterThanOrEqual(0);
          expect(got.theta).toBeLessThan(TWO_PI);
          expect(arc(got.theta, sent.theta)).toBeLessThanOrEqual(TWO_PI / 65536 / 2 + 1e-6 * Math.max(1, Math.abs(sent.theta)));
          expect(Math.abs(got.omega - sent.omega)).toBeLessThanOrEqual(Math.abs(sent.omega) * 1e-6 + 1e-30);
          expect(Math.abs(got.coherence - sent.coherence)).toBeLessThanOrEqual(0.5 / 255 + 1e-12);
          expect(Math.abs(got.t - sent.t)).toBeLessThanOrEqual(0.5 + 1e-3);
        });
      }),
    );
  });

  it("wraps θ: −π, 2π and multiples land on the circle; just under 2π rounds to 0", () => {
    expect(quantizeTheta(0)).toBe(0);
    expect(quantizeTheta(TWO_PI)).toBe(0);
    expect(quantizeTheta(-TWO_PI * 3)).toBe(0);
    expect(quantizeTheta(Math.PI)).toBe(32768);
    expect(quantizeTheta(-Math.PI)).toBe(32768);
    expect(quantizeTheta(-Math.PI / 2)).toBe(49152);
    expect(quantizeTheta(TWO_PI - 1e-9)).toBe(0);
    expect(quantizeTheta(Number.NaN)).toBe(0);
  });

  it("bounds what it encodes: coherence clamped to 0..1, non-finite ω sent as 0, dt clamped to i32", () => {
    const at = 1_700_000_000_000;
    const frame = decodePhaseFrame(
      encodePhaseFrame(at, [
        { i: 1, theta: 1, omega: Number.POSITIVE_INFINITY, coherence: 7, t: at + 1e12 },
        { i: 2, theta: 1, omega: Number.NaN, coherence: -3, t: at - 1e12 },
      ]),
    );
    expect(frame.agents.map((a) => [a.omega, a.coherence, a.t - at])).toEqual([
      [0, 1, 0x7fff_ffff],
      [0, 0, -0x8000_0000],
    ]);
    expect(() => encodePhaseFrame(at, [{ i: 65536, theta: 0, omega: 0, coherence: 0, t: at }])).toThrow(RangeError);
    expect(() => encodePhaseFrame(at, [{ i: 1.5, theta: 0, omega: 0, coherence: 0, t: at }])).toThrow(RangeError);
    expect(() => encodePhaseFrame(Number.NaN, [])).toThrow(RangeError);
  });

  it("is little-endian with the header the contract fixes", () => {
    const bytes = encodePhaseFrame(1, [{ i: 0x0102, theta: Math.PI, omega: 1, coherence: 1, t: 3 }]);
    expect([...bytes.slice(0, 4)]).toEqual([1, 0, 1, 0]);
    expect(new DataView(bytes.buffer).getFloat64(4, true)).toBe(1);
    expect([...bytes.slice(12, 16)]).toEqual([0x02, 0x01, 0x00, 0x80]);
    expect(bytes[20]).toBe(255);
    expect(new DataView(bytes.buffer).getInt32(21, true)).toBe(2);
  });

  it("refuses truncated, padded, wrong-version and non-finite frames with a typed error only", () => {
    const good = encodePhaseFrame(5, [
      { i: 1, theta: 0, omega: 0, coherence: 0, t: 5 },
      { i: 2, theta: 0, omega: 0, coherence: 0, t: 5 },
    ]);
    const codeOf = (bytes: Uint8Array) => {
      try {
        decodePhaseFrame(bytes);
        return "ok";
      } catch (err) {
        expect(err).toBeInstanceOf(PhaseFrameError);
        return (err as PhaseFrameError).code;
      }
    };
    expect(codeOf(good)).toBe("ok");
    expect(codeOf(good.slice(0, 11))).toBe("too_short");
    expect(codeOf(good.slice(0, good.length - 1))).toBe("bad_length");
    expect(codeOf(new Uint8Array([...good, 0]))).toBe("bad_length");
    const v2 = good.slice();
    v2[0] = 2;
    expect(codeOf(v2)).toBe("bad_version");
    const reserved = good.slice();
    reserved[1] = 1;
    expect(codeOf(reserved)).toBe("bad_reserved");
    const nanAt = good.slice();
    new DataView(nanAt.buffer).setFloat64(4, Number.NaN, true);
    expect(codeOf(nanAt)).toBe("bad_at");
    const nanOmega = good.slice();
    new DataView(nanOmega.buffer).setFloat32(12 + 4, Number.NaN, true);
    expect(codeOf(nanOmega)).toBe("bad_value");
    // A view into a larger buffer decodes only its own bytes.
    const padded = new Uint8Array(good.length + 8);
    padded.set(good, 4);
    expect(decodePhaseFrame(padded.subarray(4, 4 + good.length)).agents.map((a) => a.i)).toEqual([1, 2]);
    // Arbitrary bytes: a frame or a PhaseFrameError, never anything else.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        expect(["ok", "too_short", "bad_version", "bad_reserved", "bad_length", "bad_at", "bad_value"]).toContain(codeOf(bytes));
      }),
    );
  });
});

describe("live text messages", () => {
  const fleet = { fleetId: "f", agents: {}, field: { r: 0.5 }, log: {} };
  it("parses the three kinds and refuses anything else with LiveMessageError", () => {
    expect(parseLiveMessage(JSON.stringify({ type: "fleet", at: 1, fleet, sample: [1, 0.5, 0] })).type).toBe("fleet");
    expect(parseLiveMessage(JSON.stringify({ type: "agents", at: 1, upsert: [], remove: [3] })).type).toBe("agents");
    expect(parseLiveMessage(JSON.stringify({ type: "snapshot", at: 1, fleet, agents: [], history: [[1, 0, 0]] })).type).toBe("snapshot");
    for (const bad of ["", "{", "[]", '{"type":"fleet","at":1}', '{"type":"agents","at":1,"upsert":[{"i":1}],"remove":[]}', '{"type":"x","at":1}']) {
      expect(() => parseLiveMessage(bad), bad).toThrow(LiveMessageError);
    }
  });
});
