'use client';
import { useRouter } from 'next/navigation';
import { useState, type ReactNode } from 'react';
import { ApiClient } from '../../lib/api-client.ts';
import type { Channel } from '../../lib/schemas.ts';
import { Alert } from '../ui/alert.tsx';
import { Button } from '../ui/button.tsx';
import { allowedChannelActions, channelActionHint, type ChannelAction } from './channel-actions.ts';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { useRequest } from './use-request.ts';

const DOING: Record<ChannelAction, string> = {
  start: 'Starting…',
  stop: 'Stopping…',
  reset: 'Resetting…',
  delete: 'Deleting…',
};

export function ChannelControls({ channel, onChanged }: { channel: Channel; onChanged: () => void }) {
  const router = useRouter();
  const { busy, error, setError, run: request } = useRequest<ChannelAction>();
  const [confirm, setConfirm] = useState<'reset' | 'delete'>();
  const allowed = allowedChannelActions(channel.state, { busy: busy !== undefined });

  const run = async (action: ChannelAction) => {
    const failure =
      action === 'start'
        ? 'The channel did not start.'
        : action === 'stop'
          ? 'The channel did not stop.'
          : undefined;
    await request(
      action,
      async () => {
        const api = new ApiClient();
        if (action === 'delete') {
          await api.deleteChannel(channel.id);
          router.push('/console');
          return;
        }
        await api.channelAction(channel.id, action);
        setConfirm(undefined);
        onChanged();
      },
      failure ? { failure } : {},
    );
  };

  const button = (
    action: ChannelAction,
    label: ReactNode,
    variant: 'primary' | 'secondary' | 'danger' | 'live',
    onClick: () => void,
  ) => (
    <Button
      variant={variant}
      size="md"
      disabled={!allowed[action]}
      busy={busy === action}
      title={channelActionHint(action, channel.state)}
      onClick={onClick}
    >
      {busy === action ? DOING[action] : label}
    </Button>
  );

  return (
    <div className="flex flex-col gap-2 lg:items-end">
      <div className="flex flex-wrap gap-2" role="group" aria-label="Channel controls">
        {channel.state === 'running' || channel.state === 'stopping'
          ? button('stop', 'Stop channel', 'secondary', () => void run('stop'))
          : button('start', 'Start channel', 'live', () => void run('start'))}
        {button(
          'reset',
          <>
            <span className="sm:hidden">Reset key</span>
            <span className="hidden sm:inline">Reset stream key</span>
          </>,
          'secondary',
          () => {
            setError(undefined);
            setConfirm('reset');
          },
        )}
        {button('delete', 'Delete', 'danger', () => {
          setError(undefined);
          setConfirm('delete');
        })}
      </div>
      {error && !confirm && <Alert tone="error">{error}</Alert>}
      {channel.state !== 'stopped' && channel.state !== 'running' ? null : !allowed.delete &&
        channel.state === 'running' ? (
        <p className="text-xs text-zinc-500">Stop the channel to delete it.</p>
      ) : null}

      <ConfirmDialog
        open={confirm === 'reset'}
        title="Reset the stream key?"
        confirmLabel="Reset key"
        busy={busy === 'reset'}
        error={confirm === 'reset' ? error : undefined}
        onConfirm={() => void run('reset')}
        onClose={() => setConfirm(undefined)}
      >
        Encoders using the current key (OBS, this browser) can no longer publish until they get the new key.
        The channel&apos;s events are cleared.
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === 'delete'}
        title={`Delete “${channel.name}”?`}
        confirmLabel="Delete channel"
        busy={busy === 'delete'}
        error={confirm === 'delete' ? error : undefined}
        onConfirm={() => void run('delete')}
        onClose={() => setConfirm(undefined)}
      >
        The channel, its programs and its stream key are removed for good. Recorded assets stay in the
        library.
      </ConfirmDialog>
    </div>
  );
}
