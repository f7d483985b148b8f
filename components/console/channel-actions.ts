/**
 * What a console user may do to a channel or a program in a given state. Pure, so
 * the buttons and the unit tests read the same rule.
 */
import type { ChannelState, Program } from '../../lib/schemas.ts';
import { MAX_RUNNING_PROGRAMS } from '../../lib/schemas.ts';

export type ChannelAction = 'start' | 'stop' | 'reset' | 'delete';

export type AllowedActions = Readonly<Record<ChannelAction, boolean>>;

const NONE: AllowedActions = { start: false, stop: false, reset: false, delete: false };

/**
 * - stopped: start, reset the stream key, delete
 * - running: stop, reset the stream key (a running channel is stopped before it can be deleted)
 * - starting / stopping: nothing until the transition ends
 * - while a request is in flight (`busy`): nothing
 */
export function allowedChannelActions(state: ChannelState, opts: { busy?: boolean } = {}): AllowedActions {
  if (opts.busy) return NONE;
  switch (state) {
    case 'stopped':
      return { start: true, stop: false, reset: true, delete: true };
    case 'running':
      return { start: false, stop: true, reset: true, delete: false };
    case 'starting':
    case 'stopping':
      return NONE;
  }
}

/** Why an action is not available, for a tooltip or a hint; undefined when it is. */
export function channelActionHint(action: ChannelAction, state: ChannelState): string | undefined {
  if (allowedChannelActions(state)[action]) return undefined;
  if (state === 'starting' || state === 'stopping') return `The channel is ${state}; wait a moment.`;
  switch (action) {
    case 'start':
      return 'The channel is already running.';
    case 'stop':
      return 'The channel is not running.';
    case 'delete':
      return 'Stop the channel before deleting it.';
    case 'reset':
      return undefined;
  }
}

export type ProgramAction = 'start' | 'stop' | 'delete';

/**
 * - a program starts once, on a running channel, while fewer than MAX_RUNNING_PROGRAMS run
 *   (a stopped program that recorded an asset is finished)
 * - a running program can be stopped, a stopped one deleted
 */
export function allowedProgramActions(
  program: Pick<Program, 'state' | 'assetId'>,
  channelState: ChannelState,
  runningPrograms: number,
  opts: { busy?: boolean } = {},
): Readonly<Record<ProgramAction, boolean>> {
  if (opts.busy) return { start: false, stop: false, delete: false };
  const running = program.state === 'running';
  return {
    start:
      !running &&
      program.assetId === null &&
      channelState === 'running' &&
      runningPrograms < MAX_RUNNING_PROGRAMS,
    stop: running,
    delete: !running,
  };
}

export type ChannelPhase =
  'stopped' | 'starting' | 'waiting-publisher' | 'waiting-segment' | 'on-air' | 'stopping';

/** Where a channel is on the way from stopped to on-air, from its state, `live` and the packager's segment count. */
export function channelPhase(
  state: ChannelState,
  live: boolean,
  segments: number | null | undefined,
): ChannelPhase {
  switch (state) {
    case 'stopped':
      return 'stopped';
    case 'starting':
      return 'starting';
    case 'stopping':
      return 'stopping';
    case 'running':
      if (!live) return 'waiting-publisher';
      return segments && segments > 0 ? 'on-air' : 'waiting-segment';
  }
}

export const PHASE_TEXT: Readonly<Record<ChannelPhase, string>> = {
  stopped: 'The channel is stopped. Start it to accept a publisher.',
  starting: 'Starting the channel…',
  'waiting-publisher':
    'The channel is running and waiting for a publisher. Go live from this browser or point OBS at the WHIP URL.',
  'waiting-segment': 'A publisher is connected. Waiting for the first segment…',
  'on-air': 'On air: viewers can watch the stream.',
  stopping: 'Stopping the channel…',
};
