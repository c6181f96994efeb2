import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { join } from "node:path";
import { loadOrCreateSecretFile, SecretFileError } from "./secretFile.js";

export const DEVICE_KEY_FILE = "device-key.pem";

/** The agent's Ed25519 identity. The private key never leaves the device. */
export interface DeviceKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Raw 32-byte public key, base64url (no padding): the agent's public identity. */
  readonly publicKeyBase64Url: string;
  readonly publicKeyRaw: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export function deviceKeyFromPrivate(privateKey: KeyObject): DeviceKey {
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw new SecretFileError("secret_file_invalid", `device key must be Ed25519, got ${privateKey.asymmetricKeyType}`);
  }
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: "jwk" });
  const x = jwk.x;
  if (typeof x !== "string") throw new SecretFileError("secret_file_invalid", "device key has no public part");
  const raw = new Uint8Array(Buffer.from(x, "base64url"));
  return {
    privateKey,
    publicKey,
    publicKeyBase64Url: x,
    publicKeyRaw: raw,
    sign: (message) => new Uint8Array(sign(null, message, privateKey)),
  };
}

/** Loads `<dataDir>/device-key.pem` (PKCS#8 PEM, mode 0600), creating it on first start. */
export function loadOrCreateDeviceKey(dataDir: string): DeviceKey & { readonly created: boolean } {
  const path = join(dataDir, DEVICE_KEY_FILE);
  const { text, created } = loadOrCreateSecretFile(path, () =>
    generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  );
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(text);
  } catch (err) {
    throw new SecretFileError("secret_file_invalid", `${path} is not a PKCS#8 PEM private key: ${(err as Error).message}`);
  }
  return { ...deviceKeyFromPrivate(privateKey), created };
}

/** Ed25519 public key from its raw 32 bytes. */
export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError(`an Ed25519 public key is 32 bytes, got ${raw.length}`);
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(raw).toString("base64url") }, format: "jwk" });
}

export function verifyEd25519(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}
