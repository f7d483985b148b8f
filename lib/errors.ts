/**
 * One error type for the whole of onair. Every failure a caller can act on has a
 * stable code; the HTTP status for a code is fixed here, in one table.
 */
export const ERROR_STATUS = {
  invalid_json: 400,
  bad_request: 400,
  invalid_sdp: 400,
  unauthorized: 401,
  token_required: 401,
  token_expired: 401,
  forbidden: 403,
  token_invalid: 403,
  cross_origin_request: 403,
  not_found: 404,
  channel_not_found: 404,
  program_not_found: 404,
  asset_not_found: 404,
  session_not_found: 404,
  webhook_not_found: 404,
  method_not_allowed: 405,
  channel_running: 409,
  channel_not_running: 409,
  channel_busy: 409,
  channel_has_running_programs: 409,
  program_limit_reached: 409,
  program_running: 409,
  program_not_running: 409,
  program_finished: 409,
  publisher_exists: 409,
  input_unavailable: 409,
  channel_limit_reached: 409,
  running_channel_limit_reached: 409,
  webhook_limit_reached: 409,
  publisher_not_live: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  unsupported_offer: 422,
  unprocessable_media: 422,
  clip_out_of_range: 422,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
  viewer_limit_reached: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

export class OnairError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; field?: string }) {
    super(message, { cause: options?.cause });
    this.name = 'OnairError';
    this.code = code;
    this.field = options?.field;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { error: { code: this.code, message: this.message } };
    if (this.field !== undefined) body.error.field = this.field;
    return body;
  }

  static notFound(kind: 'channel' | 'program' | 'asset' | 'session' | 'webhook', id: string): OnairError {
    return new OnairError(`${kind}_not_found`, `${kind} ${JSON.stringify(id)} does not exist`);
  }

  static validation(field: string, message: string): OnairError {
    return new OnairError('validation_failed', `${field}: ${message}`, { field });
  }

  static conflict(code: ErrorCode, message: string): OnairError {
    return new OnairError(code, message);
  }
}

export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = value.error;
  return typeof error === 'object' && error !== null && 'code' in error && 'message' in error;
}
