'use client';
import { useState, type FormEvent } from 'react';
import { ApiClient } from '../../lib/api-client.ts';
import { WEBHOOK_EVENT_TYPES } from '../../lib/events.ts';
import {
  WebhookCreateSchema,
  type Webhook,
  type WebhookDelivery,
  type WebhookSubscription,
} from '../../lib/schemas.ts';
import { Alert } from '../ui/alert.tsx';
import { Badge, type BadgeTone } from '../ui/badge.tsx';
import { Button } from '../ui/button.tsx';
import { Panel } from '../ui/card.tsx';
import { CopyField } from '../ui/copy-field.tsx';
import { InputField } from '../ui/field.tsx';
import { Spinner } from '../ui/spinner.tsx';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { formatTime } from './format.ts';
import { LoadError } from './load-error.tsx';
import { usePoll } from './use-poll.ts';
import { useRequest, useSchemaForm } from './use-request.ts';

interface Row {
  webhook: Webhook;
  deliveries: WebhookDelivery[];
}

async function loadWebhooks(): Promise<Row[]> {
  const api = new ApiClient();
  const list = await api.listWebhooks();
  return Promise.all(
    list.items.map(async (webhook) => ({
      webhook,
      deliveries: (await api.webhookDeliveries(webhook.id, 5).catch(() => undefined))?.items ?? [],
    })),
  );
}

const STATE_TONE: Record<WebhookDelivery['state'], BadgeTone> = {
  pending: 'amber',
  delivered: 'emerald',
  failed: 'red',
};

export function WebhooksPage() {
  const poll = usePoll(loadWebhooks, 3000);
  const rows = poll.data;
  return (
    <div className="flex flex-col gap-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">Webhooks</h1>
        <p className="mt-1 max-w-2xl text-sm text-zinc-400">
          onair posts a signed JSON event to each receiver when something happens: a publisher goes live, a
          channel starts or stops, a recording is ready. Failed deliveries are retried with backoff.
        </p>
      </div>
      <NewWebhookForm onCreated={poll.refresh} />
      {poll.error && <LoadError what="the webhooks" error={poll.error} onRetry={poll.refresh} />}
      {!rows && poll.loading && (
        <div role="status" className="flex items-center gap-2 py-6 text-sm text-zinc-400">
          <Spinner /> Loading webhooks…
        </div>
      )}
      {rows && rows.length === 0 && <p className="text-sm text-zinc-500">No webhooks yet. Add one above.</p>}
      {rows && rows.length > 0 && (
        <ul className="flex flex-col gap-4" aria-label="Webhooks">
          {rows.map((row) => (
            <li key={row.webhook.id}>
              <WebhookCard row={row} onChanged={poll.refresh} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function NewWebhookForm({ onCreated }: { onCreated: () => void }) {
  const [url, setUrl] = useState('');
  const [all, setAll] = useState(true);
  const [events, setEvents] = useState<string[]>(['publisher.connected', 'publisher.disconnected']);
  const { errors, busy, submit: send } = useSchemaForm(WebhookCreateSchema, ['url', 'events']);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const input = { url: url.trim(), events: (all ? ['*'] : events) as WebhookSubscription[] };
    return send(input, async () => {
      await new ApiClient().createWebhook(input);
      setUrl('');
      onCreated();
    });
  };

  return (
    <Panel id="new-webhook" title="Add a webhook">
      <form onSubmit={(e) => void submit(e)} noValidate className="flex flex-col gap-4">
        <InputField
          id="webhook-url"
          label="Receiver URL"
          error={errors.url}
          hint="An http(s) URL that accepts POST requests with a JSON body."
          value={url}
          onValue={setUrl}
          placeholder="https://example.com/hooks/onair"
          inputMode="url"
        />
        <fieldset className="flex flex-col gap-2">
          <legend className="mb-1 text-xs font-medium text-zinc-300">Events</legend>
          <label className="flex items-center gap-2 text-sm">
            <input
              type="checkbox"
              checked={all}
              onChange={(e) => setAll(e.target.checked)}
              className="accent-sky-500"
            />
            All events
          </label>
          {!all && (
            <div className="grid grid-cols-1 gap-1 pl-6 sm:grid-cols-2 lg:grid-cols-3">
              {WEBHOOK_EVENT_TYPES.filter((t) => t !== 'webhook.ping').map((t) => (
                <label key={t} className="flex items-center gap-2 font-mono text-xs text-zinc-300">
                  <input
                    type="checkbox"
                    checked={events.includes(t)}
                    onChange={(e) =>
                      setEvents((list) => (e.target.checked ? [...list, t] : list.filter((x) => x !== t)))
                    }
                    className="accent-sky-500"
                  />
                  {t}
                </label>
              ))}
            </div>
          )}
          {errors.events && <p className="text-xs text-red-400">{errors.events}</p>}
        </fieldset>
        {errors.form && <Alert tone="error">{errors.form}</Alert>}
        <div>
          <Button type="submit" variant="primary" busy={busy}>
            Add webhook
          </Button>
        </div>
      </form>
    </Panel>
  );
}

function WebhookCard({ row, onChanged }: { row: Row; onChanged: () => void }) {
  const { webhook, deliveries } = row;
  const { busy, error, run } = useRequest<'ping' | 'delete'>();
  const [confirm, setConfirm] = useState(false);
  const last = webhook.lastDelivery;

  const act = (action: 'ping' | 'delete') =>
    run(action, async () => {
      const api = new ApiClient();
      if (action === 'ping') await api.pingWebhook(webhook.id);
      else await api.deleteWebhook(webhook.id);
      setConfirm(false);
      onChanged();
    });

  return (
    <section
      aria-label={`Webhook ${webhook.url}`}
      data-testid="webhook-card"
      className="flex flex-col gap-3 rounded-lg border border-zinc-800 bg-zinc-900/60 p-4"
    >
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          <p className="font-mono text-sm break-all text-zinc-100">{webhook.url}</p>
          <div className="mt-1 flex flex-wrap gap-1">
            {webhook.events.map((e) => (
              <Badge key={e}>{e === '*' ? 'all events' : e}</Badge>
            ))}
          </div>
        </div>
        <div className="flex gap-2">
          <Button size="sm" busy={busy === 'ping'} onClick={() => void act('ping')}>
            Send test event
          </Button>
          <Button size="sm" variant="danger" onClick={() => setConfirm(true)}>
            Delete
          </Button>
        </div>
      </div>
      <p className="text-xs text-zinc-400" data-testid="webhook-last">
        Last delivery:{' '}
        {last ? (
          <>
            <Badge tone={STATE_TONE[last.state]}>{last.state}</Badge> {last.eventType}
            {last.responseStatus !== null && ` · HTTP ${last.responseStatus}`} · {last.attempts}{' '}
            {last.attempts === 1 ? 'attempt' : 'attempts'} · {formatTime(last.updatedAt)}
            {last.error && last.state !== 'delivered' && (
              <span className="text-red-300"> · {last.error}</span>
            )}
          </>
        ) : (
          'none yet'
        )}
      </p>
      <CopyField label="Signing secret" value={webhook.secret} secret />
      {deliveries.length > 0 && (
        <details className="rounded-md border border-zinc-800 bg-zinc-950/50 text-xs">
          <summary className="cursor-pointer px-3 py-2 text-zinc-300">Recent deliveries</summary>
          <div className="overflow-x-auto">
            <table className="w-full text-left">
              <thead className="text-zinc-500">
                <tr>
                  <th className="px-3 py-1 font-medium">Event</th>
                  <th className="px-3 py-1 font-medium">State</th>
                  <th className="hidden px-3 py-1 font-medium sm:table-cell">Attempts</th>
                  <th className="px-3 py-1 font-medium">Status</th>
                  <th className="px-3 py-1 font-medium">When</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.map((d) => (
                  <tr key={d.id} className="border-t border-zinc-800/70">
                    <td className="px-3 py-1 font-mono">{d.eventType}</td>
                    <td className="px-3 py-1">
                      <Badge tone={STATE_TONE[d.state]}>{d.state}</Badge>
                    </td>
                    <td className="hidden px-3 py-1 tabular-nums sm:table-cell">{d.attempts}</td>
                    <td className="px-3 py-1">{d.responseStatus ?? d.error ?? '—'}</td>
                    <td className="px-3 py-1">{formatTime(d.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
      {error && <Alert tone="error">{error}</Alert>}
      <ConfirmDialog
        open={confirm}
        title="Delete this webhook?"
        confirmLabel="Delete webhook"
        busy={busy === 'delete'}
        error={confirm ? error : undefined}
        onConfirm={() => void act('delete')}
        onClose={() => setConfirm(false)}
      >
        {webhook.url} stops getting events. Deliveries waiting for it are dropped.
      </ConfirmDialog>
    </section>
  );
}
