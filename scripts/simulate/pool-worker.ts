/** Worker-thread entry (loaded by pool-host.ts through tsx's loader): serves one agent pool. */
import { servePool } from "./agent-pool.js";

servePool();
