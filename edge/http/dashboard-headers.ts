/**
 * The dashboard's header values, with no imports: the Worker (assets.ts) sets them, and tests in
 * Node and in workerd (and the browser tests) import the same constants.
 */

/** The dashboard's Content-Security-Policy: only its own files, no inline script or style, no eval, no framing. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Content-hashed files under /assets/ never change under their name. */
export const IMMUTABLE_CACHE = "public, max-age=31536000, immutable";
/** Everything else (index.html above all) is revalidated, so a deploy shows at once. */
export const REVALIDATE_CACHE = "no-cache";
