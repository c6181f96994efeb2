/** The global log view (H3b fills it in): size, checkpoint, entries, in-browser verification. */
export function LogView({ index }: { index: number | null }) {
  return (
    <section data-view="log">
      <h1>Global log</h1>
      <p class="muted">{index === null ? "Coming soon." : `Entry ${index}: coming soon.`}</p>
    </section>
  );
}
