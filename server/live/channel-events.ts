/** The words of a channel's events: what the hub reports when publishers, inputs and the encoder change. */
import type { ChannelEventType } from '../../lib/events.ts';
import type { ChannelMode } from '../../lib/schemas.ts';
import type { MediaSource } from '../media/source.ts';
import type { SwitchEvent } from '../source/failover-source.ts';
import type { Encoder } from '../transcode/supervisor.ts';

export type EventSink = (type: ChannelEventType, message: string) => void;

/**
 * "primary publisher connected (whip: H264 + Opus)"; a multi-bitrate source also names its
 * renditions.
 */
export function connectedMessage(
  name: string,
  over: string,
  source: MediaSource | undefined,
  withRenditions = false,
): string {
  const videos = source?.tracks.filter((t) => t.kind === 'video') ?? [];
  const audio = source?.tracks.find((t) => t.kind === 'audio');
  const sound = audio ? ` + ${audio.codec.name === 'OPUS' ? 'Opus' : audio.codec.name}` : ', no audio';
  const renditions = withRenditions ? `, renditions ${videos.map((t) => t.id).join(' ')}` : '';
  return `${name} publisher connected (${over}: ${videos[0]?.codec.name ?? 'no video'}${sound}${renditions})`;
}

/** What a switch between inputs reports; `newRun` when the encoder starts a new run for it. */
export function switchEvents(e: SwitchEvent, newRun: boolean): [ChannelEventType, string][] {
  const note = newRun ? ' (its encoder settings differ: a new encoder run, with a discontinuity)' : '';
  const gap = e.gapMs === null ? '' : `; ${(e.gapMs / 1000).toFixed(1)} s without media`;
  if (e.to === 'slate') return [['slate.on', `no input: viewers see the slate (${e.reason}${gap})${note}`]];
  if (e.from === 'slate') {
    return [
      ['slate.off', `the slate ends: ${e.to} is on air${note}`],
      ['input.restored', `${e.to} is on air again (${e.reason})`],
    ];
  }
  if (e.to === 'primary' && e.from === 'backup')
    return [['input.restored', `back to the primary (${e.reason})${note}`]];
  return [['input.failover', `${e.to} is on air instead of ${e.from} (${e.reason}${gap})${note}`]];
}

/** Reports what the encoder does as channel events. */
export function reportEncoder(encoder: Encoder, event: EventSink, mode: () => ChannelMode): void {
  encoder.on('started', (run) =>
    event('encoder.started', `encoder started (${mode()}, ${run.tracks.map((t) => t.id).join(' ')})`),
  );
  encoder.on('stopped', () => event('encoder.stopped', 'encoder stopped; waiting for a publisher'));
  encoder.on('failed', (message) => event('encoder.failed', message));
  encoder.on('restarting', (attempt, delayMs) =>
    event('encoder.restarted', `encoder restarting in ${delayMs / 1000} s (attempt ${attempt})`),
  );
}
