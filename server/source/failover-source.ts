/**
 * Redundant ingest: the channel's source is a switcher over a primary and a
 * backup input (any MediaSource: WHIP, RTMP, SRT) and, when every input is
 * gone, a slate. The output follows one active input and is one continuous RTP
 * stream per track (one SSRC, no gap in sequence numbers, timestamps that only
 * move forward), so the encoder and WebRTC viewers never notice a switch.
 *
 * - An input fails when it ends or sends no video for `failoverAfterMs`; the
 *   output then moves to the other input at a keyframe. Each standby input's
 *   packets since its last keyframe are kept (and it is asked for a keyframe
 *   every few seconds so that stays short), so the switch needs no wait.
 * - With no healthy input for `slateAfterMs`, the slate input takes over; it is
 *   started as soon as the last input fails, so it is ready in time.
 * - `failback: 'auto'` returns to the primary once it is healthy again; `manual`
 *   stays on the backup until it fails or `switchTo()` is called.
 *
 * A and V stay in sync across a switch: both tracks of the new input are placed
 * on the output's timeline from the arrival time of its keyframe.
 */
import { OnairError } from '../../lib/errors.ts';
import type { IngestRole } from '../../lib/schemas.ts';
import type {
  MediaKind,
  MediaSource,
  RtpListener,
  SourceState,
  SourceStats,
  SourceTrack,
} from '../media/source.ts';
import { TypedEmitter } from '../media/typed-emitter.ts';
import { keep, newInput, noteVideo, takeKept, type Input } from './failover-input.ts';
import { FailoverOutput } from './failover-output.ts';
import type {
  FailoverEvents,
  FailoverOptions,
  InputName,
  SessionCodecs,
  SwitchEvent,
} from './failover-types.ts';

export type * from './failover-types.ts';

/** A primary must stay healthy this long before an automatic failback. */
const FAILBACK_STABLE_MS = 1000;
/** The slate goes once a live input has been on air this long. */
const SLATE_LINGER_MS = 10_000;

export class FailoverSource implements MediaSource {
  readonly id: string;
  readonly kind = 'failover' as const;
  readonly engine = 'onair';
  state: SourceState = 'connecting';
  liveSince: number | undefined;

  #opts: FailoverOptions;
  readonly #now: () => number;
  readonly #events: TypedEmitter<FailoverEvents>;
  readonly #inputs = new Map<InputName, Input>();
  readonly #output: FailoverOutput;
  readonly #timer: NodeJS.Timeout;
  #active: InputName | undefined;
  /** The input whose media is on air (a new publisher in the same role is another input). */
  #onAir: Input | undefined;
  #activeSince = 0;
  #pending: { name: InputName; reason: string } | undefined;
  /** When the on-air input stopped sending: its last video packet (the slate counts from there). */
  #failingSince: number | undefined;
  /** Arrival of the last video packet from the input on air. */
  #onAirVideoAt: number | undefined;
  /** The H.264 SPS (hex) of the input on air, which outlives that input's session. */
  #onAirSps: string | undefined;
  #switches = 0;
  #lastSwitch: SwitchEvent | undefined;
  #slateSince: number | undefined;
  #slateMs = 0;
  #closed = false;

  constructor(opts: FailoverOptions) {
    this.id = opts.id;
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#events = new TypedEmitter((err) => opts.log.error({ err }, 'failover listener failed'));
    this.#output = new FailoverOutput(opts.log);
    this.#timer = setInterval(() => this.tick(), opts.tickMs ?? 100);
    this.#timer.unref();
  }

  // ── MediaSource ───────────────────────────────────────────────────────
  get tracks(): readonly SourceTrack[] {
    return this.#output.tracks;
  }

  subscribe(trackId: string, listener: RtpListener): () => void {
    return this.#output.subscribe(trackId, listener);
  }

  requestKeyframe(): void {
    if (this.#active) this.#inputs.get(this.#active)?.source.requestKeyframe();
    if (this.#pending) this.#inputs.get(this.#pending.name)?.source.requestKeyframe();
  }

  stats(): SourceStats {
    const input = this.#active ? this.#inputs.get(this.#active) : undefined;
    return input?.source.stats() ?? { tracks: [], width: undefined, height: undefined, fps: undefined };
  }

  on<E extends keyof FailoverEvents>(event: E, listener: (...args: FailoverEvents[E]) => void): void {
    this.#events.on(event, listener);
  }

  off<E extends keyof FailoverEvents>(event: E, listener: (...args: FailoverEvents[E]) => void): void {
    this.#events.off(event, listener);
  }

  // ── inputs ────────────────────────────────────────────────────────────
  /** The codecs the output carries while it is active (every input must send the same). */
  get session(): SessionCodecs | undefined {
    return this.#output.session;
  }

  get active(): InputName | undefined {
    return this.#active;
  }

  get switches(): number {
    return this.#switches;
  }

  /** Milliseconds the output has spent on the slate. */
  /** The most recent switch between inputs (or to and from the slate). */
  get lastSwitch(): SwitchEvent | undefined {
    return this.#lastSwitch;
  }

  get slateMs(): number {
    return this.#slateMs + (this.#slateSince !== undefined ? this.#now() - this.#slateSince : 0);
  }

  input(name: InputName): MediaSource | undefined {
    return this.#inputs.get(name)?.source;
  }

  /**
   * Whether an input could go on air: live and sending video. (It goes on air
   * at once from a kept keyframe, or at its next one.)
   */
  healthy(name: InputName, now = this.#now()): boolean {
    const i = this.#inputs.get(name);
    if (!i || i.source.state !== 'live' || i.lastVideoAt === undefined) return false;
    return now - i.lastVideoAt < this.#opts.failoverAfterMs;
  }

  /**
   * An input that was live and has stopped sending (a crashed encoder whose
   * session has not timed out yet): a new publisher in its role replaces it.
   */
  stale(name: InputName, now = this.#now()): boolean {
    const i = this.#inputs.get(name);
    return !!i && i.source.state === 'live' && i.lastVideoAt !== undefined && !this.healthy(name, now);
  }

  /** Whether a new publisher may take `name`: the role is free, or its input is stale. */
  available(name: IngestRole): boolean {
    const existing = this.#inputs.get(name);
    return !existing || existing.source.state === 'ended' || this.stale(name);
  }

  /** Takes a source as the primary or backup input: the role must be free, or its input stale. */
  setInput(name: IngestRole, source: MediaSource): void {
    if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
    if (!this.available(name)) {
      throw new OnairError(
        'publisher_exists',
        `channel already has a live ${name} publisher; end that session first`,
      );
    }
    const existing = this.#inputs.get(name);
    if (existing && existing.source.state !== 'ended') {
      this.#inputs.delete(name);
      for (const u of existing.unsubscribe) u();
      existing.source.close(`replaced by a new ${name} publisher`);
    }
    this.#add(name, source);
  }

  #add(name: InputName, source: MediaSource): void {
    const input = newInput(name, source);
    this.#inputs.set(name, input);
    const onLive = () => {
      input.video = source.tracks.find((t) => t.kind === 'video');
      input.audio = source.tracks.find((t) => t.kind === 'audio');
      if (input.video)
        input.unsubscribe.push(source.subscribe(input.video.id, (p) => this.#onPacket(input, 'video', p)));
      if (input.audio)
        input.unsubscribe.push(source.subscribe(input.audio.id, (p) => this.#onPacket(input, 'audio', p)));
      source.requestKeyframe();
      if (name !== 'slate') this.#events.emit('input', name, 'live', source.kind);
    };
    source.on('live', onLive);
    source.on('ended', (reason) => {
      for (const u of input.unsubscribe) u();
      input.unsubscribe = [];
      if (this.#inputs.get(name) === input) this.#inputs.delete(name);
      if (name !== 'slate') this.#events.emit('input', name, 'ended', reason);
      this.tick();
    });
    if (source.state === 'live') onLive();
  }

  /** New settings while running (failure detection, slate, failback). */
  configure(settings: Pick<FailoverOptions, 'failoverAfterMs' | 'slateAfterMs' | 'failback'>): void {
    this.#opts = { ...this.#opts, ...settings };
  }

  /** An operator's switch: the output goes to `to` (default: the other input) if it is healthy. */
  switchTo(to?: IngestRole): InputName {
    const target: IngestRole = to ?? (this.#active === 'primary' ? 'backup' : 'primary');
    if (!this.healthy(target)) {
      throw new OnairError(
        'input_unavailable',
        `the ${target} input is not sending media; nothing to switch to`,
      );
    }
    if (this.#active !== target) this.#switchTo(target, 'switched by an operator');
    return target;
  }

  // ── media ─────────────────────────────────────────────────────────────
  #onPacket(input: Input, kind: MediaKind, packet: Buffer): void {
    if (this.#closed) return;
    const arrival = this.#now();
    let keyframe = false;
    if (kind === 'video') {
      const seen = noteVideo(input, packet, arrival);
      keyframe = seen.keyframe;
      if (input === this.#onAir) {
        this.#onAirVideoAt = arrival;
        if (seen.sps) this.#onAirSps = seen.sps;
      }
    }
    if (input === this.#onAir) {
      this.#output.emit(input.name, kind, packet, arrival);
      return;
    }
    // A standby input: keep what it sent since its last keyframe.
    keep(input, kind, packet, arrival, keyframe);
    if (keyframe && this.#pending?.name === input.name) this.#commit(input, this.#pending.reason);
    else if (keyframe && this.#active === undefined && this.#healthyForActivation(input)) this.tick();
  }

  #healthyForActivation(input: Input): boolean {
    return input.name !== 'slate' || this.#output.session !== undefined;
  }

  // ── switching ─────────────────────────────────────────────────────────
  #switchTo(name: InputName, reason: string): void {
    const input = this.#inputs.get(name);
    if (!input) return;
    if (input.cache.length > 0) {
      this.#commit(input, reason);
      return;
    }
    this.#pending = { name, reason };
    input.source.requestKeyframe();
  }

  /** The output follows `input` from its kept keyframe on. */
  #commit(input: Input, reason: string): void {
    const from = this.#active;
    const now = this.#now();
    const newSession = !this.#output.session || !this.#output.sameCodecs(input);
    if (newSession) this.#output.startSession(input);
    // Compared with the parameter sets on air, kept even when that input has already ended.
    const reconfigured =
      this.#output.session?.video.name === 'H264' &&
      this.#onAirSps !== undefined &&
      input.sps !== undefined &&
      this.#onAirSps !== input.sps;
    const wasIdle = this.state !== 'live' || from === undefined;
    const gapMs = from !== undefined && this.#onAirVideoAt !== undefined ? now - this.#onAirVideoAt : null;
    this.#onAirVideoAt = now;
    this.#onAirSps = input.sps;
    this.#active = input.name;
    this.#onAir = input;
    this.#activeSince = now;
    this.#pending = undefined;
    this.#failingSince = undefined;
    if (input.name === 'slate') this.#slateSince ??= now;
    else if (this.#slateSince !== undefined) {
      this.#slateMs += now - this.#slateSince;
      this.#slateSince = undefined;
    }
    const cache = takeKept(input);
    this.#output.startInput(input.name, cache[0]?.arrival ?? now);
    if (from !== undefined) this.#switches++;
    if (this.state !== 'live') {
      this.state = 'live';
      this.liveSince = now;
      this.#events.emit('live');
    }
    if (wasIdle || newSession) this.#events.emit('active');
    if (from !== undefined) {
      this.#lastSwitch = { from, to: input.name, reason, reconfigured, at: now, gapMs };
      this.#events.emit('switched', this.#lastSwitch);
    }
    for (const c of cache) this.#output.emit(input.name, c.kind, c.packet, c.arrival);
  }

  #goIdle(reason: string): void {
    if (this.#active === undefined) return;
    if (this.#slateSince !== undefined) {
      this.#slateMs += this.#now() - this.#slateSince;
      this.#slateSince = undefined;
    }
    this.#active = undefined;
    this.#onAir = undefined;
    this.#pending = undefined;
    this.#failingSince = undefined;
    this.#closeSlate();
    this.#events.emit('idle', reason);
  }

  #closeSlate(): void {
    this.#inputs.get('slate')?.source.close('no longer needed');
    this.#inputs.delete('slate');
  }

  #ensureSlate(): void {
    if (
      this.#inputs.has('slate') ||
      !this.#output.session ||
      !this.#opts.createSlate ||
      this.#opts.slateAfterMs <= 0
    )
      return;
    try {
      this.#add('slate', this.#opts.createSlate(this.#output.session));
    } catch (err) {
      this.#opts.log.error({ err }, 'the slate could not be started');
    }
  }

  /** Health checks: fail over, go to or leave the slate, fail back, keep standby keyframes fresh. */
  tick(): void {
    if (this.#closed) return;
    const now = this.#now();
    const real: IngestRole[] = ['primary', 'backup'];
    for (const name of real) {
      const i = this.#inputs.get(name);
      if (!i) continue;
      const ok = this.healthy(name, now);
      i.healthySince = ok ? (i.healthySince ?? now) : undefined;
      // Keep each standby's kept packets short: a keyframe now and then.
      if (
        this.#active !== name &&
        i.source.state === 'live' &&
        now - i.lastKeyframeAskAt >= (this.#opts.standbyKeyframeMs ?? 2000)
      ) {
        i.lastKeyframeAskAt = now;
        i.source.requestKeyframe();
      }
    }
    if (this.#pending && !this.#inputs.has(this.#pending.name)) this.#pending = undefined;
    const active = this.#active;
    const healthyReal = real.filter((n) => this.healthy(n, now));
    if (active === undefined) {
      const first = healthyReal[0];
      if (first && !this.#pending) this.#switchTo(first, `${first} went live`);
      return;
    }
    if (active === 'slate') {
      const back = healthyReal[0];
      if (back && this.#pending?.name !== back) this.#switchTo(back, `${back} is back`);
      return;
    }
    // A new publisher in the role on air (the old one ended): it goes on air at a keyframe,
    // through a commit, so its sequence numbers and timestamps continue the output's.
    if (this.#inputs.get(active) !== this.#onAir && this.healthy(active, now)) {
      if (this.#pending?.name !== active) this.#switchTo(active, `${active} is back`);
      return;
    }
    if (!this.healthy(active, now)) {
      this.#failingSince ??= Math.min(now, this.#onAirVideoAt ?? now);
      const gone = !this.#inputs.has(active);
      const why = gone ? `${active} ended` : `no media from ${active} for ${this.#opts.failoverAfterMs} ms`;
      const other = healthyReal.find((n) => n !== active);
      if (other) {
        if (this.#pending?.name !== other) this.#switchTo(other, why);
        return;
      }
      if (this.#opts.slateAfterMs > 0 && this.#opts.createSlate) {
        this.#ensureSlate();
        if (now - this.#failingSince >= this.#opts.slateAfterMs && this.healthy('slate', now)) {
          if (this.#pending?.name !== 'slate') this.#switchTo('slate', `${why}; no other input`);
        }
        return;
      }
      if (gone) this.#goIdle(why);
      return;
    }
    // On air from a live input.
    if (
      active === 'backup' &&
      this.#opts.failback === 'auto' &&
      this.healthy('primary', now) &&
      now - (this.#inputs.get('primary')?.healthySince ?? now) >= FAILBACK_STABLE_MS &&
      this.#pending?.name !== 'primary'
    ) {
      this.#switchTo('primary', 'primary is healthy again (automatic failback)');
    }
    if (this.#inputs.has('slate') && now - this.#activeSince >= SLATE_LINGER_MS) this.#closeSlate();
  }

  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const i of [...this.#inputs.values()]) {
      for (const u of i.unsubscribe) u();
      i.source.close(reason);
    }
    this.#inputs.clear();
    this.#output.close();
    this.state = 'ended';
    this.#events.emit('ended', reason);
    this.#events.removeAll();
  }
}
