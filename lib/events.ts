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
