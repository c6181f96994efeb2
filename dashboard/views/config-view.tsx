/** The Fleet config view (H3b fills it in). */
export function ConfigView() {
  return (
    <section data-view="config">
      <h1>Fleet config</h1>
      <p class="muted">Coming soon.</p>
    </section>
  );
}
