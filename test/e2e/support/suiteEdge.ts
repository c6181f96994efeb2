import { afterAll, beforeAll } from "vitest";
import { startEdge, type RunningEdge } from "../../support/edge.js";
import { removeTempDirs } from "./agentProcess.js";

/**
 * One real edge (wrangler dev) for a whole end-to-end test file: started before its tests, disposed
 * after them together with the agents' temporary data dirs. `use` receives the running edge.
 */
export function useSuiteEdge(use: (edge: RunningEdge) => void): void {
  let started: RunningEdge | undefined;
  beforeAll(async () => {
    started = await startEdge();
    use(started);
  });
  afterAll(async () => {
    await started?.dispose();
    removeTempDirs();
  });
}
