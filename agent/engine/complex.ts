/** A complex number as a plain record (JSON-safe as [re, im] via `toPair`). */
export interface Complex {
  readonly re: number;
  readonly im: number;
}

export const ONE: Complex = { re: 1, im: 0 };
export const ZERO: Complex = { re: 0, im: 0 };

export function complexAbs(z: Complex): number {
  return Math.hypot(z.re, z.im);
}

export function complexArg(z: Complex): number {
  return Math.atan2(z.im, z.re);
}

export function complexAdd(a: Complex, b: Complex): Complex {
  return { re: a.re + b.re, im: a.im + b.im };
}

export function complexMul(a: Complex, b: Complex): Complex {
  return { re: a.re * b.re - a.im * b.im, im: a.re * b.im + a.im * b.re };
}

export function complexScale(z: Complex, k: number): Complex {
  return { re: z.re * k, im: z.im * k };
}

/** e^{iθ}. */
export function unitPhasor(theta: number): Complex {
  return { re: Math.cos(theta), im: Math.sin(theta) };
}

export function toPair(z: Complex): [number, number] {
  return [z.re, z.im];
}
