import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import type { TokenQueue } from "../runtime/tokenQueue.js";
import { TokenSplitter, type SplitMode } from "./tokenSplitter.js";

export interface StreamSourceStats {
  readonly tokens: number;
  readonly pauses: number;
  readonly ended: boolean;
}

export interface StreamSource {
  /** Resolves when the stream has ended and every token is queued (or the source was stopped). */
  readonly done: Promise<void>;
  stats(): StreamSourceStats;
  stop(): void;
}

/**
 * Feeds a readable text stream (stdin, a file) into the queue, token by token. When the queue is
 * full the stream is paused — the OS pipe then fills and blocks the writer — and resumed once the
 * queue drains to its low-water mark.
 */
export function streamSource(stream: Readable, queue: TokenQueue, options: { name: string; mode?: SplitMode }): StreamSource {
  const splitter = new TokenSplitter(options.mode ?? "words");
  let tokens = 0;
  let pauses = 0;
  let ended = false;
  let stopped = false;
  const backlog: string[] = [];

  const drain = (): void => {
    while (backlog.length > 0 && !stopped) {
      const token = backlog[0]!;
      if (!queue.offer([{ type: "text", text: token, source: options.name }])) {
        if (!stream.isPaused()) {
          stream.pause();
          pauses++;
        }
        void queue.whenSpace().then(() => {
          drain();
        });
        return;
      }
      backlog.shift();
      tokens++;
    }
    if (backlog.length === 0 && !ended && !stopped && stream.isPaused()) stream.resume();
    if (backlog.length === 0 && ended) finish();
  };

  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });

  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    backlog.push(...splitter.push(chunk));
    drain();
  });
  stream.on("end", () => {
    backlog.push(...splitter.end());
    ended = true;
    drain();
  });
  stream.on("error", () => {
    ended = true;
    finish();
  });

  return {
    done,
    stats: () => ({ tokens, pauses, ended }),
    stop: () => {
      stopped = true;
      stream.destroy();
      finish();
    },
  };
}

/** Standard input as a token source. */
export function stdinSource(queue: TokenQueue, mode: SplitMode = "words"): StreamSource {
  return streamSource(process.stdin, queue, { name: "stdin", mode });
}

/** A text file as a token source (read once, paced by the queue). */
export function fileSource(path: string, queue: TokenQueue, mode: SplitMode = "words"): StreamSource {
  return streamSource(createReadStream(path, { highWaterMark: 16 * 1024 }), queue, { name: `file:${path}`, mode });
}
