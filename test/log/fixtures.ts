/** Loads the checked-in known answers (test/fixtures/merkle, test/fixtures/kat.json). */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const fixturesDir = fileURLToPath(new URL("../fixtures/", import.meta.url));
export const merkleDir = join(fixturesDir, "merkle");

export interface InclusionVector {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

export interface ConsistencyVector {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : path.endsWith(".json") ? [path] : [];
    })
    .sort();
}

export function vectorFiles(kind: "inclusion" | "consistency"): { name: string; path: string }[] {
  return walk(join(merkleDir, kind)).map((path) => ({ name: relative(merkleDir, path), path }));
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

export interface Kat {
  rfc6962: {
    emptyTreeRoot: string;
    leafHash: { leafHex?: string; leafAscii?: string; hash: string }[];
    nodeHash: { leftAscii: string; rightAscii: string; hash: string }[];
    referenceTree: { leavesHex: string[]; rootsBySize: string[] };
  };
  signedNote: { verifierKey: string; signerKey: string; text: string; signatureLine: string };
}

export const kat: Kat = readJson<Kat>(join(fixturesDir, "kat.json"));
