/** The console: one line per event. A closed terminal (EPIPE) must not crash the supervisor mid-shutdown. */
export type Say = (line?: string) => void;

let broken = false;
process.stdout.on("error", () => {
  broken = true;
});
process.stderr.on("error", () => {
  broken = true;
});

export const say: Say = (line = "") => {
  if (!broken) process.stdout.write(line + "\n");
};

export const warn: Say = (line = "") => {
  if (!broken) process.stderr.write(line + "\n");
};

export const rel = (root: string, path: string): string => (path.startsWith(root + "/") ? path.slice(root.length + 1) : path);

export const seconds = (ms: number): string => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);
