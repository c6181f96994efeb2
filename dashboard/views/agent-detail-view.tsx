/** One agent: recent θ and coherence, its records with in-browser inclusion proofs, approve / revoke. */
export function AgentDetailView({ id }: { id: string }) {
  return (
    <section data-view="agent">
      <h1>Agent {id}</h1>
    </section>
  );
}
