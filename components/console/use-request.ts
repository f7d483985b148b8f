'use client';
import { useState } from 'react';
import type { z } from 'zod';
import { describeError } from '../../lib/api-client.ts';
import { fieldErrorsFromApi, fieldErrorsFromZod, type FieldErrors } from './form-errors.ts';
import { redirectIfSignedOut } from './use-poll.ts';

/**
 * A console request started by a button: `busy` names the one running, `error` says in words why
 * the last one failed (after `failure`, when given); a lapsed session goes to sign-in instead.
 */
export function useRequest<K>() {
  const [busy, setBusy] = useState<K>();
  const [error, setError] = useState<string>();

  const run = async (
    key: K,
    work: () => Promise<void>,
    opts: { failure?: string; undo?: () => void } = {},
  ) => {
    setBusy(key);
    setError(undefined);
    try {
      await work();
    } catch (err) {
      opts.undo?.();
      if (redirectIfSignedOut(err)) return;
      setError(opts.failure ? `${opts.failure} ${describeError(err)}` : describeError(err));
    } finally {
      setBusy(undefined);
    }
  };

  return { busy, error, setError, run };
}

/**
 * A form checked by `schema` before it is sent: the first problem per field, or the API's answer
 * next to one of `fields` (else for the whole form). `keepBusy`: busy stays on after a success
 * (the page moves on) or a redirect to sign-in.
 */
export function useSchemaForm<T>(schema: z.ZodType<T>, fields: readonly string[], keepBusy = false) {
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);

  const submit = async (input: unknown, send: (data: T) => Promise<void>) => {
    const parsed = schema.safeParse(input);
    if (!parsed.success) {
      setErrors(fieldErrorsFromZod(parsed.error));
      return;
    }
    setBusy(true);
    setErrors({});
    let done = !keepBusy;
    try {
      await send(parsed.data);
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setErrors(fieldErrorsFromApi(err, fields));
      done = true;
    } finally {
      if (done) setBusy(false);
    }
  };

  return { errors, setErrors, busy, submit };
}
