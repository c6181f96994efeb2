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
          // Local-development mode (docs/webhooks.md): loopback receivers (the hub below), and a short
          // retry schedule and timeout so retries happen within a test.
          WEBHOOKS_ALLOW_LOOPBACK: "1",
          // 1.2 s steps: with the ±10 % jitter every retry comes more than a second after the last, so
          // each attempt's webhook-timestamp (whole seconds) is a new one.
          WEBHOOKS_RETRY_SCHEDULE_MS: "0,1200,1200,1200,1200",
          WEBHOOKS_TIMEOUT_MS: "500",
        },
      },
    }),
  ],
  test: {
    name: "workers",
    include: ["test/workers/**/*.test.ts"],
    // Real HTTP receivers for webhook deliveries, in Node on loopback (workerd cannot listen).
    globalSetup: ["test/support/workers-receiver-setup.ts"],
  },
});
