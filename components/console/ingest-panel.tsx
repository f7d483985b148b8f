'use client';
import type { ReactNode } from 'react';
import type { Channel } from '../../lib/schemas.ts';
import { Panel } from '../ui/card.tsx';
import { CopyField } from '../ui/copy-field.tsx';
import { absoluteUrl } from './format.ts';

function Steps({ title, children }: { title: string; children: ReactNode }) {
  return (
    <details className="group rounded-md border border-zinc-800 bg-zinc-950/50 text-sm">
      <summary className="cursor-pointer list-none rounded-md px-3 py-2 text-zinc-300 hover:text-white focus-visible:outline-2 focus-visible:outline-sky-400">
        <span aria-hidden className="mr-1 inline-block transition-transform group-open:rotate-90">
          ▸
        </span>
        {title}
      </summary>
      <ol className="list-decimal space-y-1 px-3 pt-1 pb-3 pl-8 text-xs text-zinc-400">{children}</ol>
    </details>
  );
}

const B = ({ children }: { children: ReactNode }) => <strong className="text-zinc-200">{children}</strong>;

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="flex flex-col gap-3 border-t border-zinc-800 pt-4 first:border-0 first:pt-0">
      <h3 className="text-xs font-medium tracking-wide text-zinc-400 uppercase">{title}</h3>
      {children}
    </section>
  );
}

/** The SRT URL in the form of encoders that take the latency in milliseconds (vMix, Larix, srt-live-transmit). */
function srtMillisecondsUrl(url: string, latencyMs: number): string {
  return url.replace(/([?&])latency=\d+/, `$1latency=${latencyMs}`);
}

export function IngestPanel({ channel }: { channel: Channel }) {
  const origin = typeof window === 'undefined' ? 'http://localhost' : window.location.origin;
  const seg = channel.segmentSeconds;
  const abr = channel.mode === 'passthrough-abr';
  const { rtmp, rtmps, srt, rtmpBackup, srtBackup } = channel.urls;
  return (
    <Panel
      id="ingest"
      title="Ingest"
      description="Publish to this channel from any encoder: RTMP (OBS, vMix, Wirecast, hardware), SRT, or WHIP."
    >
      <div className="flex flex-col gap-4">
        <CopyField label="Stream key" value={channel.streamKey} secret />
        {rtmp || rtmps ? (
          <Section title="RTMP">
            {rtmp && <CopyField label="Server" value={rtmp} />}
            {rtmps && <CopyField label="Server (RTMPS, encrypted)" value={rtmps} />}
            {rtmpBackup && !abr && <CopyField label="Backup server" value={rtmpBackup} />}
            {abr ? (
              <Steps title="Send several renditions (multi-bitrate)">
                <li>
                  Send one RTMP stream per rendition to <B>{rtmp ?? rtmps}/&lt;stream key&gt;/&lt;name&gt;</B>
                  , e.g. names <B>1080p</B>, <B>720p</B>, <B>360p</B> (letters, digits, - and _).
                </li>
                <li>H.264 video in every rendition; audio in one of them (AAC).</li>
                <li>
                  Keyframes at the same instants in every rendition: one encoder, the same frame rate, a
                  keyframe interval of <B>{seg} s</B>. onair warns here when they are not aligned.
                </li>
                <li>
                  Start the channel here, then start the encoder. Every rendition that arrives is in the
                  ladder.
                </li>
              </Steps>
            ) : (
              <Steps title="Publish from OBS Studio">
                <li>
                  Open <B>Settings → Stream</B>, set <B>Service</B> to <B>Custom…</B>.
                </li>
                <li>
                  <B>Server</B>: the server above. <B>Stream Key</B>: the stream key above.
                </li>
                <li>
                  In <B>Settings → Output</B> (Advanced) set <B>Keyframe Interval</B> to <B>{seg} s</B>
                  {channel.mode === 'passthrough' ? ': segments are cut at your keyframes' : ''}.
                </li>
                <li>Start the channel here, then click Start Streaming in OBS.</li>
                {rtmpBackup && (
                  <li>
                    A second encoder (or a second output of the same one) with the <B>backup server</B> and
                    the same key is the backup input: the channel switches to it when the primary fails.
                  </li>
                )}
              </Steps>
            )}
          </Section>
        ) : null}
        {srt && !abr ? (
          <Section title="SRT">
            <CopyField label="SRT URL (OBS, FFmpeg: latency in µs)" value={srt} secret />
            <CopyField
              label="SRT URL (vMix, Larix, srt-live-transmit: latency in ms)"
              value={srtMillisecondsUrl(srt, channel.srtLatencyMs)}
              secret
            />
            {srtBackup && <CopyField label="Backup SRT URL (latency in µs)" value={srtBackup} secret />}
            <Steps title="Publish over SRT">
              <li>
                OBS: <B>Settings → Stream</B>, <B>Service</B> Custom…, <B>Server</B>: the first URL, no stream
                key. FFmpeg: <span className="font-mono">-f mpegts &quot;&lt;first URL&gt;&quot;</span>.
              </li>
              <li>
                vMix and others with separate fields: <B>Caller</B> mode, host and port{' '}
                <B>{channel.srtPort}</B>
                {channel.srtBackupPort !== null && (
                  <>
                    {' '}
                    (backup: <B>{channel.srtBackupPort}</B>)
                  </>
                )}
                , <B>passphrase</B> the stream key, <B>latency</B> {channel.srtLatencyMs} ms, AES-128.
              </li>
              <li>H.264 video (AAC or Opus audio) in MPEG-TS; one caller at a time.</li>
            </Steps>
          </Section>
        ) : null}
        {!abr && (
          <Section title="WHIP">
            <CopyField label="WHIP URL" value={absoluteUrl(channel.urls.whip, origin)} />
            <Steps title="Publish from OBS Studio 30+ over WHIP">
              <li>
                Open <B>Settings → Stream</B>, set <B>Service</B> to <B>WHIP</B>.
              </li>
              <li>
                <B>Server</B>: the WHIP URL above. <B>Bearer Token</B>: the stream key above.
              </li>
              <li>Start the channel here, then click Start Streaming in OBS.</li>
            </Steps>
          </Section>
        )}
      </div>
    </Panel>
  );
}
