/**
 * The onair REST client, shared by the console (cookie session) and scripts or
 * tests (bearer token). Errors come back as ApiError with the server's stable code.
 */
import type { ErrorCode } from './errors.ts';
import { isErrorBody } from './errors.ts';
import type { ChannelEvent } from './events.ts';
import type {
  AssetPatch,
  AssetView,
  Channel,
  ChannelCreate,
  ChannelPatch,
  ClipCreate,
  Page,
  PlaybackToken,
  PlaybackTokenCreate,
  ProgramCreate,
  ProgramView,
  Webhook,
  WebhookCreate,
  WebhookDelivery,
} from './schemas.ts';
import type { ChannelStats } from './stats.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode | 'network_error';
  readonly field: string | undefined;

  constructor(status: number, code: ErrorCode | 'network_error', message: string, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export type { ChannelEvent } from './events.ts';
export type { ChannelStats, IngestSample } from './stats.ts';

export interface ApiClientOptions {
  baseUrl?: string;
  token?: string;
  fetch?: typeof fetch;
}

export class ApiClient {
  readonly #base: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;

  constructor(opts: ApiClientOptions = {}) {
    this.#base = (opts.baseUrl ?? '').replace(/\/+$/, '');
    this.#token = opts.token;
    this.#fetch = opts.fetch ?? ((...a) => fetch(...a));
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.#token) headers.Authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'network_error', `cannot reach the onair server (${(err as Error).message})`);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      if (isErrorBody(json))
        throw new ApiError(res.status, json.error.code, json.error.message, json.error.field);
      throw new ApiError(res.status, 'internal_error', `the server answered ${res.status}`);
    }
    return json as T;
  }

  listChannels(limit = 200, offset = 0) {
    return this.request<Page<Channel>>('GET', `/api/v1/channels?limit=${limit}&offset=${offset}`);
  }
  getChannel(id: string) {
    return this.request<Channel>('GET', `/api/v1/channels/${encodeURIComponent(id)}`);
  }
  createChannel(input: ChannelCreate) {
    return this.request<Channel>('POST', '/api/v1/channels', input);
  }
  updateChannel(id: string, patch: ChannelPatch) {
    return this.request<Channel>('PATCH', `/api/v1/channels/${encodeURIComponent(id)}`, patch);
  }
  deleteChannel(id: string) {
    return this.request<void>('DELETE', `/api/v1/channels/${encodeURIComponent(id)}`);
  }
  channelAction(id: string, action: 'start' | 'stop' | 'reset') {
    return this.request<Channel>('POST', `/api/v1/channels/${encodeURIComponent(id)}/${action}`);
  }
  /** An operator's switch between the primary and backup inputs (default: the other one). */
  switchInput(id: string, to?: 'primary' | 'backup') {
    return this.request<{ active: string }>(
      'POST',
      `/api/v1/channels/${encodeURIComponent(id)}/ingest/switch`,
      to ? { to } : {},
    );
  }
  /** The channel's slate picture (PNG or JPEG, at most 2 MiB); null goes back to the default card. */
  async setSlate(id: string, image: Blob | null) {
    if (image === null)
      return this.request<void>('DELETE', `/api/v1/channels/${encodeURIComponent(id)}/slate`);
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}/api/v1/channels/${encodeURIComponent(id)}/slate`, {
        method: 'PUT',
        headers: {
          'Content-Type': image.type || 'application/octet-stream',
          ...(this.#token ? { Authorization: `Bearer ${this.#token}` } : {}),
        },
        body: image,
        credentials: 'same-origin',
      });
    } catch (err) {
      throw new ApiError(0, 'network_error', `cannot reach the onair server (${(err as Error).message})`);
    }
    if (!res.ok) {
      const json = (await res.json().catch(() => undefined)) as unknown;
      if (isErrorBody(json))
        throw new ApiError(res.status, json.error.code, json.error.message, json.error.field);
      throw new ApiError(res.status, 'internal_error', `the server answered ${res.status}`);
    }
  }
  channelStats(id: string) {
    return this.request<ChannelStats>('GET', `/api/v1/channels/${encodeURIComponent(id)}/stats`);
  }
  channelEvents(id: string, limit = 50) {
    return this.request<Page<ChannelEvent>>(
      'GET',
      `/api/v1/channels/${encodeURIComponent(id)}/events?limit=${limit}`,
    );
  }
  listPrograms(channelId: string) {
    return this.request<Page<ProgramView>>(
      'GET',
      `/api/v1/channels/${encodeURIComponent(channelId)}/programs?limit=200`,
    );
  }
  createProgram(channelId: string, input: ProgramCreate) {
    return this.request<ProgramView>(
      'POST',
      `/api/v1/channels/${encodeURIComponent(channelId)}/programs`,
      input,
    );
  }
  getProgram(id: string) {
    return this.request<ProgramView>('GET', `/api/v1/programs/${encodeURIComponent(id)}`);
  }
  programAction(id: string, action: 'start' | 'stop') {
    return this.request<ProgramView>('POST', `/api/v1/programs/${encodeURIComponent(id)}/${action}`);
  }
  createClip(programId: string, input: ClipCreate) {
    return this.request<AssetView>('POST', `/api/v1/programs/${encodeURIComponent(programId)}/clips`, input);
  }
  deleteProgram(id: string) {
    return this.request<void>('DELETE', `/api/v1/programs/${encodeURIComponent(id)}`);
  }
  listAssets() {
    return this.request<Page<AssetView>>('GET', '/api/v1/assets?limit=200');
  }
  updateAsset(id: string, patch: AssetPatch) {
    return this.request<AssetView>('PATCH', `/api/v1/assets/${encodeURIComponent(id)}`, patch);
  }
  deleteAsset(id: string) {
    return this.request<void>('DELETE', `/api/v1/assets/${encodeURIComponent(id)}`);
  }
  mintPlaybackToken(channelId: string, input: PlaybackTokenCreate = {}) {
    return this.request<PlaybackToken>(
      'POST',
      `/api/v1/channels/${encodeURIComponent(channelId)}/playback-tokens`,
      input,
    );
  }
  rotatePlaybackSecret() {
    return this.request<{ rotatedAt: string }>('POST', '/api/v1/playback-secret/rotate');
  }
  listWebhooks() {
    return this.request<Page<Webhook>>('GET', '/api/v1/webhooks');
  }
  createWebhook(input: WebhookCreate) {
    return this.request<Webhook>('POST', '/api/v1/webhooks', input);
  }
  deleteWebhook(id: string) {
    return this.request<void>('DELETE', `/api/v1/webhooks/${encodeURIComponent(id)}`);
  }
  webhookDeliveries(id: string, limit = 20) {
    return this.request<Page<WebhookDelivery>>(
      'GET',
      `/api/v1/webhooks/${encodeURIComponent(id)}/deliveries?limit=${limit}`,
    );
  }
  pingWebhook(id: string) {
    return this.request<WebhookDelivery>('POST', `/api/v1/webhooks/${encodeURIComponent(id)}/ping`);
  }
}

/** Words a person understands, for the codes a console user can run into. */
export function describeError(err: unknown): string {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  if (err.code === 'channel_running') return `${err.message}.`.replace(/\.\.$/, '.');
  const words = API_WORDS[err.code];
  if (words) return words;
  return err.message.charAt(0).toUpperCase() + err.message.slice(1) + (err.message.endsWith('.') ? '' : '.');
}

const API_WORDS: Partial<Record<string, string>> = {
  unauthorized: 'Your session has expired or the admin token is wrong. Sign in again.',
  network_error: 'The onair server cannot be reached. Check that it is running.',
  cross_origin_request:
    'The server refused a request that did not come from the console itself. Reload the page.',
  rate_limited: 'Too many failed attempts from your address. Wait a minute, then try again.',
};
