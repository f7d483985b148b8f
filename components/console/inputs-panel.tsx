'use client';
import { useEffect, useState, type FormEvent } from 'react';
import { ApiClient } from '../../lib/api-client.ts';
import { ChannelPatchSchema, FAILBACK_MODES, type Channel, type FailbackMode } from '../../lib/schemas.ts';
import type { InputHealth, InputsStats } from '../../lib/stats.ts';
import { Alert } from '../ui/alert.tsx';
import { Badge } from '../ui/badge.tsx';
import { Button } from '../ui/button.tsx';
import { Panel } from '../ui/card.tsx';
import { CopyField } from '../ui/copy-field.tsx';
import { cx } from '../ui/cx.ts';
import { Field, NumberFields, Select, fieldAria, typedNumber, type NumberFieldSpec } from '../ui/field.tsx';
import { absoluteUrl, formatTime } from './format.ts';
import { inputStatus, switchTarget, type InputRole } from './input-status.ts';
import { useRequest, useSchemaForm } from './use-request.ts';

const FAILBACK_LABELS: Record<FailbackMode, string> = {
  manual: 'Manual (stay on the backup)',
  auto: 'Automatic (back to the primary)',
};
const SETTINGS = ['failoverAfterMs', 'slateAfterMs', 'failback'] as const;
const MS_FIELDS: readonly NumberFieldSpec<'failoverAfterMs' | 'slateAfterMs'>[] = [
  ['failover-after', 'failoverAfterMs', 'Fail over after (ms without media)', '250 to 10000'],
  ['slate-after', 'slateAfterMs', 'Slate after (ms with no input)', '0 turns the slate off'],
];

/**
 * Redundant ingest: the backup ingest point, both inputs' health side by side with the one on
 * air, the operator's switch, the failover settings and the slate picture.
 */
export function InputsPanel({
  channel,
  inputs,
  onChanged,
}: {
  channel: Channel;
  inputs: InputsStats | null | undefined;
  onChanged?: () => void;
}) {
  const { busy: switching, error, run } = useRequest<'switch'>();
  const running = channel.state === 'running';
  const target = running ? switchTarget(inputs) : undefined;
  const active = running ? inputs?.active : undefined;

  const switchInput = async () => {
    if (!target) return;
    await run(
      'switch',
      async () => {
        await new ApiClient().switchInput(channel.id, target);
        onChanged?.();
      },
      { failure: 'Could not switch inputs.' },
    );
  };

  return (
    <Panel
      id="inputs"
      title="Redundant inputs"
      description="Publish the same event to both ingest points; the output follows one and fails over to the other."
      actions={
        running && (inputs?.active === 'primary' || inputs?.active === 'backup') ? (
          <Button
            size="sm"
            onClick={() => void switchInput()}
            busy={switching === 'switch'}
            disabled={!target}
            title={target ? undefined : 'The other input is not connected or sends no media'}
          >
            Switch to {inputs.active === 'primary' ? 'backup' : 'primary'}
          </Button>
        ) : undefined
      }
    >
      <div className="flex flex-col gap-4">
        <CopyField
          label="Backup WHIP URL (same stream key)"
          value={absoluteUrl(
            channel.urls.whipBackup,
            typeof window === 'undefined' ? 'http://localhost' : window.location.origin,
          )}
        />
        {active === 'slate' && (
          <Alert tone="warning">
            No input is healthy: viewers see the slate. Output returns to live at the first keyframe of either
            input.
          </Alert>
        )}
        {error && <Alert tone="error">{error}</Alert>}
        <div className="grid grid-cols-1 gap-3 sm:grid-cols-2" aria-label="Input health">
          <InputCard role="primary" health={running ? (inputs?.primary ?? null) : null} active={active} />
          <InputCard role="backup" health={running ? (inputs?.backup ?? null) : null} active={active} />
        </div>
        {running && inputs && (
          <p className="text-xs text-zinc-500">
            {inputs.switches === 1 ? '1 switch' : `${inputs.switches} switches`} · {inputs.slateSeconds} s on
            the slate since the channel started
          </p>
        )}
        <FailoverSettings channel={channel} onChanged={onChanged} />
        <SlatePicture channel={channel} />
      </div>
    </Panel>
  );
}

function InputCard({
  role,
  health,
  active,
}: {
  role: InputRole;
  health: InputHealth | null;
  active: InputsStats['active'] | undefined;
}) {
  const onAir = active === role;
  const status = inputStatus(health, role, onAir);
  const title = role === 'primary' ? 'Primary' : 'Backup';
  return (
    <section
      aria-label={`${title} input`}
      data-testid={`input-${role}`}
      className={cx(
        'min-w-0 rounded-md border bg-zinc-950/50 p-3',
        onAir ? 'border-red-700/80' : 'border-zinc-800',
      )}
    >
      <div className="flex items-center justify-between gap-2">
        <h3 className="text-sm font-medium text-zinc-100">{title}</h3>
        <Badge tone={status.tone} pulse={onAir}>
          {status.label}
        </Badge>
      </div>
      <p className="mt-2 text-xs break-words text-zinc-300">{status.detail}</p>
      {health && health.state !== 'ended' && (
        <p className="mt-1 text-xs text-zinc-500">
          {health.source} · {health.packetsLost} lost
          {health.connectedSince ? ` · since ${formatTime(health.connectedSince)}` : ''}
        </p>
      )}
    </section>
  );
}

function FailoverSettings({
  channel,
  onChanged,
}: {
  channel: Channel;
  onChanged?: (() => void) | undefined;
}) {
  const [ms, setMs] = useState({
    failoverAfterMs: String(channel.failoverAfterMs),
    slateAfterMs: String(channel.slateAfterMs),
  });
  const [failback, setFailback] = useState<FailbackMode>(channel.failback);
  const { errors, busy, submit } = useSchemaForm(ChannelPatchSchema, SETTINGS);
  const [saved, setSaved] = useState(false);

  // Follow changes made elsewhere (another console, the API) while the form is untouched.
  useEffect(() => {
    setMs({ failoverAfterMs: String(channel.failoverAfterMs), slateAfterMs: String(channel.slateAfterMs) });
    setFailback(channel.failback);
  }, [channel.failoverAfterMs, channel.slateAfterMs, channel.failback]);

  const dirty =
    ms.failoverAfterMs !== String(channel.failoverAfterMs) ||
    ms.slateAfterMs !== String(channel.slateAfterMs) ||
    failback !== channel.failback;

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    const input = {
      failoverAfterMs: typedNumber(ms.failoverAfterMs),
      slateAfterMs: typedNumber(ms.slateAfterMs),
      failback,
    };
    return submit(input, async (patch) => {
      await new ApiClient().updateChannel(channel.id, patch);
      setSaved(true);
      onChanged?.();
    });
  };

  return (
    <form
      onSubmit={(e) => void onSubmit(e)}
      noValidate
      aria-label="Failover settings"
      className="flex flex-col gap-3 border-t border-zinc-800 pt-4"
    >
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
        <NumberFields
          fields={MS_FIELDS}
          values={ms}
          errors={errors}
          onValue={(key, value) => setMs((m) => ({ ...m, [key]: value }))}
        />
      </div>
      <Field
        id="failback"
        label="Failback to the primary"
        hint={
          failback === 'manual'
            ? 'The backup stays on air until it fails or you switch: no flapping.'
            : 'Back to the primary once it has sent media for a second.'
        }
        error={errors.failback}
      >
        <Select
          {...fieldAria('failback', errors.failback, true)}
          value={failback}
          onChange={(e) => setFailback(e.target.value as FailbackMode)}
        >
          {FAILBACK_MODES.map((m) => (
            <option key={m} value={m}>
              {FAILBACK_LABELS[m]}
            </option>
          ))}
        </Select>
      </Field>
      {errors.form && <Alert tone="error">{errors.form}</Alert>}
      <div className="flex items-center gap-3">
        <Button type="submit" size="sm" busy={busy} disabled={!dirty}>
          Save failover settings
        </Button>
        {saved && !dirty && (
          <span role="status" className="text-xs text-emerald-400">
            Saved; applies at once.
          </span>
        )}
      </div>
    </form>
  );
}

function SlatePicture({ channel }: { channel: Channel }) {
  const [version, setVersion] = useState(0);
  const { busy, error, setError, run } = useRequest<'upload' | 'reset'>();
  const src = `/api/v1/channels/${encodeURIComponent(channel.id)}/slate?v=${version}`;

  const change = async (file: File | null, kind: 'upload' | 'reset') => {
    setError(undefined);
    if (file && file.type !== 'image/png' && file.type !== 'image/jpeg') {
      setError('Choose a PNG or JPEG picture.');
      return;
    }
    if (file && file.size > 2 * 1024 * 1024) {
      setError('The picture is larger than 2 MiB.');
      return;
    }
    await run(
      kind,
      async () => {
        await new ApiClient().setSlate(channel.id, file);
        setVersion((v) => v + 1);
      },
      { failure: 'Could not change the slate.' },
    );
  };

  return (
    <div className="flex flex-col gap-2 border-t border-zinc-800 pt-4">
      <h3 className="text-xs font-medium text-zinc-300">Slate</h3>
      <div className="flex flex-col gap-3 sm:flex-row sm:items-start">
        <img
          src={src}
          alt="The slate viewers see when no input is healthy"
          className="aspect-video w-full rounded border border-zinc-800 bg-zinc-950 object-contain sm:w-40"
        />
        <div className="flex min-w-0 flex-col gap-2 text-xs text-zinc-400">
          <p>
            Shown with silence at the ladder&apos;s sizes while every input is gone. PNG or JPEG, up to 2 MiB.
          </p>
          <div className="flex flex-wrap gap-2">
            <label
              className={cx(
                'inline-flex h-8 cursor-pointer items-center rounded-md border border-zinc-700 bg-zinc-900 px-3 text-xs font-medium text-zinc-100 hover:border-zinc-500 hover:bg-zinc-800 focus-within:outline-2 focus-within:outline-sky-400',
                busy && 'pointer-events-none opacity-60',
              )}
            >
              {busy === 'upload' ? 'Uploading…' : 'Upload a picture'}
              <input
                type="file"
                accept="image/png,image/jpeg"
                className="sr-only"
                onChange={(e) => {
                  const file = e.target.files?.[0] ?? null;
                  e.target.value = '';
                  if (file) void change(file, 'upload');
                }}
              />
            </label>
            <Button
              size="sm"
              variant="ghost"
              busy={busy === 'reset'}
              onClick={() => void change(null, 'reset')}
            >
              Use the default
            </Button>
          </div>
        </div>
      </div>
      {error && <Alert tone="error">{error}</Alert>}
    </div>
  );
}
