import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ADMIN_TOKEN: "test-admin-token",
          // A fixed test-only note key (seed 0x07 × 32), never used outside tests.
          LOG_SIGNING_KEY: "PRIVATE+KEY+becomingone-edge-test+8433b491+AQcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH",
          // The fuzzers' case-count multiplier (FUZZ_RUNS=10 for a long run); workerd sees no host env.
          FUZZ_RUNS: process.env.FUZZ_RUNS ?? "1",
        },
      },
    }),
  ],
  test: {
    name: "workers",
    include: ["test/workers/**/*.test.ts"],
  },
});
