'use client';
import { useState } from 'react';
import { ApiClient } from '../../lib/api-client.ts';
import type { Channel, ChannelPatch, LatencyMode, PlaybackMode, PlaybackToken } from '../../lib/schemas.ts';
import { Alert } from '../ui/alert.tsx';
import { Button, buttonClasses } from '../ui/button.tsx';
import { ChoiceFieldset, type Choice } from '../ui/choice-cards.tsx';
import { Panel } from '../ui/card.tsx';
import { CopyField } from '../ui/copy-field.tsx';
import { Field, Select } from '../ui/field.tsx';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { absoluteUrl, embedSnippets } from './format.ts';
import { SECRET_ROTATED_EVENT } from './use-playback-token.ts';
import { useRequest } from './use-request.ts';

const LIFETIMES = [
  [3600, '1 hour'],
  [24 * 3600, '1 day'],
  [7 * 24 * 3600, '7 days'],
  [30 * 24 * 3600, '30 days'],
] as const;

const PLAYBACK_CHOICES: readonly Choice<PlaybackMode>[] = [
  ['public', 'Anyone with the link', 'Watch page, HLS and DASH are public.'],
  ['token', 'Only with a signed link', 'Every playlist and segment needs a token.'],
];

const LATENCY_CHOICES: readonly Choice<LatencyMode>[] = [
  ['low', 'Low, about 2–3 s', 'LL-HLS parts and chunked DASH; other players still play.'],
  ['standard', 'Standard, about 3 segments', 'Whole segments only: the most tolerant.'],
];

function here(): string {
  return typeof window === 'undefined' ? 'http://localhost' : window.location.origin;
}

export function PlaybackPanel({ channel, onChanged }: { channel: Channel; onChanged?: () => void }) {
  const { busy, error, setError, run } = useRequest<'mode' | 'latency' | 'mint' | 'revoke'>();
  const [lifetime, setLifetime] = useState<number>(24 * 3600);
  const [signed, setSigned] = useState<PlaybackToken>();
  const [confirmRevoke, setConfirmRevoke] = useState(false);
  const base = here();
  const protectedPlayback = channel.playback === 'token';
  const link = signed?.channelId === channel.id ? signed : undefined;

  const update = (which: 'mode' | 'latency', patch: ChannelPatch, failure: string) =>
    run(
      which,
      async () => {
        await new ApiClient().updateChannel(channel.id, patch);
        onChanged?.();
      },
      { failure },
    );
  const setMode = async (playback: PlaybackMode) => {
    if (playback !== channel.playback) await update('mode', { playback }, 'Could not change who can watch.');
  };
  const setLatency = async (latency: LatencyMode) => {
    if (latency !== channel.latency) await update('latency', { latency }, 'Could not change the latency.');
  };

  const mint = () =>
    run(
      'mint',
      async () =>
        setSigned(await new ApiClient().mintPlaybackToken(channel.id, { expiresInSeconds: lifetime })),
      { failure: 'Could not create a signed link.' },
    );

  const revoke = () =>
    run(
      'revoke',
      async () => {
        await new ApiClient().rotatePlaybackSecret();
        window.dispatchEvent(new Event(SECRET_ROTATED_EVENT));
        setSigned(undefined);
        setConfirmRevoke(false);
      },
      { failure: 'Could not revoke the signed links.' },
    );

  const watchHref = protectedPlayback ? link?.urls.watch : `/watch/${encodeURIComponent(channel.id)}`;
  const snippets = embedSnippets(channel, { token: protectedPlayback ? link?.token : undefined, base });

  return (
    <Panel
      id="playback"
      title="Playback"
      description={
        protectedPlayback
          ? 'Viewers need a signed link. Each link works until it expires.'
          : 'Where viewers watch. No sign-in needed.'
      }
      actions={
        watchHref ? (
          <a
            href={absoluteUrl(watchHref, base)}
            target="_blank"
            rel="noopener"
            className={buttonClasses('secondary', 'sm')}
          >
            Open watch page <span aria-hidden>↗</span>
          </a>
        ) : undefined
      }
    >
      <div className="flex flex-col gap-4">
        <ChoiceFieldset
          legend="Who can watch"
          name={`playback-${channel.id}`}
          disabled={busy !== undefined}
          choices={PLAYBACK_CHOICES}
          value={channel.playback}
          onChange={(v) => void setMode(v)}
        />
        <ChoiceFieldset
          legend="Latency (HLS and DASH)"
          name={`latency-${channel.id}`}
          disabled={busy !== undefined}
          choices={LATENCY_CHOICES}
          value={channel.latency}
          onChange={(v) => void setLatency(v)}
        />
        {error && <Alert tone="error">{error}</Alert>}

        {protectedPlayback ? (
          <>
            <div className="flex flex-wrap items-end gap-2">
              <Field id={`lifetime-${channel.id}`} label="Link valid for" className="w-36">
                <Select
                  id={`lifetime-${channel.id}`}
                  value={lifetime}
                  onChange={(e) => setLifetime(Number(e.target.value))}
                >
                  {LIFETIMES.map(([seconds, label]) => (
                    <option key={seconds} value={seconds}>
                      {label}
                    </option>
                  ))}
                </Select>
              </Field>
              <Button variant="primary" busy={busy === 'mint'} onClick={() => void mint()}>
                {link ? 'Create another signed link' : 'Create a signed link'}
              </Button>
            </div>
            {link ? (
              <>
                <p className="text-xs text-zinc-400" data-testid="signed-expiry">
                  Signed link valid until {new Date(link.expiresAt).toLocaleString()}.
                </p>
                <CopyField label="Signed watch link" value={absoluteUrl(link.urls.watch, base)} />
                <CopyField label="Signed HLS URL" value={absoluteUrl(link.urls.hls, base)} />
                <CopyField label="Signed DASH URL" value={absoluteUrl(link.urls.dash, base)} />
                <CopyField label="Embed snippet (iframe)" value={snippets.iframe} multiline />
                <CopyField label="Embed snippet (script)" value={snippets.script} multiline />
              </>
            ) : (
              <p className="text-sm text-zinc-500">
                Create a signed link to share the watch page, the HLS and DASH URLs or an embed snippet. Links
                without a token are refused.
              </p>
            )}
            <div className="border-t border-zinc-800 pt-3">
              <Button
                size="sm"
                variant="ghost"
                onClick={() => {
                  setError(undefined);
                  setConfirmRevoke(true);
                }}
              >
                Revoke all signed links…
              </Button>
            </div>
          </>
        ) : (
          <>
            <CopyField label="Watch page" value={absoluteUrl(channel.urls.watch, base)} />
            <CopyField label="HLS URL" value={absoluteUrl(channel.urls.hls, base)} />
            <CopyField label="DASH URL" value={absoluteUrl(channel.urls.dash, base)} />
            <CopyField label="Real-time URL (WHEP)" value={absoluteUrl(channel.urls.whep, base)} />
            <CopyField label="Embed snippet (iframe)" value={snippets.iframe} multiline />
            <CopyField label="Embed snippet (script)" value={snippets.script} multiline />
          </>
        )}
      </div>
      <ConfirmDialog
        open={confirmRevoke}
        title="Revoke every signed link?"
        confirmLabel="Revoke all links"
        busy={busy === 'revoke'}
        error={confirmRevoke ? error : undefined}
        onConfirm={() => void revoke()}
        onClose={() => setConfirmRevoke(false)}
      >
        The server gets a new playback secret: every signed link of every channel stops working at once,
        including the ones viewers are watching now. The console&apos;s own previews renew themselves.
      </ConfirmDialog>
    </Panel>
  );
}
