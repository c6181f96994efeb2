/**
 * Whether the soft drift flag keeps flagged agents out of the mean field. It does only while agents
 * in good standing outnumber the flagged ones among those otherwise eligible. Drift is judged against
 * each agent's declared rate and an assumed latency, so when most of a fleet looks drifting, the
 * reference is what is off (a fleet-wide misdeclared rate, a slow network), and excluding them would
 * gut or empty the field. The flag stays visible either way; hard quarantine (replay, jump) is not
 * affected.
 */
export function driftExcludes(steady: number, drifting: number): boolean {
  return steady > drifting;
}

/** The candidates that make up the field: all of them, less the drifting ones while driftExcludes. */
export function fieldMembers<T extends { readonly drifting: boolean }>(candidates: readonly T[]): T[] {
  const drifting = candidates.filter((c) => c.drifting).length;
  return driftExcludes(candidates.length - drifting, drifting) ? candidates.filter((c) => !c.drifting) : [...candidates];
}
