import type { LamportClock } from "../../shared/causality/lamport-clock.js";
import type { MeanField } from "../../shared/kuramoto/index.js";
import type { FleetConfig } from "../../shared/protocol/config.js";
import type { DeviceKey } from "../identity/deviceKey.js";
import type { Ledger } from "../ledger/ledger.js";

/** The phase summary the runtime offers the link at the fleet's summary rate (protocol `summary` minus v/type/lamport). */
export interface PhaseSummary {
  /** When θ was sampled, UTC epoch ms. */
  readonly t: number;
  readonly theta: number;
  readonly omega: number;
  readonly coherence: number;
  readonly tokenHz: number;
  /** ψ(t) − θ wrapped, radians (0 without a field). */
  readonly phaseDrift: number;
  readonly collapsed: boolean;
}

/** Link states shown in /health and /metrics. */
export type LinkState = "disabled" | "enrolling" | "connecting" | "connected" | "backoff" | "closed";

/** Everything the runtime hands an edge link when it starts it. */
export interface LinkContext {
  readonly agentId: string;
  readonly key: DeviceKey;
  readonly dataDir: string;
  readonly edgeUrl: string | undefined;
  readonly enrollToken: string | undefined;
  /** The name to enroll under (config edge.name; default the host name). */
  readonly deviceName?: string | undefined;
  /** Plain http/ws to an edge that is not on loopback is allowed (config edge.allowPlaintext). */
  readonly allowPlaintextEdge: boolean;
  /**
   * The local ledger. Send `readFrom(nextSeq)` (durable records only) in order, `acknowledge(nextSeq)`
   * on acks, wake on `onDurable`, report `root()`/`durableCount` in hello.
   */
  readonly ledger: Ledger;
  /** The runtime's Lamport clock: `update(remote)` on receipt, `tick()` per message sent. */
  readonly lamport: LamportClock;
  /** The current summary, whenever the link wants one. */
  summary(): PhaseSummary;
  /** Called with a fresh summary at the fleet's summary rate (ticks of the token clock). Returns unsubscribe. */
  onSummary(listener: (summary: PhaseSummary) => void): () => void;
  /** Delivers the fleet's mean field to the mesh oscillator. */
  applyField(field: MeanField): void;
  /** Applies a fleet config (coupling, maxStep, summaryHz…); stale versions are ignored. */
  applyConfig(config: FleetConfig): void;
  /** Structured log line (JSON on stderr). */
  log(level: "error" | "warn" | "info" | "debug", message: string, data?: Record<string, unknown>): void;
}

/**
 * The edge link plugs into the runtime through this interface (agent/link implements it). The
 * runtime never waits on it: start() may return before connecting, and a failing link only
 * changes `state()`.
 */
export interface EdgeLink {
  start(context: LinkContext): void | Promise<void>;
  /** Shutdown: close the socket with 1001 (going away) and stop reconnecting. */
  stop(): Promise<void>;
  state(): LinkState;
  /** Extra Prometheus metrics / health fields, optional. */
  stats?(): Record<string, number | string | boolean | null>;
}
