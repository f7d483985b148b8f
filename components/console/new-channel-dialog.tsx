'use client';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { ApiClient } from '../../lib/api-client.ts';
import { LADDER_NAMES, LADDERS, DEFAULT_LADDER, type LadderName } from '../../lib/ladders.ts';
import { ChannelCreateSchema, DEFAULT_SRT_LATENCY_MS, type ChannelMode } from '../../lib/schemas.ts';
import { Alert } from '../ui/alert.tsx';
import { Button } from '../ui/button.tsx';
import { ChoiceCards } from '../ui/choice-cards.tsx';
import { Dialog } from '../ui/dialog.tsx';
import {
  Field,
  fieldAria,
  InputField,
  NumberFields,
  Select,
  typedNumber,
  type NumberFieldSpec,
} from '../ui/field.tsx';
import { useSchemaForm } from './use-request.ts';

const FIELDS = ['name', 'description', 'mode', 'ladder', 'segmentSeconds', 'srtLatencyMs'] as const;
const NUMBER_FIELDS: readonly NumberFieldSpec<'segmentSeconds' | 'srtLatencyMs'>[] = [
  ['channel-segment', 'segmentSeconds', 'Segment length (s)', '1–10 seconds', [1, 10, 1]],
  ['channel-srt-latency', 'srtLatencyMs', 'SRT latency (ms)', '20–8000; more on lossy links', [20, 8000, 10]],
];

function ladderLabel(name: LadderName): string {
  const l = LADDERS[name];
  return `${name} — ${l.renditions.map((r) => r.name).join(' / ')}`;
}

export function NewChannelDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated?: () => void;
}) {
  const router = useRouter();
  const [name, setName] = useState('');
  const [mode, setMode] = useState<ChannelMode>('encode');
  const [ladder, setLadder] = useState<LadderName>(DEFAULT_LADDER);
  const [numbers, setNumbers] = useState({
    segmentSeconds: '2',
    srtLatencyMs: String(DEFAULT_SRT_LATENCY_MS),
  });
  const { errors, setErrors, busy, submit } = useSchemaForm(ChannelCreateSchema, FIELDS, true);

  const close = () => {
    if (busy) return;
    setErrors({});
    onClose();
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const input = {
      name,
      mode,
      ladder,
      segmentSeconds: typedNumber(numbers.segmentSeconds),
      srtLatencyMs: typedNumber(numbers.srtLatencyMs),
    };
    return submit(input, async () => {
      const channel = await new ApiClient().createChannel(input);
      onCreated?.();
      router.push(`/console/channels/${encodeURIComponent(channel.id)}`);
    });
  };

  return (
    <Dialog
      open={open}
      onClose={close}
      title="New channel"
      description="A channel takes one live publisher and turns it into HLS and DASH."
    >
      <form onSubmit={(e) => void onSubmit(e)} noValidate className="flex flex-col gap-4">
        <InputField
          id="channel-name"
          label="Name"
          error={errors.name}
          value={name}
          onValue={setName}
          placeholder="Sunday service"
          maxLength={120}
          autoFocus
        />
        <fieldset
          className="flex flex-col gap-1"
          aria-describedby={errors.mode ? 'channel-mode-error' : 'channel-mode-hint'}
        >
          <legend className="mb-1 text-xs font-medium text-zinc-300">Mode</legend>
          <ChoiceCards
            name="mode"
            columns={3}
            choices={[
              ['encode', 'Encode', 'Adaptive bitrate ladder'],
              ['passthrough', 'Passthrough', 'Publisher’s stream as is'],
              ['passthrough-abr', 'Multi-bitrate', 'Encoder’s renditions as is (RTMP)'],
            ]}
            value={mode}
            onChange={setMode}
          />
          {errors.mode ? (
            <p id="channel-mode-error" className="text-xs text-red-400">
              {errors.mode}
            </p>
          ) : (
            <span id="channel-mode-hint" className="sr-only">
              Encode makes several qualities; passthrough forwards the publisher’s stream without re-encoding;
              multi-bitrate packages the renditions an encoder sends over RTMP as the ladder.
            </span>
          )}
        </fieldset>
        <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
          <Field
            className="sm:col-span-2"
            id="channel-ladder"
            label="Ladder preset"
            error={errors.ladder}
            hint={mode !== 'encode' ? 'Not used in passthrough modes.' : undefined}
          >
            <Select
              {...fieldAria('channel-ladder', errors.ladder, mode !== 'encode')}
              value={ladder}
              onChange={(e) => setLadder(e.target.value as LadderName)}
            >
              {LADDER_NAMES.map((l) => (
                <option key={l} value={l}>
                  {ladderLabel(l)}
                </option>
              ))}
            </Select>
          </Field>
          <NumberFields
            fields={NUMBER_FIELDS}
            values={numbers}
            errors={errors}
            onValue={(key, value) => setNumbers((n) => ({ ...n, [key]: value }))}
          />
        </div>
        {errors.form && <Alert tone="error">{errors.form}</Alert>}
        {Object.keys(errors).some((k) => !FIELDS.includes(k as (typeof FIELDS)[number]) && k !== 'form') && (
          <Alert tone="error">
            {
              Object.entries(errors).find(
                ([k]) => !FIELDS.includes(k as (typeof FIELDS)[number]) && k !== 'form',
              )?.[1]
            }
          </Alert>
        )}
        <div className="flex justify-end gap-2 pt-1">
          <Button variant="ghost" onClick={close} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={busy}>
            {busy ? 'Creating…' : 'Create channel'}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
