/**
 * Proofs as JSON documents in the shape of the transparency-dev/merkle test vectors, which
 * `becomingone-agent verify-proof` reads (byte fields in standard base64). The edge and the agent
 * serve proofs in this shape so an auditor can save a response and check it offline.
 */
import { encodeBase64 } from "../encoding/base64.js";

export interface InclusionProofDocument {
  readonly leafIdx: number;
  readonly treeSize: number;
  readonly root: string;
  readonly leafHash: string;
  readonly proof: readonly string[];
}

/** Most leaves one batch of inclusion proofs may ask for (GET /v1/log/proof/inclusions). */
export const INCLUSION_BATCH_MAX = 64;

/**
 * Inclusion proofs of several leaves in one tree: what an agent's auditor asks for once per round
 * instead of one request per record. Each element is a whole inclusion document, so any one of them
 * can be saved and checked offline on its own.
 */
export interface InclusionProofBatchDocument {
  readonly treeSize: number;
  readonly proofs: readonly InclusionProofDocument[];
}

export interface ConsistencyProofDocument {
  readonly size1: number;
  readonly size2: number;
  readonly root1: string;
  readonly root2: string;
  readonly proof: readonly string[];
}

export function inclusionProofDocument(leafHash: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): InclusionProofDocument {
  return { leafIdx: index, treeSize: size, root: encodeBase64(root), leafHash: encodeBase64(leafHash), proof: proof.map(encodeBase64) };
}

export function consistencyProofDocument(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): ConsistencyProofDocument {
  return { size1, size2, root1: encodeBase64(root1), root2: encodeBase64(root2), proof: proof.map(encodeBase64) };
}
