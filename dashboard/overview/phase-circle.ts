/**
 * The phase circle on a canvas: every agent at its θ extrapolated by ω, coloured by coherence, with
 * distinct marks for quarantined, pending and offline agents, and the mean-field vector (r, ψ).
 * Drawn each animation frame; positions go into preallocated typed arrays and every colour bucket is
 * one path, so 1,000 agents cost a few thousand arc() calls and no per-frame garbage.
 */
import type { FleetStore } from "../live/store.js";
import { thetaAt, wrapAngle } from "../live/store.js";

const COHERENCE_BUCKETS = 8;
const MARK_QUARANTINED = COHERENCE_BUCKETS;
const MARK_PENDING = COHERENCE_BUCKETS + 1;
const MARK_OFFLINE = COHERENCE_BUCKETS + 2;
const MARKS = COHERENCE_BUCKETS + 3;

interface Palette {
  readonly ring: string;
  readonly grid: string;
  readonly text: string;
  readonly vector: string;
  readonly quarantined: string;
  readonly pending: string;
  readonly offline: string;
  readonly coherence: readonly string[];
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const value = style.getPropertyValue(name).trim();
  return value === "" ? fallback : value;
}

/** Low coherence is warm (red), high is cool (teal): hue 0 → 170. Lightness from the theme. */
function readPalette(canvas: HTMLCanvasElement): Palette {
  const style = getComputedStyle(canvas);
  const lightness = cssVar(style, "--coherence-lightness", "45%");
  const coherence: string[] = [];
  for (let b = 0; b < COHERENCE_BUCKETS; b++) {
    const hue = Math.round((b / (COHERENCE_BUCKETS - 1)) * 170);
    coherence.push(`hsl(${hue} 75% ${lightness})`);
  }
  return {
    ring: cssVar(style, "--circle-ring", "#8a8f98"),
    grid: cssVar(style, "--circle-grid", "#d0d4da"),
    text: cssVar(style, "--text-muted", "#5b616b"),
    vector: cssVar(style, "--accent", "#3355ff"),
    quarantined: cssVar(style, "--warn", "#d97706"),
    pending: cssVar(style, "--pending", "#7c3aed"),
    offline: cssVar(style, "--offline", "#9aa0a6"),
    coherence,
  };
}

export class PhaseCircle {
  readonly #canvas: HTMLCanvasElement;
  readonly #ctx: CanvasRenderingContext2D;
  readonly #store: FleetStore;
  #palette: Palette;
  #xs = new Float32Array(1024);
  #ys = new Float32Array(1024);
  #marks = new Uint8Array(1024);
  #counts = new Uint32Array(MARKS);
  #frame = 0;
  #width = 0;
  #height = 0;
  #dpr = 1;
  #drawnCount = -1;
  #marked = false;
  readonly #resize: ResizeObserver;
  readonly #scheme: MediaQueryList;
  readonly #onScheme = (): void => {
    this.#palette = readPalette(this.#canvas);
  };

  constructor(canvas: HTMLCanvasElement, store: FleetStore) {
    const ctx = canvas.getContext("2d", { alpha: true });
    if (ctx === null) throw new Error("no 2d canvas context");
    this.#canvas = canvas;
    this.#ctx = ctx;
    this.#store = store;
    this.#palette = readPalette(canvas);
    this.#resize = new ResizeObserver(() => this.#measure());
    this.#resize.observe(canvas);
    this.#scheme = matchMedia("(prefers-color-scheme: dark)");
    this.#scheme.addEventListener("change", this.#onScheme);
    this.#measure();
  }

  start(): void {
    const loop = (): void => {
      this.draw(Date.now());
      this.#frame = requestAnimationFrame(loop);
    };
    this.#frame = requestAnimationFrame(loop);
  }

  stop(): void {
    cancelAnimationFrame(this.#frame);
    this.#resize.disconnect();
    this.#scheme.removeEventListener("change", this.#onScheme);
  }

  #measure(): void {
    const rect = this.#canvas.getBoundingClientRect();
    this.#dpr = Math.max(1, Math.min(window.devicePixelRatio || 1, 3));
    this.#width = Math.max(1, Math.round(rect.width));
    this.#height = Math.max(1, Math.round(rect.height));
    const w = Math.round(this.#width * this.#dpr);
    const h = Math.round(this.#height * this.#dpr);
    if (this.#canvas.width !== w) this.#canvas.width = w;
    if (this.#canvas.height !== h) this.#canvas.height = h;
  }

  #ensureCapacity(n: number): void {
    if (n <= this.#xs.length) return;
    const size = 1 << Math.ceil(Math.log2(n));
    this.#xs = new Float32Array(size);
    this.#ys = new Float32Array(size);
    this.#marks = new Uint8Array(size);
  }

  draw(now: number): void {
    const ctx = this.#ctx;
    const p = this.#palette;
    const w = this.#width;
    const h = this.#height;
    const cx = w / 2;
    const cy = h / 2;
    const radius = Math.max(10, Math.min(w, h) / 2 - 24);
    const dot = Math.max(2.5, Math.min(5, radius / 40));
    ctx.setTransform(this.#dpr, 0, 0, this.#dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);

    // The ring, the axes and the quarter labels.
    ctx.lineWidth = 1;
    ctx.strokeStyle = p.grid;
    ctx.beginPath();
    ctx.moveTo(cx - radius, cy);
    ctx.lineTo(cx + radius, cy);
    ctx.moveTo(cx, cy - radius);
    ctx.lineTo(cx, cy + radius);
    ctx.stroke();
    ctx.strokeStyle = p.ring;
    ctx.beginPath();
    ctx.arc(cx, cy, radius, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.fillStyle = p.text;
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText("0", cx + radius + 12, cy);
    ctx.fillText("π/2", cx, cy - radius - 12);
    ctx.fillText("π", cx - radius - 12, cy);
    ctx.fillText("3π/2", cx, cy + radius + 12);

    // Positions and marks of every agent with a phase.
    const agents = this.#store.byI;
    this.#ensureCapacity(agents.size);
    const xs = this.#xs;
    const ys = this.#ys;
    const marks = this.#marks;
    const counts = this.#counts;
    counts.fill(0);
    let n = 0;
    for (const agent of agents.values()) {
      const theta = thetaAt(agent, now);
      if (theta === null || agent.status === "revoked") continue;
      xs[n] = cx + radius * Math.cos(theta);
      ys[n] = cy - radius * Math.sin(theta);
      let mark: number;
      if (agent.quarantine !== null) mark = MARK_QUARANTINED;
      else if (agent.status === "pending") mark = MARK_PENDING;
      else if (!agent.online) mark = MARK_OFFLINE;
      else mark = Math.min(COHERENCE_BUCKETS - 1, Math.max(0, Math.floor((agent.coherence ?? 0) * COHERENCE_BUCKETS)));
      marks[n] = mark;
      counts[mark]!++;
      n++;
    }

    // Healthy agents: one filled path per coherence bucket.
    for (let b = 0; b < COHERENCE_BUCKETS; b++) {
      if (counts[b] === 0) continue;
      ctx.fillStyle = p.coherence[b]!;
      ctx.beginPath();
      for (let k = 0; k < n; k++) {
        if (marks[k] !== b) continue;
        ctx.moveTo(xs[k]! + dot, ys[k]!);
        ctx.arc(xs[k]!, ys[k]!, dot, 0, 2 * Math.PI);
      }
      ctx.fill();
    }
    // Offline: small hollow grey rings.
    if (counts[MARK_OFFLINE]! > 0) {
      ctx.strokeStyle = p.offline;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (let k = 0; k < n; k++) {
        if (marks[k] !== MARK_OFFLINE) continue;
        ctx.moveTo(xs[k]! + dot, ys[k]!);
        ctx.arc(xs[k]!, ys[k]!, dot, 0, 2 * Math.PI);
      }
      ctx.stroke();
    }
    // Pending: hollow squares.
    if (counts[MARK_PENDING]! > 0) {
      ctx.strokeStyle = p.pending;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (let k = 0; k < n; k++) if (marks[k] === MARK_PENDING) ctx.rect(xs[k]! - dot, ys[k]! - dot, 2 * dot, 2 * dot);
      ctx.stroke();
    }
    // Quarantined: crosses, drawn last so they stay visible in a crowd.
    if (counts[MARK_QUARANTINED]! > 0) {
      const a = dot * 1.3;
      ctx.strokeStyle = p.quarantined;
      ctx.lineWidth = 2;
      ctx.beginPath();
      for (let k = 0; k < n; k++) {
        if (marks[k] !== MARK_QUARANTINED) continue;
        ctx.moveTo(xs[k]! - a, ys[k]! - a);
        ctx.lineTo(xs[k]! + a, ys[k]! + a);
        ctx.moveTo(xs[k]! - a, ys[k]! + a);
        ctx.lineTo(xs[k]! + a, ys[k]! - a);
      }
      ctx.stroke();
    }

    // The mean-field vector r·e^{iψ}, ψ advanced by the field's Ω.
    const fleet = this.#store.fleet.peek();
    if (fleet !== null && fleet.field.n > 0) {
      const { r, psi, omega, t } = fleet.field;
      const dt = Math.min(Math.max(now - t, 0), 10_000) / 1000;
      const angle = wrapAngle(psi + omega * dt);
      const tipX = cx + r * radius * Math.cos(angle);
      const tipY = cy - r * radius * Math.sin(angle);
      ctx.strokeStyle = p.vector;
      ctx.fillStyle = p.vector;
      ctx.lineWidth = 3;
      ctx.beginPath();
      ctx.moveTo(cx, cy);
      ctx.lineTo(tipX, tipY);
      ctx.stroke();
      ctx.beginPath();
      ctx.arc(tipX, tipY, 4.5, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.fillStyle = p.vector;
    ctx.beginPath();
    ctx.arc(cx, cy, 3, 0, 2 * Math.PI);
    ctx.fill();

    if (n !== this.#drawnCount) {
      this.#drawnCount = n;
      this.#canvas.dataset.drawn = String(n);
    }
    if (!this.#marked && fleet !== null) {
      this.#marked = true;
      performance.mark("circle-drawn");
    }
  }
}
