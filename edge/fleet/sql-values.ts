/** SQLite BLOB parameters must be exact ArrayBuffers; a Uint8Array may be a view into a larger one. */
export function blob(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}
