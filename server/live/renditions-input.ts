/**
 * passthrough-abr: a multi-bitrate encoder's renditions (one source, a video track each) feed the
 * encoder directly. The failover switcher carries one picture; a ladder the encoder made has
 * several, so these channels have one input, the primary.
 */
import { OnairError } from '../../lib/errors.ts';
import type { IngestRole } from '../../lib/schemas.ts';
import type { MediaSource } from '../media/source.ts';
import { connectedMessage, type EventSink } from './channel-events.ts';

export interface RenditionsHooks {
  event: EventSink;
  /** The renditions are live: run the encoder on them and let viewers watch. */
  live(source: MediaSource): void;
  /** The renditions ended: stop the encoder, viewers wait. */
  ended(): void;
}

export class RenditionsInput {
  readonly #hooks: RenditionsHooks;
  #source: MediaSource | undefined;
  #closed = false;

  constructor(hooks: RenditionsHooks) {
    this.#hooks = hooks;
  }

  /** The renditions' source, until it ends. */
  get source(): MediaSource | undefined {
    return this.#source;
  }

  get live(): boolean {
    return this.#source?.state === 'live';
  }

  attach(source: MediaSource, role: IngestRole): void {
    if (this.#closed) throw new OnairError('channel_not_running', 'channel is stopping');
    if (role !== 'primary') {
      throw new OnairError(
        'validation_failed',
        'a multi-bitrate passthrough channel has one input: publish its renditions to the primary',
      );
    }
    if (this.#source && this.#source.state !== 'ended') {
      throw new OnairError(
        'publisher_exists',
        'channel already has a live publisher; end that session first',
      );
    }
    this.#source = source;
    const onLive = () => {
      if (this.#closed || this.#source !== source) return;
      this.#hooks.event('publisher.connected', connectedMessage('primary', source.kind, source, true));
      this.#hooks.live(source);
    };
    source.on('live', onLive);
    source.on('ended', (reason) => {
      this.#hooks.event('publisher.disconnected', `primary publisher disconnected: ${reason}`);
      if (this.#source !== source) return;
      this.#source = undefined;
      this.#hooks.ended();
    });
    if (source.state === 'live') onLive();
  }

  /** Ends the renditions' source (a reset keeps this input usable; `final` closes it for good). */
  close(reason: string, final = false): void {
    if (final) this.#closed = true;
    this.#source?.close(reason);
    this.#source = undefined;
  }
}
