/**
 * A path router in a signal: the views are paths (/, /agents, /agents/<id>, /log, /log/<index>,
 * /tokens, /webhooks, /config, /sign-in); the edge serves index.html for any of them.
 */
import { computed, signal } from "@preact/signals";
import { parseRoute } from "./route-parse.js";

export { parseRoute, type Route } from "./route-parse.js";

export const currentPath = signal(location.pathname);
export const route = computed(() => parseRoute(currentPath.value));

/** Where to go after signing in: the page the operator asked for. */
let afterSignIn = "/";

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === currentPath.value) return;
  if (options.replace === true) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  currentPath.value = path;
}

export function requireSignIn(): void {
  if (currentPath.value !== "/sign-in") afterSignIn = currentPath.value;
  navigate("/sign-in", { replace: true });
}

export function returnAfterSignIn(): void {
  navigate(afterSignIn === "/sign-in" ? "/" : afterSignIn, { replace: true });
}

export function startRouter(): void {
  addEventListener("popstate", () => {
    currentPath.value = location.pathname;
  });
  // Same-origin links navigate in place; modified clicks (new tab, …) keep the browser's behaviour.
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const target = event.target instanceof Element ? event.target.closest("a") : null;
    if (target === null || target.target !== "" || target.hasAttribute("download")) return;
    const url = new URL(target.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/v1/")) return;
    event.preventDefault();
    navigate(url.pathname);
  });
}
