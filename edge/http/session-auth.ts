import type { AppContext } from "./context.js";

/**
 * PLACEHOLDER for the dashboard sessions (branch dash-session owns this file and replaces it at
 * merge): the same `readSession` export, so the live channel's route compiles. Until sessions exist
 * there is no live session, so this answers null (the route refuses with 401 session_required).
 */
export async function readSession(_c: AppContext): Promise<{ idHash: string; expiresAt: number } | null> {
  return null;
}
