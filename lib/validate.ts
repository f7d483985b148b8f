/** zod at the boundaries: the first issue becomes a 422 OnairError naming the field. */
import type { z } from 'zod';
import { OnairError } from './errors.ts';

/** Validates with zod; the first issue becomes a 422 that names the field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw zodToError(result.error);
}

export function zodToError(error: z.ZodError): OnairError {
  const issue = error.issues[0];
  if (!issue) return new OnairError('validation_failed', 'invalid request');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? 'field';
    return OnairError.validation(key, 'is not a known field');
  }
  if (issue.code === 'invalid_type' && issue.path.length === 0) {
    return new OnairError('validation_failed', 'request body must be a JSON object');
  }
  const field = issue.path.map(String).join('.') || 'body';
  return OnairError.validation(field, issue.message);
}
