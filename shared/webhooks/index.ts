export * from "./secret.js";
export * from "./signature.js";
export * from "./retry-schedule.js";
export * from "./retry-after.js";
export * from "./delivery-outcome.js";
export * from "./url-policy.js";
export * from "./events.js";
export * from "./api.js";
