import { describe, expect, it } from "vitest";
import { CheckpointError, formatCheckpoint, openCheckpoint, parseCheckpoint, signCheckpoint } from "../../shared/checkpoint/index.js";
import { encodeBase64 } from "../../shared/encoding/base64.js";
import { MemoryNodeStore, MerkleTree } from "../../shared/log/index.js";
import { NoteError, generateSignerKey, parseSignerKey, parseVerifierKey } from "../../shared/note/index.js";

const keys = generateSignerKey("becomingone.example/fleet/alpha");
const signer = parseSignerKey(keys.signerKey);
const verifier = parseVerifierKey(keys.verifierKey);

const tree = MerkleTree.open(new MemoryNodeStore());
for (let i = 0; i < 10; i++) tree.append(new Uint8Array([i]));
const checkpoint = { origin: "becomingone.example/fleet/alpha", size: tree.size, root: tree.root() };

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error("expected an error");
}

describe("checkpoint body (C2SP tlog-checkpoint)", () => {
  it("formats origin, decimal size, base64 root and extension lines", () => {
    expect(formatCheckpoint(checkpoint)).toBe(`becomingone.example/fleet/alpha\n10\n${encodeBase64(tree.root())}\n`);
    const withExt = { ...checkpoint, extensions: ["time 2026-11-26T04:00:00Z"] };
    expect(parseCheckpoint(formatCheckpoint(withExt))).toEqual(withExt);
    expect(parseCheckpoint(formatCheckpoint(checkpoint))).toEqual({ ...checkpoint, extensions: [] });
  });

  it("parsing is strict", () => {
    const root = encodeBase64(tree.root());
    const bad = [
      `o\n10\n${root}`, // no final newline
      `o\n10\n`, // too few lines
      `o\n010\n${root}\n`, // leading zero
      `o\n-1\n${root}\n`,
      `o\n1e3\n${root}\n`,
      `o\n9007199254740992\n${root}\n`, // 2^53
      `o\n10\n${encodeBase64(new Uint8Array(31))}\n`, // short root
      `o\n10\nnot base64\n`,
      `has space\n10\n${root}\n`,
      `a+b\n10\n${root}\n`,
      `\n10\n${root}\n`,
      `o\n10\n${root}\n\n`, // empty extension line
    ];
    for (const text of bad) {
      const err = caught(() => parseCheckpoint(text));
      expect(err).toBeInstanceOf(CheckpointError);
      expect((err as CheckpointError).code).toBe("CHECKPOINT_MALFORMED");
    }
  });
});

describe("signed checkpoints", () => {
  it("sign then open", () => {
    const note = signCheckpoint(checkpoint, [signer]);
    const opened = openCheckpoint(note, [verifier], { origin: checkpoint.origin });
    expect(opened.checkpoint).toEqual({ ...checkpoint, extensions: [] });
    expect(opened.note.verified[0]!.name).toBe("becomingone.example/fleet/alpha");
  });

  it("a flipped bit in the signed size or root breaks the signature", () => {
    const note = signCheckpoint(checkpoint, [signer]);
    const changedSize = note.replace("\n10\n", "\n11\n"); // 10 ^ 1
    expect((caught(() => openCheckpoint(changedSize, [verifier])) as NoteError).code).toBe("NOTE_BAD_SIGNATURE");
    const root = encodeBase64(tree.root());
    const flipped = root[0] === "A" ? "B" + root.slice(1) : "A" + root.slice(1);
    expect((caught(() => openCheckpoint(note.replace(root, flipped), [verifier])) as NoteError).code).toBe("NOTE_BAD_SIGNATURE");
  });

  it("origin mismatch and wrong key are distinct errors", () => {
    const note = signCheckpoint(checkpoint, [signer]);
    expect((caught(() => openCheckpoint(note, [verifier], { origin: "other" })) as CheckpointError).code).toBe("CHECKPOINT_ORIGIN_MISMATCH");
    const other = parseVerifierKey(generateSignerKey("someone.else").verifierKey);
    expect((caught(() => openCheckpoint(note, [other])) as NoteError).code).toBe("NOTE_UNVERIFIED");
  });
});
