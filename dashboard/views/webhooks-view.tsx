/** The Webhooks view (H3b fills it in). */
export function WebhooksView() {
  return (
    <section data-view="webhooks">
      <h1>Webhooks</h1>
      <p class="muted">Coming soon.</p>
    </section>
  );
}
