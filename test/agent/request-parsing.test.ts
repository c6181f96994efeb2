import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestAgent, type TestAgent } from "./support/testAgent.js";

// The reference's hand-written HTTP server was open to request smuggling and header injection.
// The agent parses with Node's llhttp (strict); these raw-socket cases show that every ambiguous
// framing is refused before any route runs, and that nothing a client sends reaches a response
// header.

let agent: TestAgent;
beforeAll(async () => {
  agent = await startTestAgent();
});
afterAll(async () => {
  await agent.stop();
});

/** Writes raw bytes, reads until the server closes (or 3 s of silence), returns what came back. */
function exchange(raw: string): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(agent.handle.api!.address.port, "127.0.0.1");
    let text = "";
    let idle: NodeJS.Timeout | undefined;
    const finish = (closedByServer: boolean) => {
      clearTimeout(idle);
      socket.destroy();
      resolve({ text, closedByServer });
    };
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => finish(false), 3000);
    };
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      text += d;
      arm();
    });
    socket.on("error", () => {});
    socket.on("close", () => finish(true));
    socket.on("connect", () => {
      socket.write(raw, "latin1");
      arm();
    });
  });
}

// Not anchored to a line: a pipelined answer follows the previous JSON body directly.
const statusLines = (text: string) => text.match(/HTTP\/1\.[01] \d{3}/g) ?? [];

describe("local API: request framing (smuggling)", () => {
  const smuggled = "GET /reset HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const cases: ReadonlyArray<readonly [string, string]> = [
    [
      "Content-Length and Transfer-Encoding together (CL.TE)",
      `POST /input HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    ],
    [
      "two different Content-Length headers",
      `POST /input HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    ],
    [
      "a Transfer-Encoding that does not end in chunked",
      `POST /input HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`,
    ],
    [
      "an obfuscated Transfer-Encoding (space before the colon)",
      `POST /input HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${smuggled}`,
    ],
    [
      "an obs-folded header line",
      `POST /input HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nX-A: a\r\n Transfer-Encoding: chunked\r\n\r\n${smuggled}`,
    ],
    ["a bare LF inside a header value", `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\nContent-Length: 5\r\n\r\n${smuggled}`],
    ["a NUL byte in a header value", `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\u0000b\r\n\r\n${smuggled}`],
    ["a chunk size that is not hex", `POST /input HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n${smuggled}`],
  ];

  for (const [name, raw] of cases) {
    it(`refuses ${name} with 400 and closes, serving no smuggled request`, async () => {
      const { text, closedByServer } = await exchange(raw);
      expect(statusLines(text)).toEqual(["HTTP/1.1 400"]);
      expect(closedByServer).toBe(true);
      // The smuggled GET /reset would have answered 405 with a JSON body naming the route.
      expect(text).not.toContain("/reset");
    });
  }

  it("still serves a correctly framed pipelined pair (the refusals above are not blanket)", async () => {
    const { text } = await exchange(
      "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    expect(statusLines(text)).toEqual(["HTTP/1.1 200", "HTTP/1.1 404"]);
  });
});

describe("local API: header injection", () => {
  it("never turns an encoded CR LF in the path into a response header", async () => {
    const { text } = await exchange("GET /x%0d%0aSet-Cookie:%20pwned=1%0d%0a HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    const [head, body] = text.split("\r\n\r\n");
    expect(statusLines(text)).toEqual(["HTTP/1.1 404"]);
    expect(head).not.toMatch(/^set-cookie/im);
    // The path is echoed only inside the JSON error body, escaped.
    expect(JSON.parse(body!).error.code).toBe("not_found");
  });

  it("refuses a raw CR in the request target", async () => {
    const { text, closedByServer } = await exchange("GET /x\rSet-Cookie: pwned=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    expect(statusLines(text)).toEqual(["HTTP/1.1 400"]);
    expect(closedByServer).toBe(true);
    expect(text).not.toMatch(/^set-cookie/im);
  });
});
