import { createApp } from "./http/app.js";
import type { Env } from "./env.js";

export { Fleet } from "./fleet/fleet.js";
export type { Env } from "./env.js";

/** The edge Worker: Hono routes in front, one Fleet Durable Object per fleet behind them. */
const app = createApp();

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
