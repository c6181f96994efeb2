import { z } from "zod";

/** Limits of POST /input (on top of the body size limit). */
export const INPUT_LIMITS = {
  bodyBytes: 64 * 1024,
  textChars: 8192,
  tokensPerRequest: 256,
  tokenChars: 256,
  phases: 1024,
} as const;

/**
 * POST /input bodies. `text` is split on whitespace into tokens; `tokens` are taken as given;
 * `phase` is one explicit phase vector (radians), fed to the engine as one token.
 */
export const inputSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("text"),
    content: z.string().min(1).max(INPUT_LIMITS.textChars),
  }),
  z.strictObject({
    type: z.literal("tokens"),
    tokens: z.array(z.string().min(1).max(INPUT_LIMITS.tokenChars)).min(1).max(INPUT_LIMITS.tokensPerRequest),
  }),
  z.strictObject({
    type: z.literal("phase"),
    phases: z.array(z.number().finite()).min(1).max(INPUT_LIMITS.phases),
  }),
]);

export type InputBody = z.infer<typeof inputSchema>;
