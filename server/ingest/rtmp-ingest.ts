/**
 * A running channel's RTMP side: turns accepted publishers into sources and
 * attaches them to the channel (the hub decides whether it takes them).
 *
 * - encode / passthrough channels: one publisher is one source (tracks `video`, `audio`).
 * - passthrough-abr channels: one publisher per rendition (`…/<key>/<rendition>`), all of
 *   them one source with a video track per rendition. The source is built once the
 *   renditions that arrive together are flowing (GATHER_MS after the last one); a
 *   rendition that joins or leaves later makes a new source from the set that is
 *   left (the output continues after a discontinuity).
 *
 * The keyframes of every rendition are compared (keyframe-alignment.ts); a
 * rendition whose keyframes are not at the same instants as the others' is
 * reported as a warning (a channel event and a console warning).
 */
import { OnairError } from '../../lib/errors.ts';
import type { ChannelMode, IngestRole } from '../../lib/schemas.ts';
import type { Logger } from '../log.ts';
import type { ChildRegistry } from '../media/child-processes.ts';
import type { MediaSource } from '../media/source.ts';
import { KeyframeAlignment } from './keyframe-alignment.ts';
import { RemuxFeed } from './remux-feed.ts';
import { RemuxSource } from './remux-source.ts';
import { RtmpPublisher } from './rtmp-publisher.ts';

/** How long a multi-bitrate source waits for more renditions after the last one began to flow. */
export const GATHER_MS = 1000;

export interface RtmpChannelIngestOptions {
  channelId: string;
  ffmpegPath: string;
  log: Logger;
  /** Owns the remuxers of the channel's publishers. */
  children: ChildRegistry;
  /** The channel's mode now (it cannot change while the channel runs). */
  mode: () => ChannelMode;
  /** Makes a source the channel's input; throws OnairError (publisher_exists, channel_not_running). */
  attach: (source: MediaSource, role: IngestRole) => void;
  /** The source the channel has now, if any. */
  current: () => MediaSource | undefined;
  gatherMs?: number;
}

export class RtmpChannelIngest {
  readonly #opts: RtmpChannelIngestOptions;
  /** passthrough-abr: the renditions connected now, by name. */
  readonly #renditions = new Map<string, RemuxFeed>();
  readonly #alignment = new KeyframeAlignment();
  #abrSource: RemuxSource | undefined;
  #abrRole: IngestRole = 'primary';
  #gather: NodeJS.Timeout | undefined;
  #singles = new Set<RemuxFeed>();
  #closed = false;

  constructor(opts: RtmpChannelIngestOptions) {
    this.#opts = opts;
  }

  /**
   * A publisher asks to publish. Returns its media sink, or throws OnairError
   * (publisher_exists, validation_failed) that the RTMP server turns into a status.
   */
  publish(
    role: IngestRole,
    rendition: string | undefined,
    disconnect: (reason: string) => void,
  ): RtmpPublisher {
    if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
    const multi = this.#opts.mode() === 'passthrough-abr';
    if (!multi && rendition !== undefined) {
      throw new OnairError(
        'validation_failed',
        `this channel takes one stream: publish to …/<key>, not …/<key>/${rendition} (renditions are for passthrough-abr channels)`,
      );
    }
    const log = this.#opts.log.child({ rtmp: rendition ?? 'source' });
    const feed = new RemuxFeed({
      name: rendition ?? 'source',
      ffmpegPath: this.#opts.ffmpegPath,
      log,
      children: this.#opts.children,
      disconnect,
    });
    if (!multi) {
      const source = new RemuxSource({ kind: 'rtmp', feeds: [feed], multiBitrate: false, log });
      try {
        this.#opts.attach(source, role);
      } catch (err) {
        source.close('refused');
        throw err;
      }
      this.#singles.add(feed);
      feed.on('ended', (reason) => {
        this.#singles.delete(feed);
        source.close(reason);
      });
      return new RtmpPublisher(feed);
    }
    return this.#publishRendition(role, rendition ?? 'source', feed);
  }

  #publishRendition(role: IngestRole, name: string, feed: RemuxFeed): RtmpPublisher {
    if (role !== 'primary') {
      feed.close('refused');
      throw new OnairError(
        'validation_failed',
        'a multi-bitrate channel has no backup input: publish every rendition to rtmp://<host>/live/<key>/<rendition>',
      );
    }
    if (this.#renditions.has(name)) {
      feed.close('refused');
      throw new OnairError('publisher_exists', `rendition ${name} is already being published`);
    }
    const current = this.#opts.current();
    if (current && current.state !== 'ended' && current !== this.#abrSource) {
      feed.close('refused');
      throw new OnairError(
        'publisher_exists',
        'channel already has a live publisher; end that session first',
      );
    }
    if (this.#renditions.size === 0) this.#abrRole = role;
    this.#renditions.set(name, feed);
    feed.on('ready', () => this.#scheduleBuild());
    feed.on('ended', (reason) => {
      if (this.#renditions.get(name) !== feed) return;
      this.#renditions.delete(name);
      this.#alignment.remove(name);
      const source = this.#abrSource;
      if (source && source.feeds.includes(feed)) {
        this.#abrSource = undefined;
        source.retire(`rendition ${name} left: ${reason}`);
      }
      this.#scheduleBuild();
    });
    return new RtmpPublisher(feed, {
      videoFrame: (ts, key) => {
        for (const m of this.#alignment.frame(name, ts, key)) {
          this.#abrSource?.warn(
            'keyframes_misaligned',
            `keyframes of ${m.rendition} and ${m.other} are not aligned (a keyframe at ${(m.at / 1000).toFixed(2)} s in ${m.rendition} only): players cannot switch cleanly; give every rendition the same keyframe interval from one encoder`,
          );
        }
      },
    });
  }

  #scheduleBuild(): void {
    if (this.#closed) return;
    if (this.#gather) clearTimeout(this.#gather);
    this.#gather = setTimeout(() => this.#build(), this.#opts.gatherMs ?? GATHER_MS);
    this.#gather.unref();
  }

  /** A source of every rendition that flows now (largest picture first). */
  #build(): void {
    this.#gather = undefined;
    if (this.#closed) return;
    const ready = [...this.#renditions.values()].filter((f) => f.ready && !f.ended);
    const current = this.#abrSource;
    if (current && current.state !== 'ended') {
      const same = current.feeds.length === ready.length && ready.every((f) => current.feeds.includes(f));
      if (same) return;
      this.#abrSource = undefined;
      current.retire('the set of renditions changed');
    }
    if (ready.length === 0) return;
    ready.sort(
      (a, b) => (b.probe.format?.height ?? 0) - (a.probe.format?.height ?? 0) || a.name.localeCompare(b.name),
    );
    const source = new RemuxSource({ kind: 'rtmp', feeds: ready, multiBitrate: true, log: this.#opts.log });
    try {
      this.#opts.attach(source, this.#abrRole);
      this.#abrSource = source;
    } catch (err) {
      this.#opts.log.warn({ err }, 'the renditions could not become the channel input');
      source.close('refused');
    }
  }

  /** Every publisher of the channel goes (the channel stops). Idempotent. */
  close(reason = 'channel stopped'): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#gather) clearTimeout(this.#gather);
    this.#abrSource?.close(reason);
    for (const f of [...this.#renditions.values(), ...this.#singles]) f.close(reason);
    this.#renditions.clear();
    this.#singles.clear();
  }
}
