/**
 * Webhooks: receivers that other systems register to hear what happens (a
 * publisher going live, a channel stopping, an asset ready). Kept in SQLite;
 * each event becomes one delivery per subscribed receiver, handed to the
 * dispatcher's queue.
 */
import { randomBytes } from 'node:crypto';
import { OnairError } from '../../lib/errors.ts';
import type { WebhookEvent, WebhookEventType } from '../../lib/events.ts';
import { WebhookCreateSchema, type Page, type PageQuery, type Webhook } from '../../lib/schemas.ts';
import { parseWith } from '../../lib/validate.ts';
import type { Logger } from '../log.ts';
import { newId, newSecret } from '../store/ids.ts';
import type { DeliveryRecord, Store, WebhookRecord } from '../store/store.ts';
import { checkReceiver } from './address-guard.ts';
import { WebhookDispatcher } from './dispatcher.ts';

export const MAX_WEBHOOKS = 50;
/** Deliveries kept per webhook for the API and the console to show. */
const HISTORY = 100;

export interface WebhooksOptions {
  store: Store;
  log: Logger;
  allowPrivate: boolean;
  maxAttempts: number;
  backoffMs: number;
}

export class Webhooks {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #allowPrivate: boolean;
  readonly #dispatcher: WebhookDispatcher;
  #published: Promise<void> = Promise.resolve();

  constructor(opts: WebhooksOptions) {
    this.#store = opts.store;
    this.#log = opts.log;
    this.#allowPrivate = opts.allowPrivate;
    this.#dispatcher = new WebhookDispatcher({
      store: opts.store,
      log: opts.log,
      allowPrivate: opts.allowPrivate,
      maxAttempts: opts.maxAttempts,
      backoffMs: opts.backoffMs,
    });
  }

  /** Deliveries left pending by the last run go out again (at least once, in order). */
  async resume(): Promise<void> {
    const hooks = new Map((await this.#store.webhooks.all()).map((w) => [w.id, w]));
    for (const { delivery, payload } of await this.#store.webhooks.pendingDeliveries()) {
      const hook = hooks.get(delivery.webhookId);
      if (hook) this.#dispatcher.enqueue({ delivery, url: hook.url, secret: hook.secret, payload });
    }
  }

  get pending(): number {
    return this.#dispatcher.pending;
  }

  async require(id: string): Promise<WebhookRecord> {
    const w = await this.#store.webhooks.get(id);
    if (!w) throw OnairError.notFound('webhook', id);
    return w;
  }

  async view(w: WebhookRecord): Promise<Webhook> {
    return { ...w, lastDelivery: (await this.#store.webhooks.lastDelivery(w.id)) ?? null };
  }

  async list(): Promise<Webhook[]> {
    return Promise.all((await this.#store.webhooks.all()).map((w) => this.view(w)));
  }

  async create(input: unknown): Promise<WebhookRecord> {
    const body = parseWith(WebhookCreateSchema, input);
    if ((await this.#store.webhooks.all()).length >= MAX_WEBHOOKS) {
      throw new OnairError('webhook_limit_reached', `at most ${MAX_WEBHOOKS} webhooks; delete one first`);
    }
    const problem = await checkReceiver(body.url, this.#allowPrivate);
    if (problem) throw OnairError.validation('url', problem);
    const w: WebhookRecord = {
      id: newId('wh'),
      url: body.url,
      events: body.events,
      description: body.description,
      secret: newSecret('whsec'),
      createdAt: new Date().toISOString(),
    };
    await this.#store.webhooks.insert(w);
    this.#log.info({ webhookId: w.id, events: w.events }, 'webhook added');
    return w;
  }

  async delete(id: string): Promise<void> {
    await this.require(id);
    this.#dispatcher.forget(id);
    await this.#store.webhooks.delete(id);
  }

  async deliveries(id: string, q: PageQuery): Promise<Page<DeliveryRecord>> {
    await this.require(id);
    const { items, total } = await this.#store.webhooks.listDeliveries(id, q.limit, q.offset);
    return { items, total, limit: q.limit, offset: q.offset };
  }

  /** Sends a `webhook.ping` to one receiver, to try it. */
  async ping(id: string): Promise<DeliveryRecord> {
    const w = await this.require(id);
    const event = this.#event({
      type: 'webhook.ping',
      at: new Date().toISOString(),
      data: { message: 'a test delivery from onair' },
    });
    return this.#deliver(w, event);
  }

  /**
   * An event happened: one delivery per receiver subscribed to it. Never
   * throws; events are queued in the order they are published.
   */
  publish(e: Omit<WebhookEvent, 'id'>): void {
    this.#published = this.#published.then(async () => {
      try {
        const hooks = (await this.#store.webhooks.all()).filter((w) => subscribed(w, e.type));
        if (hooks.length === 0) return;
        const event = this.#event(e);
        for (const w of hooks) await this.#deliver(w, event);
      } catch (err) {
        this.#log.error({ err, event: e.type }, 'webhook event not queued');
      }
    });
  }

  /** Resolves once every event published so far is queued (for tests and shutdown). */
  settled(): Promise<void> {
    return this.#published;
  }

  #event(e: Omit<WebhookEvent, 'id'>): WebhookEvent {
    return { id: `evt_${randomBytes(12).toString('hex')}`, ...e };
  }

  async #deliver(w: WebhookRecord, event: WebhookEvent): Promise<DeliveryRecord> {
    const payload = JSON.stringify(event);
    const now = new Date().toISOString();
    const draft: Omit<DeliveryRecord, 'id'> = {
      webhookId: w.id,
      eventId: event.id,
      eventType: event.type,
      state: 'pending',
      attempts: 0,
      responseStatus: null,
      error: null,
      createdAt: now,
      updatedAt: now,
      nextAttemptAt: now,
    };
    const id = await this.#store.webhooks.insertDelivery(draft, payload);
    await this.#store.webhooks.trimDeliveries(w.id, HISTORY);
    const delivery: DeliveryRecord = { id, ...draft };
    this.#dispatcher.enqueue({ delivery, url: w.url, secret: w.secret, payload });
    return delivery;
  }

  close(): void {
    this.#dispatcher.close();
  }
}

function subscribed(w: WebhookRecord, type: WebhookEventType): boolean {
  if (type === 'webhook.ping') return false; // only on request, to one receiver
  return w.events.includes('*') || w.events.includes(type);
}
