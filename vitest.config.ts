import { defineConfig } from "vitest/config";

// Two projects: pure logic and real processes run in Node; the edge's Durable Object runs in workerd.
export default defineConfig({
  test: {
    projects: ["./vitest.node.config.ts", "./vitest.workers.config.ts"],
  },
});
