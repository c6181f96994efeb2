/**
 * Collects every signed checkpoint the edge publishes during the soak, as an outside auditor would:
 * polls GET /v1/log/checkpoint on the edge itself (not through the cut link) and keeps each distinct
 * note text. Failed polls (the edge restarting) are counted, not fatal.
 */
export interface CheckpointWatch {
  /** Distinct notes seen, in the order first seen. */
  notes(): readonly string[];
  readonly polls: number;
  readonly failedPolls: number;
  stop(): Promise<void>;
}

/** More distinct notes than this are not kept (the edge makes at most one a second; 4 hours' worth). */
const MAX_NOTES = 16_384;

export function watchCheckpoints(edgeUrl: () => string, everyMs: number): CheckpointWatch {
  const seen = new Set<string>();
  let polls = 0;
  let failedPolls = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      polls++;
      try {
        const res = await fetch(`${edgeUrl()}/v1/log/checkpoint`, { signal: AbortSignal.timeout(5000) });
        const text = await res.text();
        if (res.status === 200 && seen.size < MAX_NOTES) seen.add(text);
        else if (res.status !== 200) failedPolls++;
      } catch {
        failedPolls++;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    notes: () => [...seen],
    get polls() {
      return polls;
    },
    get failedPolls() {
      return failedPolls;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}
