/**
 * Splits a character stream into tokens: by any whitespace ("words", the default) or one token per
 * non-empty line ("lines"). Incremental: feed chunks, then `end()` for the remainder. A token longer
 * than `maxTokenChars` is cut into pieces of that size rather than buffered without bound.
 */
export type SplitMode = "words" | "lines";

export class TokenSplitter {
  private partial = "";

  constructor(
    private readonly mode: SplitMode = "words",
    private readonly maxTokenChars = 256,
  ) {}

  push(chunk: string): string[] {
    const text = this.partial + chunk;
    const pattern = this.mode === "words" ? /\s+/ : /\r?\n/;
    const parts = text.split(pattern);
    this.partial = parts.pop() ?? "";
    const out: string[] = [];
    for (const p of parts) this.emit(p, out);
    while (this.partial.length > this.maxTokenChars) {
      out.push(this.partial.slice(0, this.maxTokenChars));
      this.partial = this.partial.slice(this.maxTokenChars);
    }
    return out;
  }

  end(): string[] {
    const out: string[] = [];
    this.emit(this.partial, out);
    this.partial = "";
    return out;
  }

  private emit(piece: string, out: string[]): void {
    const token = this.mode === "lines" ? piece.trim() : piece;
    for (let i = 0; i < token.length; i += this.maxTokenChars) out.push(token.slice(i, i + this.maxTokenChars));
  }
}
