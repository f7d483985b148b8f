'use client';
import type { Channel } from '../../lib/schemas.ts';
import { Panel } from '../ui/card.tsx';
import { CopyField } from '../ui/copy-field.tsx';
import { absoluteUrl } from './format.ts';

export function IngestPanel({ channel }: { channel: Channel }) {
  return (
    <Panel id="ingest" title="Ingest" description="Publish to this channel over WHIP from any encoder.">
      <div className="flex flex-col gap-4">
        <CopyField
          label="WHIP URL"
          value={absoluteUrl(
            channel.urls.whip,
            typeof window === 'undefined' ? 'http://localhost' : window.location.origin,
          )}
        />
        <CopyField label="Stream key" value={channel.streamKey} secret />
        <details className="group rounded-md border border-zinc-800 bg-zinc-950/50 text-sm">
          <summary className="cursor-pointer list-none rounded-md px-3 py-2 text-zinc-300 hover:text-white focus-visible:outline-2 focus-visible:outline-sky-400">
            <span aria-hidden className="mr-1 inline-block transition-transform group-open:rotate-90">
              ▸
            </span>
            Publish from OBS Studio (30 or later)
          </summary>
          <ol className="list-decimal space-y-1 px-3 pt-1 pb-3 pl-8 text-xs text-zinc-400">
            <li>
              Open <strong className="text-zinc-200">Settings → Stream</strong>.
            </li>
            <li>
              Set <strong className="text-zinc-200">Service</strong> to{' '}
              <strong className="text-zinc-200">WHIP</strong>.
            </li>
            <li>
              <strong className="text-zinc-200">Server</strong>: the WHIP URL above.
            </li>
            <li>
              <strong className="text-zinc-200">Bearer Token</strong>: the stream key above.
            </li>
            <li>Start the channel here, then click Start Streaming in OBS.</li>
          </ol>
        </details>
      </div>
    </Panel>
  );
}
