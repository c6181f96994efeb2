/**
 * Overview: the phase circle, the mean field, r over the last 10 minutes, the counts and the
 * latest checkpoint.
 */
import { computed } from "@preact/signals";
import type uPlot from "uplot";
import { TimeChart } from "../charts/time-chart.js";
import { formatNumber, formatTime, shortHash } from "../format.js";
import { displayStatus, store, wrapAngle, type DisplayStatus } from "../live/store.js";
import { PhaseCircleCanvas } from "../overview/phase-circle-canvas.js";

const counts = computed(() => {
  void store.agentsVersion.value;
  const c: Record<DisplayStatus, number> = { online: 0, offline: 0, quarantined: 0, pending: 0, revoked: 0 };
  for (const agent of store.byI.values()) c[displayStatus(agent)]++;
  return c;
});

function readR(): uPlot.AlignedData {
  const h = store.rHistory;
  const xs = new Array<number>(h.length);
  const rs = new Array<number>(h.length);
  for (let k = 0; k < h.length; k++) {
    xs[k] = h[k]![0] / 1000;
    rs[k] = h[k]![1];
  }
  return [xs, rs];
}

export function OverviewView() {
  const fleet = store.fleet.value;
  const c = counts.value;
  const total = c.online + c.offline + c.quarantined + c.pending;
  const field = fleet?.field ?? null;
  const checkpoint = fleet?.log.checkpoint ?? null;
  const label = `Phase circle of ${total} agents; mean field r ${formatNumber(field?.r ?? null)} at ψ ${formatNumber(field === null ? null : wrapAngle(field.psi))} rad`;
  return (
    <section class="overview" data-view="overview">
      <h1>Overview</h1>
      <div class="overview-grid">
        <figure class="card circle-card">
          <PhaseCircleCanvas label={label} />
          <figcaption>
            <ul class="legend">
              <li>
                <span class="swatch coherence-ramp" aria-hidden="true" /> coherence 0 → 1
              </li>
              <li>
                <span class="swatch mark-quarantined" aria-hidden="true" /> quarantined
              </li>
              <li>
                <span class="swatch mark-pending" aria-hidden="true" /> pending
              </li>
              <li>
                <span class="swatch mark-offline" aria-hidden="true" /> offline
              </li>
              <li>
                <span class="swatch mark-vector" aria-hidden="true" /> mean field r·e<sup>iψ</sup>
              </li>
            </ul>
          </figcaption>
        </figure>
        <div class="side">
          <dl class="card counts" aria-label="Agents by status">
            <div class="count online">
              <dt>online</dt>
              <dd data-testid="count-online">{c.online}</dd>
            </div>
            <div class="count offline">
              <dt>offline</dt>
              <dd data-testid="count-offline">{c.offline}</dd>
            </div>
            <div class="count quarantined">
              <dt>quarantined</dt>
              <dd data-testid="count-quarantined">{c.quarantined}</dd>
            </div>
            <div class="count pending">
              <dt>pending</dt>
              <dd data-testid="count-pending">{c.pending}</dd>
            </div>
          </dl>
          <dl class="card facts">
            <div>
              <dt>mean field r</dt>
              <dd data-testid="field-r">{formatNumber(field?.r ?? null, 3)}</dd>
            </div>
            <div>
              <dt>ψ</dt>
              <dd>{field === null ? "–" : `${formatNumber(wrapAngle(field.psi), 3)} rad`}</dd>
            </div>
            <div>
              <dt>Ω</dt>
              <dd>{field === null ? "–" : `${formatNumber(field.omega, 2)} rad/s`}</dd>
            </div>
            <div>
              <dt>in the field</dt>
              <dd>{field?.n ?? "–"}</dd>
            </div>
            <div>
              <dt>latest checkpoint</dt>
              <dd data-testid="latest-checkpoint">
                {checkpoint === null ? (
                  "none yet"
                ) : (
                  <>
                    size <a href="/log">{checkpoint.size}</a>, root <code title={checkpoint.root}>{shortHash(checkpoint.root)}</code>, {formatTime(checkpoint.createdAt)}
                  </>
                )}
              </dd>
            </div>
            <div>
              <dt>log size</dt>
              <dd>{fleet?.log.size ?? "–"}</dd>
            </div>
          </dl>
        </div>
      </div>
      <section class="card">
        <h2>r over the last 10 minutes</h2>
        <TimeChart
          title="Mean-field order parameter r over the last 10 minutes"
          series={[{ label: "r", colorVar: "--accent" }]}
          scales={{ y: { range: [0, 1] } }}
          version={store.rVersion}
          read={readR}
        />
      </section>
    </section>
  );
}
