/** Random identifiers: `ep_` + 32 hex for endpoints, `msg_` + 32 hex for messages (no '.', as the signature needs). */
function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export const newEndpointId = (): string => `ep_${randomHex(16)}`;
export const newMessageId = (): string => `msg_${randomHex(16)}`;

export const ENDPOINT_ID = /^ep_[0-9a-f]{32}$/;
export const MESSAGE_ID = /^msg_[0-9a-f]{32}$/;
