/** Channel events: what happened to a channel, as the API lists it and the console shows it. */
export const CHANNEL_EVENT_TYPES = [
  'channel.created',
  'channel.started',
  'channel.start_failed',
  'channel.stopped',
  'channel.reset',
  'program.started',
  'program.stopped',
  'asset.ready',
  'asset.failed',
  'asset.deleted',
  'publisher.connected',
  'publisher.disconnected',
  'publisher.keyframes_misaligned',
  'input.failover',
  'input.restored',
  'slate.on',
  'slate.off',
  'encoder.started',
  'encoder.stopped',
  'encoder.failed',
  'encoder.restarted',
] as const;

export type ChannelEventType = (typeof CHANNEL_EVENT_TYPES)[number];

export interface ChannelEvent {
  id: number;
  channelId: string;
  at: string;
  type: ChannelEventType;
  message: string;
}

/**
 * What a webhook can subscribe to: every channel event (asset events among
 * them), and `webhook.ping` (sent on request, to try a receiver). `*` subscribes to all.
 */
export const WEBHOOK_EVENT_TYPES = [...CHANNEL_EVENT_TYPES, 'webhook.ping'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The JSON body of every webhook delivery. */
export interface WebhookEvent {
  /** Unique per event (`evt_…`); the same in every retry. */
  id: string;
  type: WebhookEventType;
  /** When it happened (ISO 8601). */
  at: string;
  data: {
    channelId?: string;
    programId?: string;
    assetId?: string;
    message: string;
  };
}
