import type { Channel } from '../../lib/schemas.ts';
import { buttonClasses } from '../ui/button.tsx';
import { Panel } from '../ui/card.tsx';
import { CopyField } from '../ui/copy-field.tsx';
import { embedSnippets } from './format.ts';

export function PlaybackPanel({ channel }: { channel: Channel }) {
  const { iframe, script } = embedSnippets(channel);
  return (
    <Panel
      id="playback"
      title="Playback"
      description="Where viewers watch. No sign-in needed."
      actions={
        <a
          href={`/watch/${encodeURIComponent(channel.id)}`}
          target="_blank"
          rel="noopener"
          className={buttonClasses('secondary', 'sm')}
        >
          Open watch page <span aria-hidden>↗</span>
        </a>
      }
    >
      <div className="flex flex-col gap-4">
        <CopyField label="Watch page" value={channel.urls.watch} />
        <CopyField label="HLS URL" value={channel.urls.hls} />
        <CopyField label="DASH URL" value={channel.urls.dash} />
        <CopyField label="Real-time URL (WHEP)" value={channel.urls.whep} />
        <CopyField label="Embed snippet (iframe)" value={iframe} multiline />
        <CopyField label="Embed snippet (script)" value={script} multiline />
      </div>
    </Panel>
  );
}
