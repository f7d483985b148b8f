'use client';
import { useState, type FormEvent } from 'react';
import { Alert } from '../ui/alert.tsx';
import { Button } from '../ui/button.tsx';
import { Field, fieldAria, Input } from '../ui/field.tsx';

/** Exchanges the admin token for a session cookie at POST /auth/session. */
async function signIn(token: string): Promise<string | undefined> {
  let res: Response;
  try {
    res = await fetch('/auth/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token }),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    return 'The onair server cannot be reached. Check that it is running and that you are online, then try again.';
  }
  if (res.ok) return undefined;
  switch (res.status) {
    case 401:
      return 'That admin token is not right. Copy it again from the server’s first-start output (or its ONAIR_ADMIN_TOKEN setting) and try again.';
    case 429:
      return 'Too many sign-in attempts. Wait a minute, then try again.';
    case 400:
    case 422:
      return 'Enter the admin token.';
    default:
      return `The server could not sign you in (it answered ${res.status}). Try again in a moment.`;
  }
}

export function SignInForm({ next }: { next: string }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (!token.trim()) {
      setError('Enter the admin token.');
      return;
    }
    setBusy(true);
    setError(undefined);
    const failure = await signIn(token.trim());
    if (failure) {
      setError(failure);
      setBusy(false);
      return;
    }
    // A full navigation: the server checks the new cookie on the way in.
    window.location.assign(next);
  };

  return (
    <form onSubmit={(e) => void onSubmit(e)} className="flex flex-col gap-4" noValidate>
      <Field
        id="admin-token"
        label="Admin token"
        hint="Printed by the server on its first start, or set with ONAIR_ADMIN_TOKEN."
        error={undefined}
      >
        <Input
          {...fieldAria('admin-token', error, true)}
          name="token"
          type="password"
          autoComplete="current-password"
          autoFocus
          value={token}
          onChange={(e) => setToken(e.target.value)}
          placeholder="onair admin token"
        />
      </Field>
      {error && <Alert tone="error">{error}</Alert>}
      <Button type="submit" variant="primary" busy={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </Button>
    </form>
  );
}
