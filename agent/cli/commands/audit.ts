/**
 * `becomingone-agent audit`: checks one record's whole proof chain from an edge's public routes
 * (shared/audit/chain.ts), with the pinned log key, optional witness keys (k of n) and, with
 * --state, a monitor's kept checkpoint. Exit 0 every step ok (skipped ones allowed), 1 a step
 * failed (`audit: <step>: <reason>` on stderr), 2 bad usage or a malformed state file.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { parseArgs } from "node:util";
import { auditRecord, formatKeptState, MonitorStateError, parseKeptState, parseWitnessKey, type AuditReport, type AuditTarget, type KeptCheckpoint, type WitnessKey } from "../../../shared/audit/index.js";
import { parseVerifierKey, type NoteVerifier } from "../../../shared/note/index.js";
import { UsageError, type Command } from "../command.js";

const USAGE = `audit --edge URL --log-key VKEY (--agent ID --seq N | --index I)
        [--witness VKEY]... [--quorum K] [--state FILE] [--fleet F] [--origin ORIGIN] [--json]

  --edge URL        the edge (https://…, or http:// for a local one)
  --log-key VKEY    the pinned log verifier key (name+hash+base64), e.g. from GET /v1/log/key once
  --agent ID --seq N   the record to audit, or
  --index I         the global log index of a record
  --witness VKEY    a pinned witness (an agent's cosignature key, type 0x04; repeatable)
  --quorum K        valid cosignatures needed (default: every --witness)
  --state FILE      monitor mode: check consistency with the checkpoint kept in FILE, then keep the
                    newer one (atomically; first run: kept-none)
  --fleet F         a non-default fleet
  --origin ORIGIN   require this global log origin
  --json            print every step as JSON on stdout

steps: global-checkpoint witnesses consistency record global-inclusion key device-signature
       agent-checkpoint agent-inclusion agent-checkpoint-entry
exit 0 all ok, 1 a step failed (audit: <step>: <reason> on stderr), 2 usage`;

const MAX_STATE_BYTES = 70_000;

interface AuditArgs {
  edge: string;
  logKey: NoteVerifier;
  target: AuditTarget;
  witnesses: WitnessKey[];
  quorum: number;
  state?: string;
  fleet?: string;
  origin?: string;
  json: boolean;
}

function count(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`${flag} must be a non-negative integer`);
  return Number(text);
}

export function parseAuditArgs(argv: readonly string[]): AuditArgs {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        edge: { type: "string" },
        "log-key": { type: "string" },
        agent: { type: "string" },
        seq: { type: "string" },
        index: { type: "string" },
        witness: { type: "string", multiple: true },
        quorum: { type: "string" },
        state: { type: "string" },
        fleet: { type: "string" },
        origin: { type: "string" },
        json: { type: "boolean" },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.split("\n")[0]! : String(err));
  }
  const edge = values["edge"] as string | undefined;
  if (edge === undefined) throw new UsageError("needs --edge URL");
  let url: URL;
  try {
    url = new URL(edge);
  } catch {
    throw new UsageError(`--edge ${JSON.stringify(edge)} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new UsageError("--edge must be an http(s) URL");
  if (url.search !== "" || url.hash !== "") throw new UsageError("--edge must not carry a query or fragment (use --fleet)");
  const logKeyText = values["log-key"] as string | undefined;
  if (logKeyText === undefined) throw new UsageError("needs --log-key VKEY (the log's verifier key)");
  let logKey: NoteVerifier;
  try {
    logKey = parseVerifierKey(logKeyText.trim());
  } catch (err) {
    throw new UsageError(`bad --log-key: ${err instanceof Error ? err.message : String(err)}`);
  }
  const agent = values["agent"] as string | undefined;
  const seq = count(values["seq"] as string | undefined, "--seq");
  const index = count(values["index"] as string | undefined, "--index");
  let target: AuditTarget;
  if (index !== undefined) {
    if (agent !== undefined || seq !== undefined) throw new UsageError("give either --index or --agent and --seq, not both");
    target = { index };
  } else {
    if (agent === undefined || seq === undefined) throw new UsageError("needs --agent ID and --seq N, or --index I");
    if (!/^[\x21-\x7e]{1,128}$/.test(agent)) throw new UsageError("--agent must be 1–128 printable ASCII characters");
    target = { agentId: agent, seq };
  }
  const witnessTexts = (values["witness"] as string[] | undefined) ?? [];
  if (witnessTexts.length > 48) throw new UsageError("at most 48 --witness keys");
  const witnesses = witnessTexts.map((text) => {
    try {
      return parseWitnessKey(text.trim());
    } catch (err) {
      throw new UsageError(`bad --witness: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  if (new Set(witnesses.map((w) => w.agentId)).size !== witnesses.length) throw new UsageError("the same witness is given twice");
  const quorum = count(values["quorum"] as string | undefined, "--quorum") ?? witnesses.length;
  if (witnesses.length > 0 && (quorum < 1 || quorum > witnesses.length)) throw new UsageError(`--quorum must be 1–${witnesses.length} (the number of --witness keys)`);
  if (witnesses.length === 0 && quorum !== 0) throw new UsageError("--quorum needs --witness keys");
  const fleet = values["fleet"] as string | undefined;
  if (fleet !== undefined && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(fleet)) throw new UsageError("--fleet must be 1–63 of a-z 0-9 -");
  const state = values["state"] as string | undefined;
  const origin = values["origin"] as string | undefined;
  return {
    edge,
    logKey,
    target,
    witnesses,
    quorum,
    json: values["json"] === true,
    ...(state === undefined ? {} : { state }),
    ...(fleet === undefined ? {} : { fleet }),
    ...(origin === undefined ? {} : { origin }),
  };
}

/** The kept checkpoint in a state file: null when there is none yet (first run). */
export function readKeptState(path: string): KeptCheckpoint | null {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_STATE_BYTES) throw new UsageError(`state file ${path} is ${size} bytes, limit ${MAX_STATE_BYTES}`);
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new UsageError(`cannot read state file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return parseKeptState(text);
  } catch (err) {
    if (err instanceof MonitorStateError) throw new UsageError(`state file ${path}: ${err.message}`);
    throw err;
  }
}

/** Writes the state beside its final name, syncs it, then renames: a crash leaves the old or the new file. */
export function writeKeptState(path: string, kept: KeptCheckpoint, now: number): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(temp, "w", 0o644);
  try {
    writeSync(fd, formatKeptState(kept, now));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  try {
    const dir = openSync(dirname(path), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Some filesystems cannot sync a directory; the rename is still atomic.
  }
}

function humanReport(report: AuditReport): string {
  const width = Math.max(...report.steps.map((s) => s.step.length));
  return report.steps.map((s) => `${s.status.padEnd(7)} ${s.step.padEnd(width)}  ${s.reason}`).join("\n") + "\n";
}

export const command: Command = {
  name: "audit",
  summary: "verify a record's whole proof chain (record → agent log → global log → witnesses) from an edge",
  usage: USAGE,
  async run(argv) {
    const args = parseAuditArgs(argv);
    const kept = args.state === undefined ? undefined : readKeptState(args.state);
    const report = await auditRecord({
      fetch: (input, init) => fetch(input, init),
      edge: args.edge,
      logKey: args.logKey,
      target: args.target,
      witnesses: args.witnesses,
      quorum: args.quorum,
      ...(kept === undefined ? {} : { kept }),
      ...(args.fleet === undefined ? {} : { fleet: args.fleet }),
      ...(args.origin === undefined ? {} : { origin: args.origin }),
    });
    let stateWritten = false;
    if (args.state !== undefined && report.keep !== undefined) {
      writeKeptState(args.state, report.keep, Date.now());
      stateWritten = true;
    }
    if (args.json) {
      const state = args.state === undefined ? undefined : { file: args.state, written: stateWritten, ...(report.keep ? { size: report.keep.size, root: report.keep.root } : {}) };
      process.stdout.write(`${JSON.stringify({ ok: report.ok, ...(report.failure ? { failure: report.failure } : {}), steps: report.steps, ...(state ? { state } : {}) }, null, 2)}\n`);
    } else {
      process.stdout.write(humanReport(report));
    }
    if (report.failure) {
      process.stderr.write(`audit: ${report.failure.step}: ${report.failure.reason}\n`);
      return 1;
    }
    return 0;
  },
};
