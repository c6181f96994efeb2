import { crc32 } from "node:zlib";

/**
 * Record framing for the ledger's segment files: [length u32 BE][crc32 u32 BE][payload]. A frame
 * whose header or payload is cut short, or whose checksum fails, marks a torn tail: everything from
 * it on was never durable (fsync covers whole batches, written in order) and is cut on open.
 */
export const FRAME_HEADER_BYTES = 8;
/** A record larger than this is refused on write and treated as a torn tail on read. */
export const MAX_FRAME_PAYLOAD_BYTES = 1 << 20;

export function encodeFrame(payload: Uint8Array): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD_BYTES) {
    throw new RangeError(`record of ${payload.length} bytes exceeds the ${MAX_FRAME_PAYLOAD_BYTES}-byte frame limit`);
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(crc32(payload), 4);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

export interface DecodedFrames {
  /** Payloads of the complete, checksummed frames, with their byte offsets. */
  readonly frames: readonly { readonly offset: number; readonly payload: Buffer }[];
  /** Bytes covered by the complete frames; anything after is a torn tail. */
  readonly validBytes: number;
  /** Why decoding stopped before the end, if it did. */
  readonly tornReason?: string;
}

export function decodeFrames(bytes: Buffer): DecodedFrames {
  const frames: { offset: number; payload: Buffer }[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < FRAME_HEADER_BYTES) {
      return { frames, validBytes: offset, tornReason: `partial frame header at byte ${offset}` };
    }
    const length = bytes.readUInt32BE(offset);
    const checksum = bytes.readUInt32BE(offset + 4);
    if (length > MAX_FRAME_PAYLOAD_BYTES) {
      return { frames, validBytes: offset, tornReason: `frame length ${length} over the limit at byte ${offset}` };
    }
    const end = offset + FRAME_HEADER_BYTES + length;
    if (end > bytes.length) {
      return { frames, validBytes: offset, tornReason: `frame at byte ${offset} cut short (${bytes.length - offset} of ${end - offset} bytes)` };
    }
    const payload = bytes.subarray(offset + FRAME_HEADER_BYTES, end);
    if (crc32(payload) !== checksum) {
      return { frames, validBytes: offset, tornReason: `checksum mismatch in frame at byte ${offset}` };
    }
    frames.push({ offset, payload });
    offset = end;
  }
  return { frames, validBytes: offset };
}
