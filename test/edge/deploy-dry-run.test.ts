/** `wrangler deploy --dry-run` bundles the Worker cleanly (what CI runs before a real deploy). */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

it("bundles with wrangler deploy --dry-run", async () => {
  const outdir = mkdtempSync(join(tmpdir(), "becomingone-dry-run-"));
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir],
      { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", CI: "1" }, timeout: 120_000 },
    );
    const output = stdout + stderr;
    expect(output).toContain("--dry-run: exiting now.");
    expect(output).toContain("env.FLEET (Fleet)");
    expect(output).not.toMatch(/✘|\[ERROR\]/);
    const bundle = readdirSync(outdir).find((name) => name.endsWith(".js"));
    expect(bundle).toBeDefined();
    expect(existsSync(join(outdir, bundle!)) && statSync(join(outdir, bundle!)).size).toBeGreaterThan(10_000);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}, 150_000);
