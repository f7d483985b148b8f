/**
 * A channel's input side: the failover switcher over its primary, backup and slate inputs (with
 * what it reports as channel events), and how the encoder is fed from a source through the router.
 */
import { LADDERS } from '../../lib/ladders.ts';
import type { ChannelConfig } from '../core/runtime.ts';
import type { Logger } from '../log.ts';
import { describeSource, type MediaSource } from '../media/source.ts';
import type { ChannelRouter } from '../sfu/engine.ts';
import {
  FailoverSource,
  type InputName,
  type SessionCodecs,
  type SwitchEvent,
} from '../source/failover-source.ts';
import type { EncoderInput, EncoderSettings } from '../transcode/supervisor.ts';
import { connectedMessage, switchEvents, type EventSink } from './channel-events.ts';

/** Encode mode: a keyframe now and then bounds how long a lost packet spoils the picture. */
const ENCODE_KEYFRAME_INTERVAL_MS = 10_000;

/** What the encoder runs on: the source's description, linked to FFmpeg by the router's plain RTP. */
export function encoderInput(router: ChannelRouter, source: MediaSource, c: ChannelConfig): EncoderInput {
  return {
    description: describeSource(source),
    connect: (endpoint) =>
      router.createPlainTransport({
        source,
        targets: endpoint.tracks.map((t) => ({ ...t, host: endpoint.host })),
        // Passthrough cuts segments where the publisher's keyframes are.
        keyframeIntervalMs: c.mode !== 'encode' ? c.segmentSeconds * 1000 : ENCODE_KEYFRAME_INTERVAL_MS,
      }),
  };
}

export function encoderSettings(c: ChannelConfig): EncoderSettings {
  return { ladder: LADDERS[c.ladder], mode: c.mode, segmentSeconds: c.segmentSeconds };
}

export interface InputSwitchOptions {
  channelId: string;
  config: ChannelConfig;
  log: Logger;
  event: EventSink;
  createSlate?: (codecs: SessionCodecs) => MediaSource;
  /** An input (not the slate) went away. */
  inputDown(name: Exclude<InputName, 'slate'>): void;
  /** Some input is on air: run the encoder and let viewers follow. */
  active(sw: FailoverSource): void;
  /** No input at all. */
  idle(): void;
  /** The switcher changed inputs; `newRun` when the encoder needs a new run for it. */
  switched(sw: FailoverSource, newRun: boolean): void;
}

/** The switcher over the inputs, its changes reported as channel events. */
export function inputSwitch(o: InputSwitchOptions): FailoverSource {
  const c = o.config;
  const sw = new FailoverSource({
    id: `${o.channelId}-input`,
    log: o.log,
    failoverAfterMs: c.failoverAfterMs,
    slateAfterMs: c.slateAfterMs,
    failback: c.failback,
    ...(o.createSlate ? { createSlate: o.createSlate } : {}),
  });
  sw.on('input', (name, state, detail) => {
    if (state === 'live') {
      o.event('publisher.connected', connectedMessage(name, detail, sw.input(name)));
    } else {
      o.event('publisher.disconnected', `${name} publisher disconnected: ${detail}`);
      if (name !== 'slate') o.inputDown(name);
    }
  });
  sw.on('active', () => o.active(sw));
  sw.on('idle', () => o.idle());
  sw.on('switched', (e: SwitchEvent) => {
    // Passthrough copies the publisher's H.264: other parameter sets need a new run (a discontinuity).
    const newRun = e.reconfigured && c.mode === 'passthrough';
    for (const [type, message] of switchEvents(e, newRun)) o.event(type, message);
    o.switched(sw, newRun);
  });
  return sw;
}
