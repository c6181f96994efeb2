/**
 * The outside auditor in Go: builds test/go/xmodcheck with Debian's golang-go and
 * golang-golang-x-mod-dev (GOPATH mode, GO111MODULE=off, the x/mod source under /usr/share/gocode),
 * turns what an auditor fetched — signed checkpoints, cosigner keys, entry bytes, proofs — into the
 * program's job (every check expected to verify, plus tampered variants expected to be rejected),
 * and runs it. `.ci/run` installs the two packages when they are missing.
 */
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeBase64 } from "../../shared/encoding/base64.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const GOPATH = "/usr/share/gocode";
const XMOD = join(GOPATH, "src/golang.org/x/mod/sumdb");

/** A built xmodcheck binary in a temporary directory. */
export interface XmodChecker {
  readonly binary: string;
  run(job: XmodJob): Promise<XmodRun>;
  dispose(): void;
}

export interface XmodCheck {
  readonly name: string;
  readonly kind: "checkpoint" | "inclusion" | "consistency" | "agent-checkpoint-entry";
  readonly expect: "valid" | "invalid";
  readonly note?: string;
  readonly key?: string;
  readonly cosigners?: readonly string[];
  readonly origin?: string;
  readonly checkpoint?: string;
  readonly index?: number;
  readonly entry?: string;
  readonly old?: string;
  readonly new?: string;
  readonly proof?: readonly string[];
}

export interface XmodJob {
  readonly checks: readonly XmodCheck[];
}

export interface XmodResult {
  readonly name: string;
  readonly kind: string;
  readonly expect: "valid" | "invalid";
  readonly verified: boolean;
  readonly error?: string;
  readonly origin?: string;
  readonly size?: number;
  readonly cosigned?: number;
}

export interface XmodRun {
  readonly code: number;
  readonly stderr: string;
  readonly output: { ok: boolean; passed: number; failed: number; results: XmodResult[] };
}

/**
 * Builds the Go program. Fails with a plain message when Go or the x/mod source is missing (CI
 * installs both; locally: apt-get install golang-go golang-golang-x-mod-dev).
 */
export function buildXmodChecker(): XmodChecker {
  const version = spawnSync("go", ["version"], { encoding: "utf8" });
  if (version.error !== undefined || version.status !== 0) {
    throw new Error("`go` is not installed: apt-get install golang-go golang-golang-x-mod-dev (.ci/run does this)");
  }
  for (const pkg of ["note", "tlog"]) {
    if (!existsSync(join(XMOD, pkg))) {
      throw new Error(`${join(XMOD, pkg)} is missing: apt-get install golang-golang-x-mod-dev (.ci/run does this)`);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "xmodcheck-"));
  const binary = join(dir, "xmodcheck");
  const built = spawnSync("go", ["build", "-o", binary, "."], {
    cwd: join(ROOT, "test/go/xmodcheck"),
    encoding: "utf8",
    timeout: 240_000,
    // GOPATH mode against Debian's packaged source: no module download, no network.
    env: { ...process.env, GO111MODULE: "off", GOPATH, GOCACHE: join(dir, "cache"), GOFLAGS: "", GOPROXY: "off", CGO_ENABLED: "0" },
  });
  if (built.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`go build test/go/xmodcheck failed (${built.status ?? built.signal}):\n${built.stderr}${built.error?.message ?? ""}`);
  }
  return {
    binary,
    run: (job) => runChecker(binary, dir, job),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

let jobs = 0;

function runChecker(binary: string, dir: string, job: XmodJob): Promise<XmodRun> {
  const path = join(dir, `job-${++jobs}.json`);
  writeFileSync(path, JSON.stringify(job));
  return new Promise((resolveRun, reject) => {
    execFile(binary, [path], { timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      const line = stdout.trim();
      if (code === 2 || line === "") {
        reject(new Error(`xmodcheck exited ${code}: ${stderr}`));
        return;
      }
      resolveRun({ code, stderr, output: JSON.parse(line) as XmodRun["output"] });
    });
  });
}

/** One log as an auditor fetched it. */
export interface AuditedLog {
  /** Short label for check names, e.g. "global" or "agent ag_…". */
  readonly label: string;
  /** Verifier key of the log's signer (type 0x01). */
  readonly key: string;
  readonly origin: string;
  /** An older signed checkpoint and the newest one (the newest cosigned by every `cosigners` key). */
  readonly old: string;
  readonly latest: string;
  readonly cosigners: readonly string[];
  /** Consistency proof from old to latest. */
  readonly consistency: readonly Uint8Array[];
  /** Leaves proven included in the latest checkpoint. */
  readonly inclusions: readonly { readonly index: number; readonly entry: Uint8Array; readonly proof: readonly Uint8Array[] }[];
}

const b64 = (bytes: Uint8Array): string => encodeBase64(bytes);

function flipped(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out[out.length - 1]! ^= 0x01;
  return out;
}

/** The note with one character of its checkpoint root (third line) changed: the signed text no longer matches. */
export function flipRoot(note: string): string {
  const lines = note.split("\n");
  const root = lines[2]!;
  const at = root.length - 4; // before the padding
  const c = root[at] === "A" ? "B" : "A";
  lines[2] = root.slice(0, at) + c + root.slice(at + 1);
  return lines.join("\n");
}

/**
 * The checks for one log: both checkpoints (the latest with its cosigners), consistency old →
 * latest, every inclusion; then the tampered variants, each expected to be rejected: a flipped root
 * in the note, a flipped proof hash (inclusion and consistency), a flipped entry byte, another
 * log's key, and (when `wrongCosignature` is given) the latest note with a cosignature line by the
 * wrong key under a cosigner's name.
 */
export function checksForLog(log: AuditedLog, tampered: { otherKey: string; wrongCosignature?: string }): XmodCheck[] {
  const p = log.label;
  const checks: XmodCheck[] = [
    { name: `${p} old`, kind: "checkpoint", expect: "valid", note: log.old, key: log.key, origin: log.origin, cosigners: [] },
    { name: `${p} latest`, kind: "checkpoint", expect: "valid", note: log.latest, key: log.key, origin: log.origin, cosigners: log.cosigners },
    { name: `${p} consistency`, kind: "consistency", expect: "valid", old: `${p} old`, new: `${p} latest`, proof: log.consistency.map(b64) },
  ];
  for (const inc of log.inclusions) {
    checks.push({ name: `${p} inclusion ${inc.index}`, kind: "inclusion", expect: "valid", checkpoint: `${p} latest`, index: inc.index, entry: b64(inc.entry), proof: inc.proof.map(b64) });
  }
  checks.push({ name: `${p} flipped root`, kind: "checkpoint", expect: "invalid", note: flipRoot(log.latest), key: log.key, cosigners: [] });
  checks.push({ name: `${p} other key`, kind: "checkpoint", expect: "invalid", note: log.latest, key: tampered.otherKey, cosigners: [] });
  checks.push({ name: `${p} wrong origin`, kind: "checkpoint", expect: "invalid", note: log.latest, key: log.key, origin: `${log.origin}/elsewhere`, cosigners: [] });
  if (tampered.wrongCosignature !== undefined) {
    checks.push({ name: `${p} wrong cosigner key`, kind: "checkpoint", expect: "invalid", note: tampered.wrongCosignature, key: log.key, cosigners: log.cosigners });
  }
  const withProof = log.inclusions.find((i) => i.proof.length > 0);
  if (withProof !== undefined) {
    const proof = withProof.proof.map(b64);
    proof[0] = b64(flipped(withProof.proof[0]!));
    checks.push({ name: `${p} flipped inclusion proof hash`, kind: "inclusion", expect: "invalid", checkpoint: `${p} latest`, index: withProof.index, entry: b64(withProof.entry), proof });
  }
  const first = log.inclusions[0];
  if (first !== undefined) {
    checks.push({ name: `${p} flipped entry byte`, kind: "inclusion", expect: "invalid", checkpoint: `${p} latest`, index: first.index, entry: b64(flipped(first.entry)), proof: first.proof.map(b64) });
  }
  if (log.consistency.length > 0) {
    const proof = log.consistency.map(b64);
    proof[proof.length - 1] = b64(flipped(log.consistency[log.consistency.length - 1]!));
    checks.push({ name: `${p} flipped consistency proof hash`, kind: "consistency", expect: "invalid", old: `${p} old`, new: `${p} latest`, proof });
  }
  return checks;
}

/**
 * The log of logs: each agent checkpoint entry (0x02) of the global log is included in the global
 * log's latest checkpoint and carries a note that opens under its agent's key (`keys` by agent id,
 * with the agent log's origin). Tampered: the same entry checked with another agent's key.
 */
export function checksForAgentCheckpointEntries(
  global: AuditedLog,
  entries: readonly { readonly index: number; readonly agentId: string }[],
  keys: ReadonlyMap<string, { readonly key: string; readonly origin: string }>,
): XmodCheck[] {
  const checks: XmodCheck[] = [];
  for (const { index, agentId } of entries) {
    const inc = global.inclusions.find((i) => i.index === index);
    const agent = keys.get(agentId);
    if (inc === undefined || agent === undefined) throw new Error(`no inclusion proof or key for the agent checkpoint entry ${index} (${agentId})`);
    const base = { kind: "agent-checkpoint-entry", checkpoint: `${global.label} latest`, index, entry: b64(inc.entry), proof: inc.proof.map(b64) } as const;
    checks.push({ ...base, name: `${global.label} agent checkpoint entry ${index}`, expect: "valid", key: agent.key, origin: agent.origin });
    const other = [...keys.entries()].find(([id]) => id !== agentId)?.[1];
    if (other !== undefined) checks.push({ ...base, name: `${global.label} agent checkpoint entry ${index} under another agent's key`, expect: "invalid", key: other.key });
  }
  return checks;
}
