// Ties `import { env, exports } from "cloudflare:workers"` to this Worker's own module and bindings.
// A script (no top-level import), so these merge into the global Cloudflare namespace.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("./index");
    durableNamespaces: "Fleet";
  }
  // `extends` needs a plain name, not an import() type.
  type EdgeEnv = import("./env").Env;
  interface Env extends EdgeEnv {}
}
