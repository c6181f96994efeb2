import { z } from "zod";
import { fleetConfigSchema } from "./config.js";
import { PROTOCOL_VERSION } from "./limits.js";
import { agentMessageSchema, edgeMessageSchema } from "./messages.js";
import { sealedRecordSchema } from "./record.js";

/**
 * One JSON Schema (2020-12) document describing the whole protocol, generated from the zod schemas so
 * it cannot drift from what the code validates. docs/protocol.schema.json is its committed output.
 */
export function protocolJsonSchema(): Record<string, unknown> {
  const registry = z.registry<{ id: string; description?: string }>();
  registry.add(agentMessageSchema, { id: "AgentMessage", description: "Any message an agent sends to the edge." });
  registry.add(edgeMessageSchema, { id: "EdgeMessage", description: "Any message the edge sends to an agent." });
  registry.add(sealedRecordSchema, { id: "SealedRecord", description: "One signed record of an agent's log." });
  registry.add(fleetConfigSchema, { id: "FleetConfig", description: "Fleet configuration pushed to agents." });
  const generated = z.toJSONSchema(registry, { io: "input", uri: (id) => `#/$defs/${id}` });
  const defs: Record<string, unknown> = {};
  for (const [id, schema] of Object.entries(generated.schemas)) {
    const { $schema: _ignored, ...rest } = schema as Record<string, unknown>;
    defs[id] = rest;
  }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: `https://becomingone.dev/protocol/v${PROTOCOL_VERSION}.schema.json`,
    title: `BecomingONE agent-edge WebSocket protocol v${PROTOCOL_VERSION}`,
    description:
      "JSON text frames over a WebSocket at GET /v1/connect. Validate frames from the agent against #/$defs/AgentMessage and frames from the edge against #/$defs/EdgeMessage. See docs/protocol.md.",
    $defs: defs,
  };
}
