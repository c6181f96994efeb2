/**
 * The enrollment tokens view in real Chromium against the real edge: a token created in the UI is
 * shown once with its `becomingone-agent enroll …` command; that very command (run as the real
 * agent CLI) enrolls a device, and the agent then runs and connects with the stored identity; the
 * list shows the use; revoking in the UI makes the CLI's next enrollment fail as revoked.
 */
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeTempDirs, startAgentProcess, tempDir, waitFor, type AgentProcess } from "../e2e/support/agentProcess.js";
import { call } from "../edge/fleet-client.js";
import { ensureDashboardBuilt, useBrowser } from "../support/browser.js";
import { startEdge, type RunningEdge } from "../support/edge.js";
import { expectCleanView, screenshotsOf, signedInOn } from "./views-support.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
let edge: RunningEdge;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  ensureDashboardBuilt();
  edge = await startEdge();
}, 180_000);

useBrowser();
afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill9()));
  await edge?.dispose();
  removeTempDirs();
});

/** POSIX shell words of a command line with single quotes (what the UI's command uses). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!);
  return words;
}

/** Runs `becomingone-agent <args>` (the real CLI, from source) and collects its output. */
function agentCli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "agent", "cli", "main.ts"), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code) => done({ code, stdout, stderr }));
  });
}

describe("enrollment tokens view", () => {
  it("a token created in the UI enrolls a real agent with the command it shows; revoking it in the UI stops the next", async () => {
    const page = await signedInOn(edge, "/tokens", "tokens");
    try {
      await page.getByLabel("Name").fill("bench in the UI");
      await page.getByLabel("Max uses").fill("2");
      await page.getByLabel("Expires after").selectOption({ label: "7 days" });
      await page.getByRole("button", { name: "Create token" }).click();

      const secret = (await page.getByTestId("token-secret").textContent())!.trim();
      expect(secret).toMatch(/^bet_/);
      // Focus moved to the secret's heading, so a keyboard user lands on it.
      await expect.poll(() => page.evaluate<string>("document.activeElement?.id ?? ''"), { timeout: 5_000 }).toBe("once-secret-title");
      const command = (await page.getByTestId("enroll-command").textContent())!.trim();
      const words = shellWords(command);
      expect(words.slice(0, 2)).toEqual(["becomingone-agent", "enroll"]);
      expect(words).toEqual(["becomingone-agent", "enroll", "--edge", edge.url, "--token", secret]);

      // The listed token: unused, 2 allowed, active.
      const row = page.locator("tr[data-token-id]").filter({ hasText: "bench in the UI" });
      await row.waitFor({ state: "visible" });
      expect(await row.getAttribute("data-state")).toBe("active");
      expect(await row.locator("td.num").textContent()).toBe("0 / 2");
      await expectCleanView(page);
      await screenshotsOf(edge, page, "tokens", "/tokens", "tokens", { ready: "tr[data-token-id]" });

      // The command as shown, run by the real CLI (plus where this device keeps its key).
      const dataDir = join(tempDir("tokens-view-"), "device");
      const enrolled = await agentCli([...words.slice(1), "--data-dir", dataDir, "--name", "ui-enrolled"]);
      expect(enrolled.code, enrolled.stderr).toBe(0);
      const agentId = /enrolled (ag_[0-9a-f]{32})/.exec(enrolled.stdout)?.[1];
      expect(agentId, enrolled.stdout).toBeDefined();

      // The agent runs from the stored identity (no token) and connects.
      const agent = startAgentProcess({ dataDir, edgeUrl: edge.url });
      agents.push(agent);
      expect((await agent.ready).agentId).toBe(agentId);
      await waitFor(
        "the enrolled agent connected",
        async () => {
          const a = (await call(edge, "GET", `/v1/agents/${agentId!}`)).body as { name: string; status: string; connected: boolean };
          return a.connected && a.status === "active" && a.name === "ui-enrolled" ? a : undefined;
        },
        60_000,
      );

      // The list shows the use after a reload; then revoke it in the UI.
      await page.reload();
      await row.waitFor({ state: "visible" });
      expect(await row.locator("td.num").textContent()).toBe("1 / 2");
      await row.getByRole("button", { name: /^Revoke token/ }).click();
      await expect.poll(() => row.getAttribute("data-state"), { timeout: 10_000 }).toBe("revoked");

      const again = await agentCli(["enroll", "--edge", edge.url, "--token", secret, "--data-dir", join(tempDir("tokens-view-"), "second")]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/enrollment_token_revoked/);
    } finally {
      await page.context().close();
    }
  });

  it("works from the keyboard alone: tab to the fields, type, submit with Enter", async () => {
    const page = await signedInOn(edge, "/tokens", "tokens");
    try {
      await page.getByLabel("Name").focus();
      await page.keyboard.type("keyboard only");
      await page.keyboard.press("Tab");
      expect(await page.evaluate<string>("document.activeElement?.getAttribute('name') ?? ''")).toBe("maxUses");
      await page.keyboard.press("Control+A");
      await page.keyboard.type("3");
      await page.keyboard.press("Tab");
      expect(await page.evaluate<string>("document.activeElement?.getAttribute('name') ?? ''")).toBe("expiresIn");
      await page.keyboard.press("Tab");
      expect(await page.evaluate<string>("document.activeElement?.getAttribute('name') ?? ''")).toBe("requireApproval");
      await page.keyboard.press("Space");
      await page.keyboard.press("Tab");
      expect(await page.evaluate<string>("document.activeElement?.textContent ?? ''")).toBe("Create token");
      await page.keyboard.press("Enter");
      await page.getByTestId("token-secret").waitFor({ state: "visible", timeout: 10_000 });
      const tokens = (await call(edge, "GET", "/v1/enrollment-tokens")).body.tokens as { name: string; maxUses: number; requireApproval: boolean }[];
      expect(tokens.find((t) => t.name === "keyboard only")).toMatchObject({ maxUses: 3, requireApproval: true });
    } finally {
      await page.context().close();
    }
  });

  it("the edge's refusal is shown as it says it", async () => {
    const page = await signedInOn(edge, "/tokens", "tokens");
    try {
      // A name over the edge's 64 characters: the field allows typing no more, so set it past the
      // field's own limit as a script could, and let the edge judge.
      await page.getByLabel("Name").evaluate((el, v) => {
        const input = el as unknown as { value: string; dispatchEvent(e: unknown): boolean; removeAttribute(n: string): void };
        input.removeAttribute("maxlength");
        input.value = v;
        input.dispatchEvent(new (globalThis as unknown as { Event: new (t: string, o: object) => unknown }).Event("input", { bubbles: true }));
      }, "x".repeat(65));
      await page.getByRole("button", { name: "Create token" }).click();
      const error = page.getByTestId("view-error");
      await error.waitFor({ state: "visible", timeout: 10_000 });
      expect(await error.textContent()).toMatch(/\(invalid_body\)$/);
      expect(await page.getByTestId("token-secret").count()).toBe(0);
    } finally {
      await page.context().close();
    }
  });
});
