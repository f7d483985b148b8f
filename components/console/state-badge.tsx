import type { ChannelState } from '../../lib/schemas.ts';
import { Badge, type BadgeTone } from '../ui/badge.tsx';

const TONE: Record<ChannelState, BadgeTone> = {
  stopped: 'neutral',
  starting: 'amber',
  running: 'emerald',
  stopping: 'amber',
};

export function StateBadge({ state }: { state: ChannelState }) {
  return (
    <Badge tone={TONE[state]} pulse={state === 'starting' || state === 'stopping'}>
      <span className="sr-only">State: </span>
      {state}
    </Badge>
  );
}
