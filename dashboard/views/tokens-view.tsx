/** The Enrollment tokens view (H3b fills it in). */
export function TokensView() {
  return (
    <section data-view="tokens">
      <h1>Enrollment tokens</h1>
      <p class="muted">Coming soon.</p>
    </section>
  );
}
