/**
 * Webhook deliveries: an in-process queue per receiver, delivered one at a time
 * and in order, each attempt signed afresh, retried with exponential backoff
 * (base × 2^n) up to a number of attempts, then marked failed. Every change is
 * written to the store, so the API and the console show the last status.
 *
 * Bounded: at most `maxQueued` deliveries wait per receiver and `maxTotal` in
 * all; past that the oldest waiting one is marked failed ("dropped"), so a dead
 * receiver never grows memory. Nothing here runs on the media path: callers
 * only append to a queue.
 */
import type { ClientRequest } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { WebhookEventType } from '../../lib/events.ts';
import type { Logger } from '../log.ts';
import type { DeliveryRecord, Store } from '../store/store.ts';
import { guardedLookup, isPublicAddress, literalAddress } from './address-guard.ts';
import { SIGNATURE_HEADER, signatureHeader } from './signature.ts';

export interface DeliveryJob {
  delivery: DeliveryRecord;
  url: string;
  secret: string;
  payload: string;
}

export interface DispatcherOptions {
  store: Store;
  log: Logger;
  allowPrivate: boolean;
  maxAttempts: number;
  backoffMs: number;
  /** The longest wait between two attempts. */
  maxBackoffMs?: number;
  timeoutMs?: number;
  maxQueued?: number;
  maxTotal?: number;
}

interface Queue {
  jobs: DeliveryJob[];
  running: boolean;
  /** The request in flight, to abort when the webhook is deleted or the server stops. */
  request: ClientRequest | undefined;
  wake: (() => void) | undefined;
}

const USER_AGENT = 'onair-webhooks/1';

export class WebhookDispatcher {
  readonly #o: Required<DispatcherOptions>;
  readonly #queues = new Map<string, Queue>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #total = 0;
  #closed = false;

  constructor(opts: DispatcherOptions) {
    this.#o = {
      maxBackoffMs: 5 * 60_000,
      timeoutMs: 10_000,
      maxQueued: 200,
      maxTotal: 2000,
      ...opts,
    };
  }

  /** Deliveries waiting or in flight. */
  get pending(): number {
    return this.#total;
  }

  enqueue(job: DeliveryJob): void {
    if (this.#closed) return;
    const webhookId = job.delivery.webhookId;
    let q = this.#queues.get(webhookId);
    if (!q) {
      q = { jobs: [], running: false, request: undefined, wake: undefined };
      this.#queues.set(webhookId, q);
    }
    if (q.jobs.length >= this.#o.maxQueued) this.#dropOldest(q);
    else if (this.#total >= this.#o.maxTotal) {
      const fullest = [...this.#queues.values()].sort((a, b) => b.jobs.length - a.jobs.length)[0];
      if (fullest) this.#dropOldest(fullest);
    }
    q.jobs.push(job);
    this.#total++;
    if (!q.running) void this.#run(webhookId, q);
  }

  /** Drops the oldest job that is not in flight. */
  #dropOldest(q: Queue): void {
    const index = q.running ? 1 : 0;
    const [job] = q.jobs.splice(index, 1);
    if (!job) return;
    this.#total--;
    this.#save(job, {
      state: 'failed',
      error: 'dropped: too many deliveries were waiting for this receiver',
      nextAttemptAt: null,
    });
  }

  /** Forgets a deleted webhook: its queue goes, its request in flight is aborted. */
  forget(webhookId: string): void {
    const q = this.#queues.get(webhookId);
    if (!q) return;
    this.#queues.delete(webhookId);
    this.#total -= q.jobs.length;
    q.jobs.length = 0;
    q.request?.destroy();
    q.wake?.();
  }

  #save(job: DeliveryJob, change: Partial<DeliveryRecord>): void {
    job.delivery = { ...job.delivery, ...change, updatedAt: new Date().toISOString() };
    // The webhook may have been deleted meanwhile (its rows cascade); nothing to record.
    this.#o.store.webhooks
      .updateDelivery(job.delivery)
      .catch((err: unknown) => this.#o.log.debug({ err }, 'webhook delivery not recorded'));
  }

  async #run(webhookId: string, q: Queue): Promise<void> {
    q.running = true;
    try {
      while (!this.#closed && this.#queues.get(webhookId) === q && q.jobs.length > 0) {
        const job = q.jobs[0]!;
        const result = await this.#attempt(job, q);
        if (this.#closed || this.#queues.get(webhookId) !== q) return;
        const attempts = job.delivery.attempts + 1;
        if (result.ok) {
          this.#save(job, {
            state: 'delivered',
            attempts,
            responseStatus: result.status ?? null,
            error: null,
            nextAttemptAt: null,
          });
        } else if (attempts >= this.#o.maxAttempts) {
          this.#save(job, {
            state: 'failed',
            attempts,
            responseStatus: result.status ?? null,
            error: result.error,
            nextAttemptAt: null,
          });
          this.#o.log.warn(
            { webhookId, deliveryId: job.delivery.id, attempts, error: result.error },
            'webhook delivery failed',
          );
        } else {
          const wait = Math.min(this.#o.maxBackoffMs, this.#o.backoffMs * 2 ** (attempts - 1));
          this.#save(job, {
            state: 'pending',
            attempts,
            responseStatus: result.status ?? null,
            error: result.error,
            nextAttemptAt: new Date(Date.now() + wait).toISOString(),
          });
          await this.#sleep(wait, q);
          continue;
        }
        q.jobs.shift();
        this.#total--;
      }
    } finally {
      q.running = false;
      if (this.#queues.get(webhookId) === q && q.jobs.length === 0) this.#queues.delete(webhookId);
    }
  }

  #sleep(ms: number, q: Queue): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        q.wake = undefined;
        resolve();
      }, ms);
      this.#timers.add(timer);
      q.wake = () => {
        clearTimeout(timer);
        this.#timers.delete(timer);
        q.wake = undefined;
        resolve();
      };
    });
  }

  /** One signed POST. Resolves with what happened; never rejects. */
  #attempt(job: DeliveryJob, q: Queue): Promise<{ ok: boolean; status?: number; error: string | null }> {
    return new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL(job.url);
      } catch {
        resolve({ ok: false, error: 'the webhook URL is not valid' });
        return;
      }
      const literal = literalAddress(url.hostname);
      if (literal && !this.#o.allowPrivate && !isPublicAddress(literal)) {
        resolve({
          ok: false,
          error: `${literal} is a loopback or private address (ONAIR_WEBHOOK_ALLOW_PRIVATE=1 allows it)`,
        });
        return;
      }
      const body = Buffer.from(job.payload);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      let settled = false;
      const done = (r: { ok: boolean; status?: number; error: string | null }) => {
        if (settled) return;
        settled = true;
        q.request = undefined;
        resolve(r);
      };
      const req = send(
        url,
        {
          method: 'POST',
          agent: false,
          lookup: guardedLookup(this.#o.allowPrivate),
          timeout: this.#o.timeoutMs,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': body.length,
            'User-Agent': USER_AGENT,
            'X-Onair-Event': job.delivery.eventType satisfies WebhookEventType,
            'X-Onair-Delivery': String(job.delivery.id),
            [SIGNATURE_HEADER]: signatureHeader(job.secret, job.payload, Math.floor(Date.now() / 1000)),
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          // The answer's body is not needed: read a little, then let go.
          let read = 0;
          res.on('data', (c: Buffer) => {
            read += c.length;
            if (read > 64 * 1024) res.destroy();
          });
          res.on('error', () => undefined);
          res.on('close', () =>
            done(
              status >= 200 && status < 300
                ? { ok: true, status, error: null }
                : { ok: false, status, error: `the receiver answered HTTP ${status}` },
            ),
          );
        },
      );
      q.request = req;
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#o.timeoutMs / 1000} s`)));
      req.on('error', (err) => done({ ok: false, error: err.message.slice(0, 300) }));
      req.end(body);
    });
  }

  /** Stops delivering: aborts requests in flight; waiting deliveries stay pending in the store. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const q of this.#queues.values()) {
      q.request?.destroy();
      q.wake?.();
    }
    this.#queues.clear();
    this.#total = 0;
  }
}
