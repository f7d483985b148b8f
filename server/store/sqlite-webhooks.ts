/* eslint-disable @typescript-eslint/require-await -- node:sqlite answers at once; the repositories' contract is async, and an error thrown here reaches the caller as a rejection. */
/** Webhooks with their delivery history, and console sessions, on the embedded database. */
import type { WebhookEventType } from '../../lib/events.ts';
import type { DeliveryState, WebhookSubscription } from '../../lib/schemas.ts';
import type {
  DeliveryRecord,
  Page,
  SessionRepository,
  WebhookRecord,
  WebhookRepository,
} from './repositories.ts';
import { numOrNull, str, strOrNull, SqliteTable, type Row } from './sqlite.ts';

function toWebhook(r: Row): WebhookRecord {
  return {
    id: str(r.id),
    url: str(r.url),
    events: JSON.parse(str(r.events)) as WebhookSubscription[],
    description: str(r.description),
    secret: str(r.secret),
    createdAt: str(r.created_at),
  };
}

function toDelivery(r: Row): DeliveryRecord {
  return {
    id: Number(r.id),
    webhookId: str(r.webhook_id),
    eventId: str(r.event_id),
    eventType: str(r.event_type) as WebhookEventType,
    state: str(r.state) as DeliveryState,
    attempts: Number(r.attempts),
    responseStatus: numOrNull(r.response_status),
    error: strOrNull(r.error),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
    nextAttemptAt: strOrNull(r.next_attempt_at),
  };
}

export class SqliteWebhooks extends SqliteTable implements WebhookRepository {
  async insert(w: WebhookRecord): Promise<void> {
    this.db.run(
      'INSERT INTO webhooks (id, url, events, description, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [w.id, w.url, JSON.stringify(w.events), w.description, w.secret, w.createdAt],
    );
  }

  async get(id: string): Promise<WebhookRecord | undefined> {
    const row = this.db.get('SELECT * FROM webhooks WHERE id = ?', [id]);
    return row ? toWebhook(row) : undefined;
  }

  async all(): Promise<WebhookRecord[]> {
    return this.db.all('SELECT * FROM webhooks ORDER BY created_at, id').map(toWebhook);
  }

  async delete(id: string): Promise<void> {
    this.db.run('DELETE FROM webhooks WHERE id = ?', [id]);
  }

  async insertDelivery(d: Omit<DeliveryRecord, 'id'>, payload: string): Promise<number> {
    return this.db.run(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload, state, attempts, response_status, error, created_at, updated_at, next_attempt_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        d.webhookId,
        d.eventId,
        d.eventType,
        payload,
        d.state,
        d.attempts,
        d.responseStatus,
        d.error,
        d.createdAt,
        d.updatedAt,
        d.nextAttemptAt,
      ],
    );
  }

  async updateDelivery(d: DeliveryRecord): Promise<void> {
    this.db.run(
      `UPDATE webhook_deliveries SET state = ?, attempts = ?, response_status = ?, error = ?, updated_at = ?, next_attempt_at = ?
         WHERE id = ?`,
      [d.state, d.attempts, d.responseStatus, d.error, d.updatedAt, d.nextAttemptAt, d.id],
    );
  }

  async listDeliveries(webhookId: string, limit: number, offset: number): Promise<Page<DeliveryRecord>> {
    const q = { table: 'webhook_deliveries', where: 'webhook_id = ?', params: [webhookId], order: 'id DESC' };
    return this.db.page(q, limit, offset, toDelivery);
  }

  async lastDelivery(webhookId: string): Promise<DeliveryRecord | undefined> {
    const row = this.db.get(
      'SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT 1',
      [webhookId],
    );
    return row ? toDelivery(row) : undefined;
  }

  async pendingDeliveries(): Promise<{ delivery: DeliveryRecord; payload: string }[]> {
    return this.db
      .all("SELECT * FROM webhook_deliveries WHERE state = 'pending' ORDER BY id")
      .map((r) => ({ delivery: toDelivery(r), payload: str(r.payload) }));
  }

  async trimDeliveries(webhookId: string, keep: number): Promise<void> {
    this.db.run(
      `DELETE FROM webhook_deliveries WHERE webhook_id = ? AND state != 'pending' AND id NOT IN
         (SELECT id FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?)`,
      [webhookId, webhookId, keep],
    );
  }
}

export class SqliteSessions extends SqliteTable implements SessionRepository {
  async create(
    s: { idHash: string; adminFingerprint: string; createdAt: string; expiresAt: number },
    keep: number,
  ): Promise<void> {
    this.db.atomically(() => {
      this.#prune(s.adminFingerprint, Math.floor(Date.now() / 1000));
      this.db.run(
        'INSERT INTO console_sessions (id_hash, admin_fingerprint, created_at, expires_at) VALUES (?, ?, ?, ?)',
        [s.idHash, s.adminFingerprint, s.createdAt, s.expiresAt],
      );
      this.db.run(
        'DELETE FROM console_sessions WHERE id_hash NOT IN (SELECT id_hash FROM console_sessions ORDER BY expires_at DESC LIMIT ?)',
        [keep],
      );
    });
  }

  async expiry(idHash: string, adminFingerprint: string): Promise<number | undefined> {
    const row = this.db.get(
      'SELECT expires_at FROM console_sessions WHERE id_hash = ? AND admin_fingerprint = ?',
      [idHash, adminFingerprint],
    );
    return row ? Number(row.expires_at) : undefined;
  }

  async delete(idHash: string): Promise<void> {
    this.db.run('DELETE FROM console_sessions WHERE id_hash = ?', [idHash]);
  }

  #prune(adminFingerprint: string, now: number): number {
    this.db.run('DELETE FROM console_sessions WHERE expires_at <= ? OR admin_fingerprint != ?', [
      now,
      adminFingerprint,
    ]);
    return this.db.count('SELECT COUNT(*) AS n FROM console_sessions');
  }

  async prune(adminFingerprint: string, now: number): Promise<number> {
    return this.#prune(adminFingerprint, now);
  }
}
