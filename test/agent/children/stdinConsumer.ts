// Child for the stdin source test: a small queue drained one token every 2 ms (a fast clock), so a
// large input must pause stdin. Prints "tokens <n> <first> <last> pauses <p>" at the end.
import { TokenQueue } from "../../../agent/runtime/tokenQueue.js";
import { stdinSource } from "../../../agent/sources/streamSource.js";

const queue = new TokenQueue(16);
const source = stdinSource(queue, process.argv[2] === "lines" ? "lines" : "words");
const seen: string[] = [];
const drain = setInterval(() => {
  const t = queue.take();
  if (t?.type === "text") seen.push(t.text);
}, 2);
await source.done;
while (queue.depth > 0) await new Promise((r) => setTimeout(r, 5));
clearInterval(drain);
process.stdout.write(`tokens ${seen.length} ${seen[0]} ${seen.at(-1)} pauses ${source.stats().pauses} maxlen ${Math.max(...seen.map((s) => s.length))}\n`);
