// Ties `import { env, exports } from "cloudflare:workers"` to this Worker's own module and bindings.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("./index");
    durableNamespaces: "Fleet";
  }
  interface Env extends import("./index").Env {}
}
