'use client';
import { useState } from 'react';
import { ApiClient } from '../../lib/api-client.ts';
import { MAX_RUNNING_PROGRAMS, type Channel, type ProgramView } from '../../lib/schemas.ts';
import { Alert } from '../ui/alert.tsx';
import { Badge } from '../ui/badge.tsx';
import { Button, type ButtonVariant } from '../ui/button.tsx';
import { Panel } from '../ui/card.tsx';
import { allowedProgramActions, type ProgramAction } from './channel-actions.ts';
import { usePlaybackToken } from './use-playback-token.ts';
import { ClipDialog } from './clip-dialog.tsx';
import { formatBytes, formatDuration, formatTime, programDurationSeconds } from './format.ts';
import { NewProgramForm, useClock } from './new-program-form.tsx';
import { useRequest } from './use-request.ts';

const COLUMN = 'py-2 pr-3 font-medium';
/** The table's headings but the last (actions), each with its classes: some hide on small screens. */
const COLUMNS: readonly (readonly [string, string])[] = [
  ['Name', COLUMN],
  ['State', COLUMN],
  ['Started', 'hidden py-2 pr-3 font-medium md:table-cell'],
  ['Duration', COLUMN],
  ['Window', 'hidden py-2 pr-3 font-medium sm:table-cell'],
  ['Size', 'hidden py-2 pr-3 font-medium md:table-cell'],
  ['Playback', 'hidden py-2 pr-3 font-medium sm:table-cell'],
];

export function ProgramsPanel({
  channel,
  programs,
  now,
  onChanged,
}: {
  channel: Channel;
  programs: ProgramView[];
  now: number;
  onChanged: () => void;
}) {
  const [clipping, setClipping] = useState<ProgramView>();
  const [notice, setNotice] = useState<string>();
  const running = programs.filter((p) => p.state === 'running').length;
  const clock = useClock(running > 0, now);
  const { busy, error, run } = useRequest<{ id: string; action: ProgramAction }>();
  // A channel that needs a playback token gets links with the console's own token in them.
  const token = usePlaybackToken(channel);
  const t = token ? encodeURIComponent(token) : undefined;
  const signedWatch = (url: string) => (t ? `${url}?token=${t}` : url);
  const signedMedia = (url: string) => (t ? url.replace(/\/master\.m3u8$/, `/t/${t}/master.m3u8`) : url);

  const act = (p: ProgramView, action: ProgramAction) =>
    run(
      { id: p.id, action },
      async () => {
        const api = new ApiClient();
        if (action === 'delete') await api.deleteProgram(p.id);
        else await api.programAction(p.id, action);
        onChanged();
      },
      { failure: `Could not ${action} “${p.name}”.` },
    );

  return (
    <Panel
      id="programs"
      title="Programs"
      description={`A program records a stretch of the live stream (its archive window) into an asset. Up to ${MAX_RUNNING_PROGRAMS} run at once; they start only on a running channel.`}
    >
      <div className="flex flex-col gap-4">
        <NewProgramForm channelId={channel.id} onCreated={onChanged} />
        {error && <Alert tone="error">{error}</Alert>}
        {notice && <Alert tone="success">{notice}</Alert>}
        <ClipDialog
          program={clipping}
          onClose={() => setClipping(undefined)}
          onCreated={(message) => {
            setNotice(message);
            onChanged();
          }}
        />
        {programs.length === 0 ? (
          <p className="text-sm text-zinc-500">
            No programs yet. Create one above, then start it while the channel is live.
          </p>
        ) : (
          <div className="relative -mx-4 overflow-x-auto px-4">
            <table className="w-full text-left text-sm sm:min-w-[40rem]">
              <thead className="text-xs text-zinc-500">
                <tr className="border-b border-zinc-800">
                  {COLUMNS.map(([label, className]) => (
                    <th key={label} scope="col" className={className}>
                      {label}
                    </th>
                  ))}
                  <th scope="col" className="py-2 text-right font-medium">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {programs.map((p) => {
                  const allowed = allowedProgramActions(p, channel.state, running, {
                    busy: busy !== undefined,
                  });
                  const duration = programDurationSeconds(p, clock);
                  const actionButton = (
                    action: ProgramAction,
                    label: string,
                    variant: ButtonVariant,
                    title?: string,
                  ) => (
                    <Button
                      size="sm"
                      variant={variant}
                      disabled={!allowed[action]}
                      busy={busy?.id === p.id && busy.action === action}
                      aria-label={`${label} program ${p.name}`}
                      title={title}
                      onClick={() => void act(p, action)}
                    >
                      {label}
                    </Button>
                  );
                  return (
                    <tr
                      key={p.id}
                      className="border-b border-zinc-800/70 last:border-0"
                      data-testid="program-row"
                    >
                      <th scope="row" className="max-w-[14rem] py-2 pr-3 font-medium text-zinc-100">
                        <span className="block truncate">{p.name}</span>
                        <span className="block text-xs font-normal text-zinc-500 sm:hidden">
                          {p.archiveWindowMinutes} min
                          {p.startedAt && (
                            <>
                              {' · '}
                              <a
                                href={signedWatch(p.urls.watch)}
                                target="_blank"
                                rel="noopener"
                                className="text-sky-400"
                              >
                                {p.state === 'running' ? 'DVR' : 'VOD'}
                              </a>
                            </>
                          )}
                        </span>
                      </th>
                      <td className="py-2 pr-3">
                        {p.state === 'running' ? (
                          <Badge tone="red" pulse>
                            recording
                          </Badge>
                        ) : p.assetId ? (
                          <Badge tone="neutral">finished</Badge>
                        ) : (
                          <Badge tone="neutral">ready</Badge>
                        )}
                      </td>
                      <td className="hidden py-2 pr-3 text-xs text-zinc-400 md:table-cell">
                        {p.startedAt ? formatTime(p.startedAt) : '—'}
                      </td>
                      <td className="py-2 pr-3 font-mono text-xs text-zinc-300 tabular-nums">
                        {duration === null ? '—' : formatDuration(duration)}
                      </td>
                      <td className="hidden py-2 pr-3 text-xs text-zinc-400 sm:table-cell">
                        {p.archiveWindowMinutes} min
                      </td>
                      <td className="hidden py-2 pr-3 font-mono text-xs text-zinc-400 tabular-nums md:table-cell">
                        {p.startedAt ? formatBytes(p.bytes) : '—'}
                      </td>
                      <td className="hidden py-2 pr-3 text-xs sm:table-cell">
                        {p.startedAt ? (
                          <>
                            <a
                              href={signedWatch(p.urls.watch)}
                              target="_blank"
                              rel="noopener"
                              className="text-sky-400 underline-offset-2 hover:underline"
                              title={
                                p.state === 'running'
                                  ? 'Watch with DVR (seek back in the window)'
                                  : 'Watch the recording'
                              }
                            >
                              {p.state === 'running' ? 'DVR' : 'VOD'}
                            </a>
                            <span className="text-zinc-600"> · </span>
                            <a
                              href={signedMedia(p.urls.hls)}
                              target="_blank"
                              rel="noopener"
                              className="text-sky-400 underline-offset-2 hover:underline"
                            >
                              HLS
                            </a>
                          </>
                        ) : (
                          <span className="text-zinc-600">—</span>
                        )}
                      </td>
                      <td className="py-2">
                        <div className="flex flex-col items-end gap-1 sm:flex-row sm:justify-end sm:gap-2">
                          {p.state === 'running'
                            ? actionButton('stop', 'Stop', 'secondary')
                            : actionButton(
                                'start',
                                'Start',
                                'live',
                                p.assetId
                                  ? 'This program has finished; create a new one.'
                                  : channel.state !== 'running'
                                    ? 'Start the channel first.'
                                    : running >= MAX_RUNNING_PROGRAMS
                                      ? `At most ${MAX_RUNNING_PROGRAMS} programs run at once.`
                                      : undefined,
                              )}
                          {p.startedAt && (
                            <Button
                              size="sm"
                              variant="secondary"
                              aria-label={`Clip program ${p.name}`}
                              onClick={() => {
                                setNotice(undefined);
                                setClipping(p);
                              }}
                            >
                              Clip
                            </Button>
                          )}
                          {actionButton('delete', 'Delete', 'ghost')}
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </Panel>
  );
}
