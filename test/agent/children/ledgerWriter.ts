// Child process for the kill -9 crash test: appends records as fast as a busy agent would, and
// after every durable batch prints "durable <count> <root hex>" (so the parent knows what must
// survive). Args: <ledger dir> <data dir>.
import { loadOrCreateDeviceKey } from "../../../agent/identity/deviceKey.js";
import { Ledger } from "../../../agent/ledger/ledger.js";
import { agentIdFromPublicKey } from "../../../agent/identity/agentId.js";

const [dir, dataDir] = process.argv.slice(2);
if (!dir || !dataDir) throw new Error("usage: ledgerWriter <ledger dir> <data dir>");
const key = loadOrCreateDeviceKey(dataDir);
const ledger = await Ledger.open({
  dir,
  key,
  agentId: agentIdFromPublicKey(key.publicKeyRaw),
  fsyncIntervalMs: 3,
  fsyncEveryRecords: 16,
  segmentBytes: 8192,
  retainAckedBytes: 16 * 1024,
  maxBytes: 4 * 1024 * 1024,
});
ledger.onDurable((count) => {
  process.stdout.write(`durable ${count} ${Buffer.from(ledger.root(count)).toString("hex")}\n`);
  // Acknowledge most of what is durable so retention prunes segments (and the leaf cache is used).
  ledger.acknowledge(Math.max(0, count - 40));
});
process.stdout.write(`open ${ledger.size} ${ledger.tornBytesCut}\n`);
let n = 0;
setInterval(() => {
  for (let i = 0; i < 4; i++) {
    n++;
    const kind = n % 3 === 0 ? "state.digest" : "memory.signature";
    ledger.append(kind, { n, text: "x".repeat(n % 97), phase: [Math.sin(n), Math.cos(n)] });
  }
}, 1);
