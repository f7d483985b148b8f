'use client';
import { useEffect, useState, type FormEvent } from 'react';
import { ApiClient } from '../../lib/api-client.ts';
import { ProgramCreateSchema } from '../../lib/schemas.ts';
import { Alert } from '../ui/alert.tsx';
import { Button } from '../ui/button.tsx';
import { InputField, typedNumber } from '../ui/field.tsx';
import { useSchemaForm } from './use-request.ts';

/** The form above the programs table: a program's name and its archive window. */
export function NewProgramForm({ channelId, onCreated }: { channelId: string; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [minutes, setMinutes] = useState('60');
  const { errors, busy, submit } = useSchemaForm(ProgramCreateSchema, ['name', 'archiveWindowMinutes']);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const input = { name, archiveWindowMinutes: typedNumber(minutes) };
    return submit(input, async () => {
      await new ApiClient().createProgram(channelId, input);
      setName('');
      onCreated();
    });
  };

  return (
    <form
      onSubmit={(e) => void onSubmit(e)}
      noValidate
      className="flex flex-col gap-2"
      aria-label="New program"
    >
      <div className="grid grid-cols-1 items-start gap-3 sm:grid-cols-[1fr_10rem_auto]">
        <InputField
          id="program-name"
          label="Program name"
          error={errors.name}
          value={name}
          onValue={setName}
          placeholder="Keynote"
          maxLength={120}
        />
        <InputField
          id="program-window"
          label="Archive window (min)"
          error={errors.archiveWindowMinutes}
          type="number"
          inputMode="numeric"
          min={1}
          max={1500}
          value={minutes}
          onValue={setMinutes}
        />
        <Button type="submit" variant="primary" busy={busy} className="sm:mt-5">
          {busy ? 'Creating…' : 'Create program'}
        </Button>
      </div>
      {errors.form && <Alert tone="error">{errors.form}</Alert>}
    </form>
  );
}

/** Now, ticking every second while `running` (durations of running programs count up between polls). */
export function useClock(running: boolean, fallback: number): number {
  const [now, setNow] = useState(fallback);
  useEffect(() => {
    setNow(Date.now());
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [running, fallback]);
  return Math.max(now, fallback);
}
