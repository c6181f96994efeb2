/** The dashboard's client routes (paths; the edge serves index.html for any of them). Pure. */
export type Route =
  | { readonly view: "overview" }
  | { readonly view: "agents" }
  | { readonly view: "agent"; readonly id: string }
  | { readonly view: "log"; readonly index: number | null }
  | { readonly view: "tokens" }
  | { readonly view: "webhooks" }
  | { readonly view: "config" }
  | { readonly view: "sign-in" }
  | { readonly view: "not-found"; readonly path: string };

const AGENT_ID = /^[A-Za-z0-9_.-]{1,128}$/;

export function parseRoute(path: string): Route {
  const clean = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  if (clean === "/" || clean === "") return { view: "overview" };
  if (clean === "/agents") return { view: "agents" };
  if (clean === "/log") return { view: "log", index: null };
  if (clean === "/tokens") return { view: "tokens" };
  if (clean === "/webhooks") return { view: "webhooks" };
  if (clean === "/config") return { view: "config" };
  if (clean === "/sign-in") return { view: "sign-in" };
  const agent = /^\/agents\/([^/]+)$/.exec(clean);
  if (agent !== null) {
    let id = "";
    try {
      id = decodeURIComponent(agent[1] ?? "");
    } catch {
      // a malformed escape is not an agent id
    }
    if (AGENT_ID.test(id)) return { view: "agent", id };
  }
  const entry = /^\/log\/(\d{1,15})$/.exec(clean);
  if (entry !== null) return { view: "log", index: Number(entry[1]) };
  return { view: "not-found", path: clean };
}
