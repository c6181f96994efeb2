import { mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { UsageError, type Command } from "../command.js";
import { agentConfigFromArgs } from "../agentFlags.js";
import { agentIdFromPublicKey } from "../../identity/agentId.js";
import { loadOrCreateDeviceKey } from "../../identity/deviceKey.js";
import { EdgeHttpError } from "../../link/edgeHttp.js";
import { EdgeTransportError } from "../../link/edgeTransport.js";
import { EDGE_IDENTITY_FILE, loadEdgeIdentity, saveEdgeIdentity } from "../../link/edgeIdentity.js";
import { enrollWithEdge } from "../../link/enrollment.js";

/** `becomingone-agent enroll`: makes the device key if needed, enrolls it with the edge, stores the identity. Nothing else. */
export const command: Command = {
  name: "enroll",
  summary: "enroll this device with an edge (makes the device key on first use, stores the identity)",
  usage: `enroll --edge URL --token T [--data-dir DIR] [--config FILE] [--name NAME] [--hardware TEXT] [--json] [--allow-plaintext-edge]

  --edge URL        the edge coordinator (env BECOMINGONE_EDGE or BECOMINGONE_EDGE_URL)
  --token T         an enrollment token from the operator (env BECOMINGONE_ENROLL_TOKEN)
  --data-dir DIR    where the device key and identity live (default ~/.becomingone; env BECOMINGONE_DATA_DIR)
  --name NAME       how the agent shows in the fleet (default: the host name)
  --hardware TEXT   e.g. "Raspberry Pi Zero 2 W"
  --json            print the stored identity as JSON
  --allow-plaintext-edge  allow http:// to an edge that is not on loopback (a trusted lab network only)

Exit codes: 0 enrolled (or already enrolled), 1 the edge refused or could not be reached, 2 bad usage.`,
  async run(argv) {
    let values;
    try {
      values = parseArgs({
        args: [...argv],
        options: {
          edge: { type: "string" },
          token: { type: "string" },
          "data-dir": { type: "string" },
          config: { type: "string" },
          name: { type: "string" },
          hardware: { type: "string" },
          json: { type: "boolean" },
          "allow-plaintext-edge": { type: "boolean" },
        },
        strict: true,
        allowPositionals: false,
      }).values;
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const pass: string[] = [];
    if (values.config) pass.push("--config", values.config);
    if (values["data-dir"]) pass.push("--data-dir", values["data-dir"]);
    const config = agentConfigFromArgs(pass);
    const edgeUrl = values.edge ?? config.edge.url ?? (process.env.BECOMINGONE_EDGE || undefined);
    const token = values.token ?? config.edge.enrollToken;
    const print = (identity: object, text: string) => process.stdout.write(values.json ? JSON.stringify(identity, null, 2) + "\n" : text + "\n");

    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const key = loadOrCreateDeviceKey(config.dataDir);
    const agentId = agentIdFromPublicKey(key.publicKeyRaw);
    const existing = loadEdgeIdentity(config.dataDir);
    if (existing) {
      if (existing.agentId !== agentId) throw new UsageError(`${config.dataDir}/${EDGE_IDENTITY_FILE} belongs to ${existing.agentId}, not this device key (${agentId})`);
      print(existing, `already enrolled: ${existing.agentId} in fleet ${existing.fleetId} at ${existing.edgeUrl} (delete ${EDGE_IDENTITY_FILE} to enroll anew)`);
      return 0;
    }
    if (!edgeUrl) throw new UsageError("give the edge with --edge URL (or BECOMINGONE_EDGE)");
    if (!token) throw new UsageError("give an enrollment token with --token T (or BECOMINGONE_ENROLL_TOKEN)");
    try {
      new URL(edgeUrl);
    } catch {
      throw new UsageError(`--edge "${edgeUrl}" is not a URL`);
    }
    try {
      const identity = await enrollWithEdge({
        edgeUrl,
        token,
        key,
        agentId,
        ...(values.name ? { name: values.name } : {}),
        ...(values.hardware ? { hardware: values.hardware } : {}),
        allowPlaintext: values["allow-plaintext-edge"] === true || config.edge.allowPlaintext,
      });
      saveEdgeIdentity(config.dataDir, identity);
      print(
        identity,
        [
          `enrolled ${identity.agentId} in fleet ${identity.fleetId} (${identity.status})`,
          `connect   ${identity.connectUrl}`,
          `log key   ${identity.verifierKey ?? "(none yet; pinned at the first connection)"}`,
          `stored in ${config.dataDir}/${EDGE_IDENTITY_FILE}`,
        ].join("\n"),
      );
      return 0;
    } catch (err) {
      if (err instanceof EdgeTransportError) throw new UsageError(err.message);
      if (err instanceof EdgeHttpError) {
        process.stderr.write(`becomingone-agent enroll: ${err.code}: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
};
