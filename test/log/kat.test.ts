import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { decodeBase64 } from "../../shared/encoding/base64.js";
import { decodeHex, encodeHex } from "../../shared/encoding/hex.js";
import { encodeUtf8 } from "../../shared/encoding/utf8.js";
import { CompactRange, EMPTY_ROOT, MemoryNodeStore, MerkleTree, hashChildren, hashLeaf } from "../../shared/log/index.js";
import { generateSignerKey, openNote, parseSignerKey, parseVerifierKey, signNote } from "../../shared/note/index.js";
import { kat } from "./fixtures.js";

describe("RFC 6962 known answers", () => {
  it("empty tree root", () => {
    expect(encodeHex(EMPTY_ROOT)).toBe(kat.rfc6962.emptyTreeRoot);
    expect(encodeHex(MerkleTree.open(new MemoryNodeStore()).root())).toBe(kat.rfc6962.emptyTreeRoot);
  });
  it("leaf hashes", () => {
    for (const k of kat.rfc6962.leafHash) {
      const data = k.leafHex !== undefined ? decodeHex(k.leafHex) : encodeUtf8(k.leafAscii!);
      expect(encodeHex(hashLeaf(data))).toBe(k.hash);
    }
  });
  it("node hash", () => {
    for (const k of kat.rfc6962.nodeHash) {
      expect(encodeHex(hashChildren(encodeUtf8(k.leftAscii), encodeUtf8(k.rightAscii)))).toBe(k.hash);
    }
  });
  it("reference tree roots for sizes 0–8, from the tree at each size and from history", () => {
    const leaves = kat.rfc6962.referenceTree.leavesHex.map(decodeHex);
    const roots = kat.rfc6962.referenceTree.rootsBySize;
    const tree = MerkleTree.open(new MemoryNodeStore());
    const range = CompactRange.empty();
    expect(encodeHex(tree.root())).toBe(roots[0]);
    leaves.forEach((leaf, i) => {
      tree.append(leaf);
      range.append(hashLeaf(leaf));
      expect(encodeHex(tree.root())).toBe(roots[i + 1]);
      expect(encodeHex(range.root())).toBe(roots[i + 1]);
    });
    // Historical roots, computed from stored perfect subtrees.
    for (let size = 0; size <= 8; size++) expect(encodeHex(tree.root(size))).toBe(roots[size]);
  });
});

it("hashChildren is SHA-256(0x01 ‖ left ‖ right) on 32-byte children", () => {
  const l = hashLeaf(new Uint8Array([1]));
  const r = hashLeaf(new Uint8Array([2]));
  expect(encodeHex(hashChildren(l, r))).toBe(encodeHex(sha256(new Uint8Array([1, ...l, ...r]))));
});

describe("signed-note known answer (Go sumdb/note PeterNeumann key)", () => {
  const { verifierKey, signerKey, text, signatureLine } = kat.signedNote;
  const note = `${text}\n${signatureLine}\n`;

  it("verifies with the verifier key", () => {
    const opened = openNote(note, [parseVerifierKey(verifierKey)]);
    expect(opened.text).toBe(text);
    expect(opened.verified.map((s) => s.name)).toEqual(["PeterNeumann"]);
  });
  it("our signer reproduces the signature byte for byte", () => {
    const signer = parseSignerKey(signerKey);
    expect(signer.verifierKey).toBe(verifierKey);
    expect(signNote(text, [signer])).toBe(note);
  });
  it("generating from the same seed gives the same key texts", () => {
    // The key material is everything after the fourth "+" (base64 may itself contain "+").
    const seed = decodeBase64(signerKey.split("+").slice(4).join("+")).subarray(1);
    expect(generateSignerKey("PeterNeumann", seed)).toEqual({ signerKey, verifierKey });
  });
});
