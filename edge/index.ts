import { Hono } from "hono";
import { DurableObject } from "cloudflare:workers";

export type Env = {
  FLEET: DurableObjectNamespace<Fleet>;
};

/** Placeholder fleet object; the edge issue replaces it. */
export class Fleet extends DurableObject<Env> {
  override async fetch(): Promise<Response> {
    return Response.json({ ok: true });
  }
}

const app = new Hono<{ Bindings: Env }>();
app.get("/health", (c) => c.json({ ok: true }));

export default app satisfies ExportedHandler<Env>;
