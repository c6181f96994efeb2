/**
 * Replaced sockets in workerd: a replaced socket is never served (its next message closes it with
 * 4000, unanswered), and the current one closing takes the agent offline even while a replaced one
 * waits for its close. (Aborting the object here breaks its sockets with 1006, so the generation's
 * survival across eviction rests on it living in the attachment, like the rest of the socket state.)
 */
import { describe, expect, it } from "vitest";
import { agentView, enrollAgent, open } from "./fleet-agent.js";

describe("replaced sockets in workerd", () => {
  it("a replaced socket's message closes it with 4000, unanswered; the current one works", async () => {
    const agent = await enrollAgent("replaced-message");
    const first = await open(agent, 1);
    const second = await open(agent, 2);
    const mark = first.messages.length;
    if (first.closed === undefined) {
      first.send({ v: 1, type: "ping", nonce: "old" });
      await first.until(() => first.closed !== undefined, "the replaced socket stayed open");
    }
    expect(first.closed).toEqual({ code: 4000, reason: "replaced by a newer connection" });
    expect(first.messages.slice(mark).filter((m) => m.type === "pong")).toEqual([]);
    second.send({ v: 1, type: "ping", nonce: "new" });
    await second.until(() => second.messages.some((m) => m.type === "pong" && m.nonce === "new"), "no pong on the current socket");
    expect(await agentView(agent)).toMatchObject({ connected: true, online: true });
    second.ws.close(1000, "done");
  });

  it("the current socket closing takes the agent offline even while a replaced one is still open", async () => {
    const agent = await enrollAgent("replaced-offline");
    const first = await open(agent, 1);
    const second = await open(agent, 2);
    second.ws.close(1000, "bye");
    await second.until(() => second.closed !== undefined, "no close");
    // The replaced socket may still be open (its 5 s grace); it does not keep the agent connected.
    for (let waited = 0; waited < 5000 && (await agentView(agent)).connected !== false; waited += 50) await new Promise((r) => setTimeout(r, 50));
    // Online stays until offlineAfterMs passes with no socket (presence.ts); connected drops at once.
    expect(await agentView(agent)).toMatchObject({ connected: false, online: true, inField: false });
    first.ws.close(1000, "done");
  });
});
