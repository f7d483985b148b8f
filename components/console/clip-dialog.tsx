'use client';
/**
 * Clips of a program: a DVR player to mark in and out on (program time from
 * the stream's date-times), or simply "the last N minutes".
 */
import { Fragment, useRef, useState, type FormEvent } from 'react';
import { ApiClient } from '../../lib/api-client.ts';
import type { ProgramView } from '../../lib/schemas.ts';
import { LivePlayer, type PlayerApi } from '../player/live-player.tsx';
import { Alert } from '../ui/alert.tsx';
import { Button } from '../ui/button.tsx';
import { Dialog } from '../ui/dialog.tsx';
import { Field, Input } from '../ui/field.tsx';
import { useRequest } from './use-request.ts';

function clock(ms: number | undefined): string {
  return ms === undefined ? '—' : new Date(ms).toLocaleTimeString(undefined, { hour12: false });
}

export function ClipDialog({
  program,
  onClose,
  onCreated,
}: {
  program: ProgramView | undefined;
  onClose: () => void;
  onCreated: (message: string) => void;
}) {
  const player = useRef<PlayerApi | undefined>(undefined);
  const [markIn, setMarkIn] = useState<number>();
  const [markOut, setMarkOut] = useState<number>();
  const [name, setName] = useState('');
  const [minutes, setMinutes] = useState('1');
  const { busy: request, error, setError, run } = useRequest<'clip'>();
  const busy = request === 'clip';

  const close = () => {
    setMarkIn(undefined);
    setMarkOut(undefined);
    setName('');
    setError(undefined);
    onClose();
  };

  const create = async (input: Parameters<ApiClient['createClip']>[1]) => {
    if (!program) return;
    await run('clip', async () => {
      const clip = await new ApiClient().createClip(program.id, input);
      onCreated(`Clip “${clip.name}” (${clip.durationSeconds.toFixed(1)} s) is in Assets.`);
      close();
    });
  };

  const mark = (which: 'in' | 'out') => {
    const t = player.current?.programTime();
    if (t === undefined) {
      setError('The player has no program time yet; wait until it plays.');
      return;
    }
    setError(undefined);
    if (which === 'in') setMarkIn(t);
    else setMarkOut(t);
  };

  const clipName = name.trim() || `${program?.name ?? 'Clip'} highlight`;
  const submitMarks = (e: FormEvent) => {
    e.preventDefault();
    if (markIn === undefined || markOut === undefined || markOut <= markIn) {
      setError('Mark in, then mark out later in the stream.');
      return;
    }
    void create({
      name: clipName,
      start: new Date(markIn).toISOString(),
      end: new Date(markOut).toISOString(),
    });
  };
  const submitLast = (e: FormEvent) => {
    e.preventDefault();
    const n = Number(minutes);
    if (!Number.isFinite(n) || n <= 0) {
      setError('Enter a number of minutes.');
      return;
    }
    void create({ name: clipName, startOffsetSeconds: Math.round(n * 60) });
  };

  return (
    <Dialog
      open={program !== undefined}
      onClose={close}
      title={`Clip “${program?.name ?? ''}”`}
      description="A clip takes whole segments of the recording: it starts and ends on segment boundaries."
      className="max-w-3xl"
    >
      {program && (
        <div className="flex flex-col gap-4">
          <LivePlayer
            channelId={program.channelId}
            media={{ kind: 'program', id: program.id }}
            apiRef={player}
            autoplay
            muted
            controls
          />
          {error && <Alert tone="error">{error}</Alert>}
          <Field id="clip-name" label="Clip name">
            <Input
              id="clip-name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder={clipName}
              maxLength={100}
            />
          </Field>
          <form
            onSubmit={submitMarks}
            className="flex flex-wrap items-center gap-2"
            aria-label="Clip between marks"
          >
            {(['in', 'out'] as const).map((which) => (
              <Fragment key={which}>
                <Button type="button" size="sm" onClick={() => mark(which)}>
                  {`Mark ${which}`}
                </Button>
                <span className="font-mono text-xs text-zinc-300 tabular-nums" data-testid={`mark-${which}`}>
                  {clock(which === 'in' ? markIn : markOut)}
                </span>
              </Fragment>
            ))}
            <span className="grow" />
            <Button
              type="submit"
              variant="primary"
              size="sm"
              busy={busy}
              disabled={markIn === undefined || markOut === undefined}
            >
              Clip between marks
            </Button>
          </form>
          <form
            noValidate
            onSubmit={submitLast}
            className="flex flex-wrap items-end gap-2 border-t border-zinc-800 pt-4"
            aria-label="Clip the last minutes"
          >
            <Field id="clip-minutes" label="Last minutes">
              <Input
                id="clip-minutes"
                type="number"
                inputMode="decimal"
                min={0.1}
                step="any"
                value={minutes}
                onChange={(e) => setMinutes(e.target.value)}
                className="w-28"
              />
            </Field>
            <Button type="submit" size="sm" busy={busy}>
              Clip the last {minutes || '…'} min
            </Button>
          </form>
        </div>
      )}
    </Dialog>
  );
}
