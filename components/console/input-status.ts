import type { InputHealth, InputsStats } from '../../lib/stats.ts';
import type { BadgeTone } from '../ui/badge.tsx';
import { formatKbps } from './format.ts';

export type InputRole = 'primary' | 'backup';

export interface InputStatus {
  /** Short state shown in the badge. */
  label: string;
  tone: BadgeTone;
  /** One line on what the input sends, or why it is not ready. */
  detail: string;
}

/** What the console says about one input of a channel with redundant ingest. */
export function inputStatus(health: InputHealth | null, role: InputRole, onAir: boolean): InputStatus {
  if (!health || health.state === 'ended') {
    return {
      label: 'Not connected',
      tone: 'neutral',
      detail:
        role === 'backup' ? 'Publish to the backup URL to protect the event.' : 'No encoder publishing.',
    };
  }
  if (health.state === 'connecting') {
    return { label: 'Connecting', tone: 'amber', detail: 'Waiting for media…' };
  }
  const size = health.width && health.height ? ` ${health.width}×${health.height}` : '';
  const fps = health.fps ? `, ${Math.round(health.fps)} fps` : '';
  const detail = `${health.videoCodec}${size}${fps}, ${formatKbps(health.kbps)}`;
  if (onAir) return { label: 'On air', tone: 'red', detail };
  if (!health.healthy)
    return { label: 'No media', tone: 'amber', detail: 'Connected, but no media arrives.' };
  return { label: 'Standby', tone: 'emerald', detail };
}

/** The input an operator's switch would put on air, when it is ready to take over. */
export function switchTarget(inputs: InputsStats | null | undefined): InputRole | undefined {
  if (inputs?.active !== 'primary' && inputs?.active !== 'backup') return undefined;
  const other: InputRole = inputs.active === 'primary' ? 'backup' : 'primary';
  return inputs[other]?.healthy ? other : undefined;
}
