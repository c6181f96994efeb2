/**
 * The verifiable log: RFC 6962 hashing, compact ranges, a tree over a synchronous node store, proof
 * building and verification (RFC 9162 §2.1.3–2.1.4), and the canonical entry encoding.
 */
export { HASH_SIZE, EMPTY_ROOT, hashLeaf, hashChildren } from "./rfc6962.js";
export { LogError, RootMismatchError, isLogError, type LogErrorCode, type LogErrorDetails } from "./errors.js";
export { CompactRange, type NodeVisitor } from "./compact-range.js";
export { MemoryNodeStore, requireBatchStart, type NodeStore, type AppendBatch, type TreeNode } from "./node-store.js";
export { MerkleTree } from "./tree.js";
export {
  inclusionPlan,
  consistencyPlan,
  rootPlan,
  buildProof,
  foldElement,
  planReads,
  type ProofPlan,
  type ProofElementPlan,
  type NodeReader,
} from "./proof-build.js";
export { verifyInclusion, verifyConsistency, rootFromInclusionProof } from "./proof-verify.js";
export { perfectRanges, type NodeId } from "./tree-math.js";
export {
  RECORD_TAG_V1,
  RECORD_SIGNATURE_CONTEXT,
  RECORD_LIMITS,
  validateRecordFields,
  recordSigningInput,
  encodeRecord,
  decodeRecord,
  recordLeafHash,
  type RecordFields,
  type SealedRecord,
} from "./entry.js";
export { sealRecord, verifyRecordSignature } from "./record-seal.js";
export {
  inclusionProofDocument,
  consistencyProofDocument,
  INCLUSION_BATCH_MAX,
  type InclusionProofBatchDocument,
  type InclusionProofDocument,
  type ConsistencyProofDocument,
} from "./proof-document.js";
export {
  AGENT_CHECKPOINT_TAG,
  KEY_ENTRY_TAG,
  AGENT_CHECKPOINT_NOTE_MAX_BYTES,
  KEY_EVENTS,
  encodeAgentCheckpointEntry,
  encodeKeyEntry,
  encodeLogEntry,
  decodeLogEntry,
  type AgentCheckpointEntry,
  type KeyEntry,
  type KeyEvent,
  type LogEntry,
  type LogEntryType,
} from "./log-entry.js";
export { agentIdForKey } from "./agent-id.js";
