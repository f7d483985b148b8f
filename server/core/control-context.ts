/**
 * What the channel, program and asset rules share: the store, the runtime,
 * the clock, the event log and one transition at a time per object.
 */
import type { ChannelEventType, WebhookEvent } from '../../lib/events.ts';
import type { Page, PageQuery } from '../../lib/schemas.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { ChannelRuntime } from './runtime.ts';

/** An event for other systems (webhooks), as the control plane reports it. */
export type Notification = Omit<WebhookEvent, 'id'>;

export interface ControlPlaneLimits {
  /** Channels that may exist. */
  maxChannels: number;
  /** Channels that may be started (starting, running or stopping) at once. */
  maxRunningChannels: number;
}

/** Where encoders reach onair's RTMP and SRT listeners (for the URLs channels show). */
export interface IngestPorts {
  /** RTMP port, or undefined when RTMP is off. */
  rtmp?: number;
  rtmps?: number;
  /** UDP ports handed to channels for SRT, one each; undefined when SRT is off. */
  srtRange?: readonly [number, number];
}

export interface ControlPlaneDeps {
  store: Store;
  runtime: ChannelRuntime;
  log: Logger;
  now?: () => Date;
  limits?: ControlPlaneLimits;
  /** Called after every event; must not throw or block (webhooks queue it). */
  notify?: (event: Notification) => void;
  ingest?: IngestPorts;
}

export type EventAbout = { programId?: string; assetId?: string };

export class ControlContext {
  readonly store: Store;
  readonly runtime: ChannelRuntime;
  readonly log: Logger;
  readonly limits: ControlPlaneLimits;
  readonly ingest: IngestPorts;
  readonly #now: () => Date;
  readonly #notify: ((event: Notification) => void) | undefined;
  /** The tail of each key's queue of transitions. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(deps: ControlPlaneDeps) {
    this.store = deps.store;
    this.runtime = deps.runtime;
    this.log = deps.log;
    this.ingest = deps.ingest ?? {};
    this.limits = deps.limits ?? { maxChannels: Infinity, maxRunningChannels: Infinity };
    this.#now = deps.now ?? (() => new Date());
    this.#notify = deps.notify;
  }

  iso(): string {
    return this.#now().toISOString();
  }

  /**
   * Runs `fn` after every earlier call with the same key has settled: a check
   * and the write that follows it are not interleaved with another request's.
   */
  serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#queues.get(key) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.#queues.set(key, tail);
    void tail.then(() => {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    });
    return run;
  }

  /** Logs, stores and hands on a channel's event. */
  async event(
    channelId: string,
    type: ChannelEventType,
    message: string,
    about: EventAbout = {},
  ): Promise<void> {
    const at = this.iso();
    await this.store.events.insert(channelId, type, message, at);
    this.log.info({ channelId, event: type }, message);
    if (!this.#notify) return;
    try {
      this.#notify({ type, at, data: { channelId, ...about, message } });
    } catch (err) {
      this.log.error({ err, event: type }, 'event notification failed');
    }
  }

  /** An event about a channel that may have been deleted meanwhile (then it is dropped). */
  async eventIfChannel(
    channelId: string,
    type: ChannelEventType,
    message: string,
    about: EventAbout = {},
  ): Promise<void> {
    if (await this.store.channels.get(channelId)) await this.event(channelId, type, message, about);
  }
}

export const round3 = (n: number): number => Math.round(n * 1000) / 1000;

export function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}

/** A store page as the API shows it: with the limit and offset asked for. */
export async function pageOf<T>(
  q: PageQuery,
  rows: Promise<{ items: T[]; total: number }>,
): Promise<Page<T>> {
  const { items, total } = await rows;
  return { items, total, limit: q.limit, offset: q.offset };
}
