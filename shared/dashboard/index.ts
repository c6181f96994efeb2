/** The dashboard live channel, shared by the edge (encode) and the browser (decode). docs/api.md. */
export * from "./live-messages.js";
export * from "./phase-frame.js";
