/** One sample a second of what the channel's source receives: bitrate and frame rate, two minutes kept. */
import type { IngestSample } from '../../lib/stats.ts';
import type { IngestRole } from '../../lib/schemas.ts';
import type { MediaSource } from '../media/source.ts';

const KEEP = 300;

export class IngestMeter {
  #lastBytes = 0;
  #lastSource: MediaSource | undefined;
  #samples: IngestSample[] = [];

  sample(source: MediaSource | undefined, now = Date.now()): void {
    if (!source || source.state !== 'live') return;
    const stats = source.stats();
    const bytes = stats.tracks.reduce((n, t) => n + t.bytes, 0);
    // A new source starts its byte count from zero: its first second has no rate yet.
    const first = source !== this.#lastSource || this.#lastBytes === 0;
    const kbps = first ? 0 : ((bytes - this.#lastBytes) * 8) / 1000;
    this.#lastBytes = bytes;
    this.#lastSource = source;
    const sample: IngestSample = { at: now, kbps: Math.max(0, Math.round(kbps)) };
    if (stats.fps !== undefined) sample.fps = stats.fps;
    this.#samples.push(sample);
    if (this.#samples.length > KEEP) this.#samples.shift();
  }

  get last(): IngestSample | undefined {
    return this.#samples.at(-1);
  }

  history(count = 120): IngestSample[] {
    return this.#samples.slice(-count);
  }

  reset(): void {
    this.#samples = [];
    this.#lastBytes = 0;
    this.#lastSource = undefined;
  }
}

/** The meters of a channel's two inputs, sampled every `everyMs` (0: never) until closed. */
export class IngestMeters implements Record<IngestRole, IngestMeter> {
  readonly primary = new IngestMeter();
  readonly backup = new IngestMeter();
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(input: (role: IngestRole) => MediaSource | undefined, everyMs: number) {
    if (everyMs <= 0) return;
    this.#timer = setInterval(() => {
      this.primary.sample(input('primary'));
      this.backup.sample(input('backup'));
    }, everyMs);
    this.#timer.unref();
  }

  reset(): void {
    this.primary.reset();
    this.backup.reset();
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
