/**
 * Hostile inputs for property-based fuzzing of every boundary (edge socket, edge REST, the agent's
 * local API). Arbitraries are derived from JSON Schema — the one the project generates from its zod
 * schemas (`protocolJsonSchema()`, the source of docs/protocol.schema.json, or `z.toJSONSchema`) —
 * so a new field or bound is fuzzed without touching this file. `validFrom` makes schema-valid
 * values that lean on the bounds; `hostileFrom` makes near-valid values with defects: wrong types,
 * missing and extra members, out-of-range and boundary numbers, number tokens JSON.stringify cannot
 * write (1e400, -0, 2^53+1), huge strings, deep nesting, lone surrogates.
 *
 * Pure (fast-check only): imported by Node tests and by tests running inside workerd.
 */
import fc from "fast-check";

/** The subset of JSON Schema 2020-12 that zod 4's toJSONSchema emits for the project's schemas. */
export interface JsonSchema {
  readonly $ref?: string;
  readonly type?: "object" | "array" | "string" | "number" | "integer" | "boolean" | "null";
  readonly const?: unknown;
  readonly oneOf?: readonly JsonSchema[];
  readonly anyOf?: readonly JsonSchema[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
}

export type SchemaDefs = Readonly<Record<string, JsonSchema>>;

/**
 * A JSON value fragment written into the text verbatim: number tokens that JSON.stringify cannot
 * produce ("1e400" parses to Infinity, "-0", "9007199254740993" rounds to 2^53) and raw nesting.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON text of a generated value, writing {@link RawJson} fragments as they are. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map((v) => toJsonText(v)).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const members = Object.keys(value).map((k) => `${JSON.stringify(k)}:${toJsonText((value as Record<string, unknown>)[k])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Options for the size of what is generated. */
export interface HostileOptions {
  /** Longest "huge" string, in chars (e.g. just past a frame or body limit). Default 20,000. */
  readonly hugeChars?: number;
  /** Deepest raw nesting, in levels. Default 5,000. */
  readonly maxDepth?: number;
  /** Longest array generated for a schema array (beyond its minItems, and besides maxItems exactly). Default 4. */
  readonly arrayCap?: number;
  /** Longest ordinary string, besides the exact maxLength. Default 40. */
  readonly stringCap?: number;
}

const DEFAULTS: Required<HostileOptions> = { hugeChars: 20_000, maxDepth: 5_000, arrayCap: 4, stringCap: 40 };

function resolve(schema: JsonSchema, defs: SchemaDefs): JsonSchema {
  if (schema.$ref === undefined) return schema;
  const id = schema.$ref.replace(/^#\/\$defs\//, "");
  const target = defs[id];
  if (target === undefined) throw new Error(`unresolved $ref ${schema.$ref}`);
  return target;
}

/** Numbers every numeric field is tried with, whatever its bounds. */
export const EDGE_NUMBERS: readonly (number | RawJson)[] = [
  0,
  -1,
  1,
  0.5,
  -0.5,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  2 ** 32,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER - 1,
  2 ** 53,
  -Number.MAX_SAFE_INTEGER,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  new RawJson("-0"),
  new RawJson("1e400"),
  new RawJson("-1e400"),
  new RawJson("1e-400"),
  new RawJson("9007199254740993"),
  new RawJson("1.0"),
  new RawJson("1E2"),
];

/** Strings that look like numbers or name JavaScript internals. */
const TRICKY_STRINGS = ["NaN", "Infinity", "-Infinity", "1", "0x10", "1e3", " 1", "-0", "", "null", "true", "__proto__", "constructor", "toString"];

/** Keys added as unknown members. */
const EXTRA_KEYS = ["__proto__", "constructor", "prototype", "hasOwnProperty", "v", "type", "x", "agentId", "extra"];

function numberBounds(schema: JsonSchema): { min: number; max: number; minExcluded: boolean; maxExcluded: boolean } {
  const integer = schema.type === "integer";
  const lo = integer ? Number.MIN_SAFE_INTEGER : -Number.MAX_VALUE;
  const hi = integer ? Number.MAX_SAFE_INTEGER : Number.MAX_VALUE;
  return {
    min: schema.minimum ?? schema.exclusiveMinimum ?? lo,
    max: schema.maximum ?? schema.exclusiveMaximum ?? hi,
    minExcluded: schema.exclusiveMinimum !== undefined,
    maxExcluded: schema.exclusiveMaximum !== undefined,
  };
}

function validNumber(schema: JsonSchema): fc.Arbitrary<number> {
  const { min, max, minExcluded, maxExcluded } = numberBounds(schema);
  if (schema.type === "integer") {
    const lo = Math.max(Math.ceil(minExcluded ? min + 1 : min), Number.MIN_SAFE_INTEGER);
    const hi = Math.min(Math.floor(maxExcluded ? max - 1 : max), Number.MAX_SAFE_INTEGER);
    const edges = [...new Set([lo, hi, lo + 1, hi - 1, 0, 1, 2 ** 31, 2 ** 32].filter((n) => n >= lo && n <= hi))];
    return fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(...edges) },
      { weight: 3, arbitrary: fc.bigInt({ min: BigInt(lo), max: BigInt(hi) }).map(Number) },
      { weight: 2, arbitrary: fc.integer({ min: Math.max(lo, 0), max: Math.max(Math.min(hi, 1000), Math.max(lo, 0)) }) },
    );
  }
  const edges = [min, max, 0, 1, -1, 0.5].filter((n) => (minExcluded ? n > min : n >= min) && (maxExcluded ? n < max : n <= max));
  return fc.oneof(
    { weight: 2, arbitrary: edges.length > 0 ? fc.constantFrom(...edges) : fc.constant(minExcluded ? max : min) },
    { weight: 3, arbitrary: fc.double({ min, max, minExcluded, maxExcluded, noNaN: true, noDefaultInfinity: true }) },
  );
}

function validString(schema: JsonSchema, options: Required<HostileOptions>): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  if (schema.pattern !== undefined) {
    // The pattern bounds the length itself; an explicit min/max length narrows it.
    const pattern = new RegExp(schema.pattern);
    const max = schema.maxLength ?? Infinity;
    return fc.stringMatching(pattern).filter((s) => s.length >= minLength && s.length <= max);
  }
  const maxLength = schema.maxLength ?? Math.max(minLength, options.stringCap);
  const cap = Math.min(maxLength, Math.max(minLength, options.stringCap));
  const choices: fc.Arbitrary<string>[] = [fc.string({ unit: "binary", minLength, maxLength: cap }), fc.string({ unit: "grapheme-ascii", minLength, maxLength: cap })];
  if (maxLength <= options.hugeChars) choices.push(fc.constant("é".repeat(maxLength)), fc.constant("x".repeat(Math.max(minLength, maxLength))));
  return fc.oneof(...choices);
}

/** Schema-valid values that lean on the bounds (exact maxima, minima, boundary lengths). */
export function validFrom(schema: JsonSchema, defs: SchemaDefs = {}, options: HostileOptions = {}): fc.Arbitrary<unknown> {
  const opts = { ...DEFAULTS, ...options };
  const s = resolve(schema, defs);
  if (s.const !== undefined) return fc.constant(s.const);
  const union = s.oneOf ?? s.anyOf;
  if (union !== undefined) return fc.oneof(...union.map((member) => validFrom(member, defs, opts)));
  switch (s.type) {
    case "string":
      return validString(s, opts);
    case "number":
    case "integer":
      return validNumber(s);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      const item = validFrom(s.items ?? {}, defs, opts);
      const minLength = s.minItems ?? 0;
      const maxLength = Math.min(s.maxItems ?? minLength + opts.arrayCap, minLength + opts.arrayCap);
      const lengths = [fc.array(item, { minLength, maxLength })];
      if (s.maxItems !== undefined && s.maxItems > maxLength && s.maxItems <= 2048) {
        // The exact maximum count, with small items (a full array of maximal items is a size test of its own).
        const small = validFrom(s.items ?? {}, defs, { ...opts, arrayCap: 1, hugeChars: 100 });
        lengths.push(fc.array(small, { minLength: s.maxItems, maxLength: s.maxItems }));
      }
      return fc.oneof({ weight: 5, arbitrary: lengths[0]! }, ...lengths.slice(1).map((arbitrary) => ({ weight: 1, arbitrary })));
    }
    case "object": {
      const props = s.properties ?? {};
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, child] of Object.entries(props)) model[key] = validFrom(child, defs, opts);
      const record = fc.record(model, { requiredKeys: [...(s.required ?? [])] as string[] });
      if (s.additionalProperties === false) return record;
      // Unknown members are part of a valid message where the schema does not forbid them.
      return fc.tuple(record, fc.option(fc.dictionary(fc.constantFrom("x", "future", "note"), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }), { nil: undefined })).map(
        ([value, extra]) => (extra === undefined ? value : { ...extra, ...value }),
      );
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A value nested `depth` levels deep, as raw JSON (arrays or objects). */
export function deepNesting(depth: number, kind: "array" | "object" = "array"): RawJson {
  return kind === "array" ? new RawJson("[".repeat(depth) + "]".repeat(depth)) : new RawJson('{"a":'.repeat(depth) + "0" + "}".repeat(depth));
}

/** Values of the wrong type for anything: null, booleans, containers, deep nesting, tricky strings. */
export function wrongType(options: HostileOptions = {}): fc.Arbitrary<unknown> {
  const opts = { ...DEFAULTS, ...options };
  return fc.oneof(
    fc.constantFrom<unknown>(null, true, false, [], {}, [1], { "": 0 }, "", 0, -1),
    fc.constantFrom(...TRICKY_STRINGS),
    fc.constantFrom(...EDGE_NUMBERS),
    fc.integer({ min: 2, max: opts.maxDepth }).chain((depth) => fc.constantFrom(deepNesting(depth, "array"), deepNesting(depth, "object"))),
    fc.jsonValue({ maxDepth: 3 }),
  );
}

function hostileNumber(schema: JsonSchema): fc.Arbitrary<unknown> {
  const { min, max } = numberBounds(schema);
  const near: unknown[] = [];
  for (const bound of [min, max]) {
    if (Math.abs(bound) < Number.MAX_VALUE) near.push(bound - 1, bound + 1, bound - 0.5, bound + 0.5, bound * (1 + Number.EPSILON), bound);
  }
  if (schema.type === "integer") near.push(1.5, (Number.isFinite(min) ? min : 0) + 0.25);
  const finite = near.filter((n) => typeof n === "number" && Number.isFinite(n));
  return fc.oneof(fc.constantFrom(...EDGE_NUMBERS), finite.length > 0 ? fc.constantFrom(...finite) : fc.constant(0), fc.double(), fc.constantFrom(...TRICKY_STRINGS));
}

function hostileString(schema: JsonSchema, defs: SchemaDefs, opts: Required<HostileOptions>): fc.Arbitrary<unknown> {
  const maxLength = schema.maxLength;
  const choices: fc.Arbitrary<unknown>[] = [
    fc.constantFrom("", "\ud800", "\udfff", "a\u0000b", "\u2028", "\x7f", "ag_" + "0".repeat(32), "ag_" + "A".repeat(32), "ag_" + "0".repeat(33)),
    fc.integer({ min: 1, max: opts.hugeChars }).map((n) => "x".repeat(n)),
    fc.constant("\u{1F600}".repeat(Math.floor(opts.hugeChars / 2))),
    fc.string({ unit: "binary", maxLength: 80 }),
  ];
  if (maxLength !== undefined) choices.push(fc.constant("y".repeat(maxLength + 1)), fc.constant("é".repeat(maxLength + 1)));
  if (schema.pattern !== undefined) {
    // Valid but for one character, or with something stuck on either end.
    choices.push(
      validString(schema, opts).chain((s) =>
        fc.tuple(fc.nat({ max: Math.max(0, s.length - 1) }), fc.constantFrom("!", " ", "\n", "é", "=", "\u0000", "Z")).map(([i, ch]) => s.slice(0, i) + ch + s.slice(i + 1)),
      ),
      validString(schema, opts).map((s) => s + "\n"),
      validString(schema, opts).map((s) => " " + s),
    );
  }
  void defs;
  return fc.oneof(...choices);
}

function hostileConst(value: unknown): fc.Arbitrary<unknown> {
  if (typeof value === "number") return fc.constantFrom<unknown>(value + 1, value - 1, String(value), new RawJson(`${value}.0`), new RawJson(`${value}e0`), value + 1e-9, 0, 2, null);
  if (typeof value === "string") return fc.constantFrom<unknown>(value.toUpperCase(), ` ${value}`, `${value}\u0000`, value.slice(0, -1), "", "__proto__", "constructor", [value], null);
  return wrongType();
}

/**
 * Near-valid values with defects: each member is valid, hostile or missing, unknown members are
 * added, arrays are too long or empty, numbers go out of range, strings break their patterns.
 * Some generated values are valid: a test must judge each by the schema, not assume a refusal.
 */
export function hostileFrom(schema: JsonSchema, defs: SchemaDefs = {}, options: HostileOptions = {}): fc.Arbitrary<unknown> {
  const opts = { ...DEFAULTS, ...options };
  const s = resolve(schema, defs);
  const valid = validFrom(s, defs, opts);
  const leafDefect = ((): fc.Arbitrary<unknown> => {
    if (s.const !== undefined) return hostileConst(s.const);
    const union = s.oneOf ?? s.anyOf;
    if (union !== undefined) return fc.oneof(...union.map((member) => hostileFrom(member, defs, opts)));
    switch (s.type) {
      case "string":
        return hostileString(s, defs, opts);
      case "number":
      case "integer":
        return hostileNumber(s);
      case "array": {
        const item = s.items ?? {};
        const tooMany = (s.maxItems ?? 0) + 1;
        return fc.oneof(
          fc.constant([]),
          fc.array(hostileFrom(item, defs, opts), { minLength: 1, maxLength: opts.arrayCap }),
          tooMany <= 4096 ? fc.array(validFrom(item, defs, { ...opts, arrayCap: 1, hugeChars: 100 }), { minLength: tooMany, maxLength: tooMany }) : fc.constant([]),
        );
      }
      case "object": {
        const props = s.properties ?? {};
        const model: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [key, child] of Object.entries(props)) {
          model[key] = fc.oneof({ weight: 3, arbitrary: validFrom(child, defs, opts) }, { weight: 1, arbitrary: hostileFrom(child, defs, opts) });
        }
        const required = [...(s.required ?? [])] as string[];
        const record = fc.oneof({ weight: 3, arbitrary: fc.record(model, { requiredKeys: required }) }, { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) });
        const extras = fc.option(fc.dictionary(fc.constantFrom(...EXTRA_KEYS), wrongType(opts), { maxKeys: 3 }), { nil: undefined, freq: 3 });
        return fc.tuple(record, extras).map(([value, extra]) => {
          if (extra === undefined) return value;
          const out: Record<string, unknown> = {};
          // Own enumerable members, "__proto__" included (an assignment would set the prototype).
          for (const [k, v] of Object.entries({ ...value })) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
          for (const k of Object.keys(extra)) {
            if (!(k in out) || k === "__proto__") Object.defineProperty(out, k, { value: extra[k], enumerable: true, writable: true, configurable: true });
          }
          return out;
        });
      }
      default:
        return wrongType(opts);
    }
  })();
  return fc.oneof({ weight: 1, arbitrary: valid }, { weight: 4, arbitrary: leafDefect }, { weight: 1, arbitrary: wrongType(opts) });
}

/** Query-string values for a parameter that should be a non-negative integer. */
export function hostileQueryInteger(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.nat({ max: 40 }).map(String),
    fc.constantFrom("0", "-1", "1.5", "1e3", "0x10", "+1", " 1", "1 ", "", "NaN", "Infinity", "9007199254740991", "9007199254740992", "9007199254740993", "999999999999999", "1000000000000000", "2147483648", "00", "٣", "1,2", "%00", "1%00"),
    fc.string({ unit: "binary", maxLength: 20 }),
    fc.integer({ min: 1, max: 4000 }).map((n) => "9".repeat(n)),
  );
}

/** Comma-separated index lists: empty members, too many, hostile members. */
export function hostileQueryIntegerList(max: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.array(fc.nat({ max: 40 }).map(String), { minLength: 1, maxLength: max }).map((xs) => xs.join(",")),
    fc.array(fc.nat({ max: 40 }).map(String), { minLength: max + 1, maxLength: max + 3 }).map((xs) => xs.join(",")),
    fc.array(hostileQueryInteger(), { minLength: 1, maxLength: 5 }).map((xs) => xs.join(",")),
    fc.constantFrom(",", "1,", ",1", "1,,2", ""),
  );
}

/**
 * The error codes a markdown document names: every backticked snake_case word in a table row
 * (`| … |`), and anywhere a backticked word right after a status ("404 `not_found`"); `prefix_*`
 * wildcards are kept as prefixes.
 */
export function documentedCodes(markdown: string): { codes: Set<string>; prefixes: string[] } {
  const codes = new Set<string>();
  const prefixes: string[] = [];
  for (const line of markdown.split("\n")) {
    const row = line.startsWith("|");
    for (const match of line.matchAll(/(\d{3} )?`([a-z][a-z0-9_]*\*?)`/g)) {
      const word = match[2]!;
      if (!row && match[1] === undefined) continue;
      if (word.endsWith("*")) prefixes.push(word.slice(0, -1));
      else if (word.includes("_") || match[1] !== undefined) codes.add(word);
    }
  }
  return { codes, prefixes };
}

/** Whether `code` is one of the documented ones. */
export function isDocumentedCode(code: string, documented: { codes: Set<string>; prefixes: string[] }): boolean {
  return documented.codes.has(code) || documented.prefixes.some((p) => code.startsWith(p));
}

/** `FUZZ_RUNS=N` multiplies every property's case count by N (default 1 = the CI counts). */
export function fuzzRuns(ciRuns: number, multiplier: string | undefined): number {
  const factor = Number(multiplier ?? "1");
  return Math.max(1, Math.round(ciRuns * (Number.isFinite(factor) && factor > 0 ? factor : 1)));
}
