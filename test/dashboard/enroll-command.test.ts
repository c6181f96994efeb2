/** The enroll command the tokens view shows: the edge URL as the agent CLI expects it, quoted for a shell. */
import { describe, expect, it } from "vitest";
import { edgeUrlFor, enrollCommand, shellQuote } from "../../dashboard/views/enroll-command.js";
import { edgeHttpBase } from "../../agent/link/edgeIdentity.js";

describe("enroll command", () => {
  it("uses the dashboard's origin, and ?fleet= only for another fleet", () => {
    expect(edgeUrlFor("https://edge.example", "default")).toBe("https://edge.example");
    expect(edgeUrlFor("https://edge.example:8443", "lab-2")).toBe("https://edge.example:8443/?fleet=lab-2");
    // The agent derives the same base from it (agent/link/edgeIdentity.ts).
    expect(edgeHttpBase(edgeUrlFor("https://edge.example", "lab-2"))).toBe("https://edge.example/?fleet=lab-2");
    expect(enrollCommand({ origin: "http://127.0.0.1:8787", token: "bet_abc-_9", fleet: "default" })).toBe(
      "becomingone-agent enroll --edge http://127.0.0.1:8787 --token bet_abc-_9",
    );
  });

  it("quotes anything a shell would interpret", () => {
    expect(shellQuote("https://e.example/?fleet=a")).toBe("'https://e.example/?fleet=a'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote("$(rm -rf /)")).toBe("'$(rm -rf /)'");
  });
});
