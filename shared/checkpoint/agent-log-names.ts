/**
 * The names an agent's log and witness go by, derived from the fleet's checkpoint origin and the
 * agent id, so nobody has to take a name from the agent or the edge on trust:
 *
 *   agent log origin   <fleet origin>/agent/<agentId>     its checkpoints' origin line, and the key
 *                                                         name of their signature (type 0x01)
 *   witness name       <fleet origin>/witness/<agentId>   the key name of its cosignatures of the
 *                                                         global log (type 0x04, cosignature/v1)
 *
 * Both keys are the agent's device key; the key types (and so the key ids) differ.
 */
import { cosignerVerifierKey } from "../note/cosignature.js";
import { formatVerifierKey } from "../note/key-text.js";

export function agentLogOrigin(fleetOrigin: string, agentId: string): string {
  return `${fleetOrigin}/agent/${agentId}`;
}

export function witnessName(fleetOrigin: string, agentId: string): string {
  return `${fleetOrigin}/witness/${agentId}`;
}

/** The verifier key (type 0x01) of the agent's checkpoints. */
export function agentLogVerifierKey(fleetOrigin: string, agentId: string, publicKey: Uint8Array): string {
  return formatVerifierKey(agentLogOrigin(fleetOrigin, agentId), publicKey);
}

/** The cosigner verifier key (type 0x04) of the agent as a witness of the global log. */
export function witnessVerifierKey(fleetOrigin: string, agentId: string, publicKey: Uint8Array): string {
  return cosignerVerifierKey(witnessName(fleetOrigin, agentId), publicKey);
}
