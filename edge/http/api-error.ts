/**
 * The one error shape of every HTTP response: `{"error": {"code", "message", "details"?}}`, with a
 * stable `code` (docs/api.md lists them) and the numbers involved in `details`.
 */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

export interface ApiFailure {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly details?: ErrorDetails;
}

/** Thrown inside the Worker; `app.onError` turns it into the JSON shape. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetails | undefined;

  constructor(status: number, code: string, message: string, details?: ErrorDetails) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  static from(failure: ApiFailure): ApiError {
    return new ApiError(failure.status, failure.code, failure.message, failure.details);
  }
}

/**
 * What a Fleet object method returns across RPC: thrown errors lose their class and fields on the way
 * back to the Worker, so failures travel as values.
 */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ApiFailure };

export function success<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function failure(status: number, code: string, message: string, details?: ErrorDetails): Outcome<never> {
  return { ok: false, error: details === undefined ? { status, code, message } : { status, code, message, details } };
}

/** The JSON body of an error response. */
export function errorBody(error: ApiFailure): { error: { code: string; message: string; details?: ErrorDetails } } {
  return {
    error: error.details === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, details: error.details },
  };
}
