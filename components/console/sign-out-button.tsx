'use client';
import { useState } from 'react';
import { Button } from '../ui/button.tsx';

export function SignOutButton() {
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(false);
  const onClick = async () => {
    setBusy(true);
    setFailed(false);
    try {
      const res = await fetch('/auth/session', { method: 'DELETE', credentials: 'same-origin' });
      if (!res.ok) throw new Error(String(res.status));
      window.location.assign('/console/sign-in');
    } catch {
      setFailed(true);
      setBusy(false);
    }
  };
  return (
    <div className="flex items-center gap-2">
      {failed && (
        <span role="alert" className="text-xs text-red-400">
          Sign-out failed; try again.
        </span>
      )}
      <Button size="sm" variant="ghost" busy={busy} onClick={() => void onClick()}>
        Sign out
      </Button>
    </div>
  );
}
