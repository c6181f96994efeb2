/**
 * The live channel's binary phase frame (docs/api.md, "Dashboard live channel"): the agents whose
 * summary changed since the last frame, 13 bytes each. Little-endian.
 *
 * Header (12 bytes): u8 version (1), u8 reserved (0), u16 count, f64 at (epoch ms).
 * Per agent (13 bytes): u16 i, u16 theta (θ/2π·65536, wrapped), f32 omega (rad/s),
 * u8 coherence (×255, rounded), i32 dt (summary time minus `at`, ms).
 *
 * Pure: no DOM, no Node. Encoded by the edge, decoded by the browser.
 */

export const PHASE_FRAME_VERSION = 1;
export const PHASE_FRAME_HEADER_BYTES = 12;
export const PHASE_FRAME_AGENT_BYTES = 13;
/** u16 count. */
export const PHASE_FRAME_MAX_AGENTS = 0xffff;

const TWO_PI = 2 * Math.PI;
const I32_MIN = -0x8000_0000;
const I32_MAX = 0x7fff_ffff;

export interface PhaseEntry {
  /** LiveAgent.i: 0..65535. */
  readonly i: number;
  /** Radians, any value (wrapped into the frame's 16 bits). */
  readonly theta: number;
  /** rad/s. */
  readonly omega: number;
  /** 0..1 (clamped). */
  readonly coherence: number;
  /** The summary's time, epoch ms. */
  readonly t: number;
}

export interface DecodedPhaseEntry {
  readonly i: number;
  /** Radians in [0, 2π). */
  readonly theta: number;
  readonly omega: number;
  /** 0..1, in steps of 1/255. */
  readonly coherence: number;
  /** Summary time, epoch ms (`at` + dt). */
  readonly t: number;
}

export interface PhaseFrame {
  readonly at: number;
  readonly agents: DecodedPhaseEntry[];
}

export type PhaseFrameErrorCode = "too_short" | "bad_version" | "bad_reserved" | "bad_length" | "bad_at" | "bad_value";

/** The one error decode throws: the frame is not a version-1 phase frame. */
export class PhaseFrameError extends Error {
  override readonly name = "PhaseFrameError";
  readonly code: PhaseFrameErrorCode;
  constructor(code: PhaseFrameErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** θ in radians → 16-bit turns (0..65535); non-finite → 0. */
export function quantizeTheta(theta: number): number {
  if (!Number.isFinite(theta)) return 0;
  const turns = theta / TWO_PI;
  const fraction = turns - Math.floor(turns);
  return Math.round(fraction * 65536) & 0xffff;
}

export function quantizeCoherence(coherence: number): number {
  if (!Number.isFinite(coherence)) return 0;
  return Math.round(Math.min(1, Math.max(0, coherence)) * 255);
}

/** f32 range; a non-finite ω is sent as 0 (the frame never carries NaN or ±Infinity). */
function finiteF32(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.max(-3.4e38, Math.min(3.4e38, value));
}

function clampDt(dt: number): number {
  if (!Number.isFinite(dt)) return 0;
  return Math.max(I32_MIN, Math.min(I32_MAX, Math.round(dt)));
}

export function phaseFrameBytes(count: number): number {
  return PHASE_FRAME_HEADER_BYTES + PHASE_FRAME_AGENT_BYTES * count;
}

/** Encodes a frame; throws RangeError on more than PHASE_FRAME_MAX_AGENTS entries, a bad `i` or `at` (the edge's own bug). */
export function encodePhaseFrame(at: number, agents: readonly PhaseEntry[]): Uint8Array<ArrayBuffer> {
  if (agents.length > PHASE_FRAME_MAX_AGENTS) throw new RangeError(`a phase frame holds at most ${PHASE_FRAME_MAX_AGENTS} agents`);
  if (!Number.isFinite(at)) throw new RangeError("at must be finite");
  const bytes = new Uint8Array(phaseFrameBytes(agents.length));
  const view = new DataView(bytes.buffer);
  view.setUint8(0, PHASE_FRAME_VERSION);
  view.setUint8(1, 0);
  view.setUint16(2, agents.length, true);
  view.setFloat64(4, at, true);
  let offset = PHASE_FRAME_HEADER_BYTES;
  for (const agent of agents) {
    if (!Number.isInteger(agent.i) || agent.i < 0 || agent.i > 0xffff) throw new RangeError(`bad live index ${agent.i}`);
    view.setUint16(offset, agent.i, true);
    view.setUint16(offset + 2, quantizeTheta(agent.theta), true);
    view.setFloat32(offset + 4, finiteF32(agent.omega), true);
    view.setUint8(offset + 8, quantizeCoherence(agent.coherence));
    view.setInt32(offset + 9, clampDt(agent.t - at), true);
    offset += PHASE_FRAME_AGENT_BYTES;
  }
  return bytes;
}

/**
 * Decodes a frame. Throws PhaseFrameError (and nothing else) for anything that is not exactly a
 * version-1 frame: short, wrong version or reserved byte, a length that does not match the count,
 * a non-finite `at` or ω.
 */
export function decodePhaseFrame(data: ArrayBuffer | ArrayBufferView): PhaseFrame {
  const view = ArrayBuffer.isView(data) ? new DataView(data.buffer, data.byteOffset, data.byteLength) : new DataView(data);
  if (view.byteLength < PHASE_FRAME_HEADER_BYTES) throw new PhaseFrameError("too_short", `a phase frame has at least ${PHASE_FRAME_HEADER_BYTES} bytes, got ${view.byteLength}`);
  const version = view.getUint8(0);
  if (version !== PHASE_FRAME_VERSION) throw new PhaseFrameError("bad_version", `phase frame version ${version}, expected ${PHASE_FRAME_VERSION}`);
  if (view.getUint8(1) !== 0) throw new PhaseFrameError("bad_reserved", "the reserved byte must be 0");
  const count = view.getUint16(2, true);
  if (view.byteLength !== phaseFrameBytes(count)) throw new PhaseFrameError("bad_length", `${count} agents need ${phaseFrameBytes(count)} bytes, got ${view.byteLength}`);
  const at = view.getFloat64(4, true);
  if (!Number.isFinite(at)) throw new PhaseFrameError("bad_at", "at is not a finite time");
  const agents: DecodedPhaseEntry[] = new Array(count);
  let offset = PHASE_FRAME_HEADER_BYTES;
  for (let k = 0; k < count; k++) {
    const omega = view.getFloat32(offset + 4, true);
    if (!Number.isFinite(omega)) throw new PhaseFrameError("bad_value", `agent ${k}: omega is not finite`);
    const coherence = view.getUint8(offset + 8);
    agents[k] = {
      i: view.getUint16(offset, true),
      theta: (view.getUint16(offset + 2, true) / 65536) * TWO_PI,
      omega,
      coherence: coherence / 255,
      t: at + view.getInt32(offset + 9, true),
    };
    offset += PHASE_FRAME_AGENT_BYTES;
  }
  return { at, agents };
}
