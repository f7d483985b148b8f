/** What the failover switcher (failover-source.ts) says and is told: its inputs, events and options. */
import type { IngestRole } from '../../lib/schemas.ts';
import type { Logger } from '../log.ts';
import type { MediaSource, RtpCodec, SourceEvents } from '../media/source.ts';

export type InputName = IngestRole | 'slate';

export interface SwitchEvent {
  from: InputName;
  to: InputName;
  reason: string;
  /** H.264 parameter sets differ from the previous input's (passthrough needs a new run). */
  reconfigured: boolean;
  /** When the new input's first frame went out (the clock of `now`, epoch ms by default). */
  at: number;
  /**
   * Milliseconds from the last video packet on air to the new input's first frame in the
   * output: the detection time plus the wait for a keyframe (none when one was kept).
   */
  gapMs: number | null;
}

export interface FailoverEvents extends SourceEvents {
  /** The output has media again (from idle); `tracks` describe it. */
  active: [];
  /** Nothing feeds the output any more (no input, no slate). */
  idle: [reason: string];
  switched: [event: SwitchEvent];
  /** An input went live or ended. */
  input: [name: InputName, state: 'live' | 'ended', detail: string];
}

export interface SessionCodecs {
  video: RtpCodec;
  audio: RtpCodec | undefined;
}

export interface FailoverOptions {
  id: string;
  log: Logger;
  failoverAfterMs: number;
  /** No healthy input for this long: the slate. 0: no slate (the output stops). */
  slateAfterMs: number;
  failback: 'auto' | 'manual';
  /** Makes the slate input for the session's codecs. */
  createSlate?: (codecs: SessionCodecs) => MediaSource;
  now?: () => number;
  /** Health checks this often (ms). */
  tickMs?: number;
  /** A standby input is asked for a keyframe this often, so its kept packets stay few. */
  standbyKeyframeMs?: number;
}
