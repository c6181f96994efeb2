import type { Writable } from "node:stream";

/** Default for boundedLineSink's maxQueuedBytes. */
export const LOG_QUEUE_LIMIT_BYTES = 1024 * 1024;

/**
 * Writes log lines to a stream (stderr by default) without letting them pile up in memory. Writes
 * to a pipe or socket — the systemd journal is one — are asynchronous in Node: if the reader
 * stalls, every line waits in the process. Past `maxQueuedBytes` waiting, lines are dropped and
 * counted; once the stream drains, one line says how many were lost.
 */
export function boundedLineSink(stream: Writable = process.stderr, maxQueuedBytes: number = LOG_QUEUE_LIMIT_BYTES): (line: string) => void {
  let dropped = 0;
  let waitingForDrain = false;
  const onDrain = (): void => {
    waitingForDrain = false;
    if (dropped === 0) return;
    const lost = dropped;
    dropped = 0;
    stream.write(JSON.stringify({ t: new Date().toISOString(), level: "warn", msg: "dropped log lines: the log reader did not keep up", dropped: lost }) + "\n");
  };
  return (line: string) => {
    if (stream.writableLength > maxQueuedBytes) {
      dropped++;
      if (!waitingForDrain) {
        waitingForDrain = true;
        stream.once("drain", onDrain);
      }
      return;
    }
    stream.write(line + "\n");
  };
}
