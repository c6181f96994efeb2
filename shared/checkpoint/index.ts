/** C2SP tlog-checkpoint bodies and their signed notes. */
export { CheckpointError, formatCheckpoint, parseCheckpoint, type Checkpoint } from "./checkpoint.js";
export { signCheckpoint, openCheckpoint } from "./signed-checkpoint.js";
export { agentLogOrigin, witnessName, agentLogVerifierKey, witnessVerifierKey } from "./agent-log-names.js";
