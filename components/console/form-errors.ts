/** Field errors for a form, from client-side zod validation or from the API's 422 `field`. */
import type { z } from 'zod';
import { ApiError, describeError } from '../../lib/api-client.ts';

export type FieldErrors = Partial<Record<string, string>>;

/** "must not be empty" → "Must not be empty." */
function sentence(message: string): string {
  const m = message.trim();
  if (!m) return m;
  return m.charAt(0).toUpperCase() + m.slice(1) + (/[.!?]$/.test(m) ? '' : '.');
}

/** The first issue per top-level field. */
export function fieldErrorsFromZod(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? String(issue.path[0]) : 'form';
    out[key] ??= sentence(issue.message);
  }
  return out;
}

/**
 * An API error as form errors: a 422 with a `field` the form shows goes next to
 * that field (without the server's "field: " prefix); anything else is a form-level sentence.
 */
export function fieldErrorsFromApi(err: unknown, fields: readonly string[]): FieldErrors {
  if (err instanceof ApiError && err.field) {
    const key = err.field.split('.')[0] ?? err.field;
    if (fields.includes(key)) {
      const prefix = `${err.field}: `;
      const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
      return { [key]: sentence(message) };
    }
  }
  return { form: describeError(err) };
}
