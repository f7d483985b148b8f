/** zod schemas shared by the server's routes and the browser's API client. */
import { z } from 'zod';
import { LADDER_NAMES, DEFAULT_LADDER } from './ladders.ts';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './events.ts';

export const CHANNEL_STATES = ['stopped', 'starting', 'running', 'stopping'] as const;
export type ChannelState = (typeof CHANNEL_STATES)[number];

/**
 * `encode`: one stream in, the ladder encoded by onair. `passthrough`: one H.264 stream in, repackaged.
 * `passthrough-abr`: several renditions in (one RTMP stream each), repackaged as one ladder.
 */
export const CHANNEL_MODES = ['encode', 'passthrough', 'passthrough-abr'] as const;
export type ChannelMode = (typeof CHANNEL_MODES)[number];

/** The two ingest points of a channel: the output follows the primary while it is healthy. */
export const INGEST_ROLES = ['primary', 'backup'] as const;
export type IngestRole = (typeof INGEST_ROLES)[number];

export const PROGRAM_STATES = ['stopped', 'running'] as const;
export type ProgramState = (typeof PROGRAM_STATES)[number];

export const MAX_RUNNING_PROGRAMS = 3;

/** `public`: anyone may watch; `token`: every viewer request needs a signed playback token. */
export const PLAYBACK_MODES = ['public', 'token'] as const;
export type PlaybackMode = (typeof PLAYBACK_MODES)[number];

/**
 * `low`: LL-HLS (parts, blocking reload) and low-latency DASH (chunked segments), about 2–3 s behind
 * live; `standard`: whole segments only, about three segments behind. The same media either way.
 */
export const LATENCY_MODES = ['low', 'standard'] as const;
export type LatencyMode = (typeof LATENCY_MODES)[number];

const cidr = z.union([z.cidrv4(), z.cidrv6(), z.ipv4(), z.ipv6()], {
  error: 'must be an IP address or CIDR such as 192.168.0.0/16',
});
const allowList = z.array(cidr).max(64, { error: 'at most 64 entries' });

/** Control characters (C0, DEL, C1): never part of a name. */
const CONTROL = /\p{Cc}/u;
/** Control characters other than tab and newline. */
const CONTROL_BUT_LINES = /[^\P{Cc}\t\n\r]/u;
/** A UTF-16 surrogate that is not half of a pair: not text, and not storable as UTF-8. */
const LONE_SURROGATE = /\p{Cs}/u;

const name = z
  .string()
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(100, { error: 'at most 100 characters' })
  .refine((v) => !CONTROL.test(v), { error: 'must not contain control characters' })
  .refine((v) => !LONE_SURROGATE.test(v), { error: 'must be valid Unicode text' });
const description = z
  .string()
  .max(1000, { error: 'at most 1000 characters' })
  .refine((v) => !CONTROL_BUT_LINES.test(v), { error: 'must not contain control characters' })
  .refine((v) => !LONE_SURROGATE.test(v), { error: 'must be valid Unicode text' });
const segmentSeconds = z
  .number({ error: 'must be a whole number of seconds from 1 to 10' })
  .int({ error: 'must be a whole number of seconds from 1 to 10' })
  .min(1, { error: 'must be a whole number of seconds from 1 to 10' })
  .max(10, { error: 'must be a whole number of seconds from 1 to 10' });
const mode = z.enum(CHANNEL_MODES, { error: `must be one of ${CHANNEL_MODES.join(', ')}` });
const ladder = z.enum(LADDER_NAMES, { error: `must be one of ${LADDER_NAMES.join(', ')}` });
const playback = z.enum(PLAYBACK_MODES, { error: `must be one of ${PLAYBACK_MODES.join(', ')}` });
const latency = z.enum(LATENCY_MODES, { error: `must be one of ${LATENCY_MODES.join(', ')}` });
/** SRT receiver latency: how long lost packets may take to be resent. */
export const DEFAULT_SRT_LATENCY_MS = 120;
const srtLatencyMs = z
  .number({ error: 'must be a whole number of milliseconds from 20 to 8000' })
  .int({ error: 'must be a whole number of milliseconds from 20 to 8000' })
  .min(20, { error: 'must be a whole number of milliseconds from 20 to 8000' })
  .max(8000, { error: 'must be a whole number of milliseconds from 20 to 8000' });

/** How the output moves back to the primary once it is healthy again after a failover. */
export const FAILBACK_MODES = ['manual', 'auto'] as const;
export type FailbackMode = (typeof FAILBACK_MODES)[number];

const failoverAfterMs = z
  .number({ error: 'must be a whole number of milliseconds from 250 to 10000' })
  .int({ error: 'must be a whole number of milliseconds from 250 to 10000' })
  .min(250, { error: 'must be a whole number of milliseconds from 250 to 10000' })
  .max(10_000, { error: 'must be a whole number of milliseconds from 250 to 10000' });
const slateAfterMs = z
  .number({ error: 'must be 0 (no slate) or milliseconds from 500 to 60000' })
  .int({ error: 'must be 0 (no slate) or milliseconds from 500 to 60000' })
  .refine((v) => v === 0 || (v >= 500 && v <= 60_000), {
    error: 'must be 0 (no slate) or milliseconds from 500 to 60000',
  });
const failback = z.enum(FAILBACK_MODES, { error: `must be one of ${FAILBACK_MODES.join(', ')}` });

export const ChannelCreateSchema = z.strictObject({
  name,
  description: description.default(''),
  mode: mode.default('encode'),
  ladder: ladder.default(DEFAULT_LADDER),
  segmentSeconds: segmentSeconds.default(2),
  ingest: allowList.default([]),
  preview: allowList.default([]),
  playback: playback.default('public'),
  latency: latency.default('low'),
  srtLatencyMs: srtLatencyMs.default(DEFAULT_SRT_LATENCY_MS),
  failoverAfterMs: failoverAfterMs.default(1000),
  slateAfterMs: slateAfterMs.default(2000),
  failback: failback.default('manual'),
});
export type ChannelCreate = z.input<typeof ChannelCreateSchema>;

export const ChannelPatchSchema = z.strictObject({
  name: name.optional(),
  description: description.optional(),
  mode: mode.optional(),
  ladder: ladder.optional(),
  segmentSeconds: segmentSeconds.optional(),
  ingest: allowList.optional(),
  preview: allowList.optional(),
  playback: playback.optional(),
  latency: latency.optional(),
  srtLatencyMs: srtLatencyMs.optional(),
  failoverAfterMs: failoverAfterMs.optional(),
  slateAfterMs: slateAfterMs.optional(),
  failback: failback.optional(),
});
export type ChannelPatch = z.input<typeof ChannelPatchSchema>;

const archiveWindowMinutes = z
  .number({ error: 'must be a whole number of minutes from 1 to 1500' })
  .int({ error: 'must be a whole number of minutes from 1 to 1500' })
  .min(1, { error: 'must be a whole number of minutes from 1 to 1500' })
  .max(1500, { error: 'must be a whole number of minutes from 1 to 1500' });

export const ProgramCreateSchema = z.strictObject({
  name,
  archiveWindowMinutes: archiveWindowMinutes.default(60),
});
export type ProgramCreate = z.input<typeof ProgramCreateSchema>;

/** A playback token lives from 1 minute to 1 year. */
export const PLAYBACK_TOKEN_MAX_SECONDS = 366 * 24 * 3600;
const expiresInSeconds = z
  .number({ error: `must be a whole number of seconds from 60 to ${PLAYBACK_TOKEN_MAX_SECONDS}` })
  .int({ error: `must be a whole number of seconds from 60 to ${PLAYBACK_TOKEN_MAX_SECONDS}` })
  .min(60, { error: `must be a whole number of seconds from 60 to ${PLAYBACK_TOKEN_MAX_SECONDS}` })
  .max(PLAYBACK_TOKEN_MAX_SECONDS, {
    error: `must be a whole number of seconds from 60 to ${PLAYBACK_TOKEN_MAX_SECONDS}`,
  });
const objectId = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}_[0-9a-z]{14}$`), { error: `must be an id such as ${prefix}_…` });

export const PlaybackTokenCreateSchema = z.strictObject({
  expiresInSeconds: expiresInSeconds.default(24 * 3600),
  /** Narrows the token to one program (its DVR window) of the channel. */
  programId: objectId('pg').optional(),
  /** Narrows the token to one asset (recording) of the channel. */
  assetId: objectId('as').optional(),
});
export type PlaybackTokenCreate = z.input<typeof PlaybackTokenCreateSchema>;

const WEBHOOK_EVENT_CHOICES = ['*', ...WEBHOOK_EVENT_TYPES] as const;
export const WebhookCreateSchema = z.strictObject({
  url: z
    .string({ error: 'must be an http(s) URL' })
    .max(2000, { error: 'at most 2000 characters' })
    .refine(
      (v) => {
        try {
          const u = new URL(v);
          return (
            (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === ''
          );
        } catch {
          return false;
        }
      },
      { error: 'must be an http(s) URL without user name or password' },
    ),
  events: z
    .array(
      z.enum(WEBHOOK_EVENT_CHOICES, { error: `must be "*" or one of ${WEBHOOK_EVENT_TYPES.join(', ')}` }),
    )
    .min(1, { error: 'name at least one event, or "*" for all' })
    .max(WEBHOOK_EVENT_CHOICES.length, { error: 'too many events' })
    .transform((v) => [...new Set(v)]),
  description: description.default(''),
});
export type WebhookCreate = z.input<typeof WebhookCreateSchema>;
/**
 * A clip of a program: an ISO time range, or offsets in seconds back from the
 * live edge (the end of what the program recorded). Segment-accurate: the
 * clip takes every segment that starts within the range.
 */
export const ClipCreateSchema = z
  .strictObject({
    name,
    start: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time' }).optional(),
    end: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time' }).optional(),
    startOffsetSeconds: z
      .number({ error: 'must be a number of seconds' })
      .min(0, { error: 'must be 0 or more' })
      .max(90_000, { error: 'must be at most 90000' })
      .optional(),
    endOffsetSeconds: z
      .number({ error: 'must be a number of seconds' })
      .min(0, { error: 'must be 0 or more' })
      .max(90_000, { error: 'must be at most 90000' })
      .optional(),
  })
  .superRefine((v, ctx) => {
    const absolute = v.start !== undefined || v.end !== undefined;
    const relative = v.startOffsetSeconds !== undefined || v.endOffsetSeconds !== undefined;
    if (absolute && relative) {
      ctx.addIssue({ code: 'custom', path: ['start'], message: 'give start/end or offsets, not both' });
    } else if (absolute && (v.start === undefined || v.end === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [v.start === undefined ? 'start' : 'end'],
        message: 'is required',
      });
    } else if (!absolute && v.startOffsetSeconds === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['startOffsetSeconds'],
        message: 'is required (or start and end)',
      });
    } else if (absolute && Date.parse(v.end!) <= Date.parse(v.start!)) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'must be after start' });
    } else if (relative && (v.endOffsetSeconds ?? 0) >= v.startOffsetSeconds!) {
      ctx.addIssue({
        code: 'custom',
        path: ['endOffsetSeconds'],
        message: 'must be less than startOffsetSeconds',
      });
    }
  });
export type ClipCreate = z.input<typeof ClipCreateSchema>;

export const AssetPatchSchema = z.strictObject({
  name: name.optional(),
  published: z.boolean({ error: 'must be true or false' }).optional(),
});
export type AssetPatch = z.input<typeof AssetPatchSchema>;

export const PageQuerySchema = z.object({
  limit: z.coerce
    .number({ error: 'must be a number from 1 to 200' })
    .int({ error: 'must be a whole number from 1 to 200' })
    .min(1, { error: 'must be from 1 to 200' })
    .max(200, { error: 'must be from 1 to 200' })
    .default(50),
  offset: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(0, { error: 'must be 0 or more' })
    .default(0),
});
export type PageQuery = z.output<typeof PageQuerySchema>;

export interface ChannelUrls {
  whip: string;
  /** RTMP server URL for encoders (`rtmp://host/live`); the stream key is the key. Null when RTMP is off. */
  rtmp: string | null;
  /** The same over TLS (`rtmps://host:port/live`), when a certificate is configured. */
  rtmps: string | null;
  /** The full SRT URL an encoder pastes, key (passphrase) included. Null when SRT is off or has no port for the channel. */
  srt: string | null;
  /** The RTMP server URL of the backup input (`rtmp://host/live-backup`; same stream key). */
  rtmpBackup: string | null;
  /** The full SRT URL of the backup input (its own port; same key). */
  srtBackup: string | null;
  /** The backup ingest point (same stream key). */
  whipBackup: string;
  /** Real-time playback (WHEP). */
  whep: string;
  hls: string;
  dash: string;
  watch: string;
  embed: string;
}

export interface Channel {
  id: string;
  name: string;
  description: string;
  state: ChannelState;
  mode: ChannelMode;
  ladder: (typeof LADDER_NAMES)[number];
  segmentSeconds: number;
  streamKey: string;
  ingest: string[];
  preview: string[];
  playback: PlaybackMode;
  latency: LatencyMode;
  /** An input that sends no media for this long has failed: the output moves to the other one. */
  failoverAfterMs: number;
  /** With no input for this long, viewers see the slate (0: no slate). */
  slateAfterMs: number;
  failback: FailbackMode;
  /** SRT receiver latency (ms). */
  srtLatencyMs: number;
  /** The UDP port of the channel's SRT listener, or null (SRT off, or no port left in the range). */
  srtPort: number | null;
  /** The UDP port of its backup SRT listener, or null. */
  srtBackupPort: number | null;
  urls: ChannelUrls;
  live: boolean;
  /** Bytes the channel's live window and running programs keep on disk. */
  bytes: number;
  createdAt: string;
  updatedAt: string;
}

export interface PlaybackUrls {
  hls: string;
  dash: string;
  watch: string;
  embed: string;
}

export interface Program {
  id: string;
  channelId: string;
  name: string;
  archiveWindowMinutes: number;
  state: ProgramState;
  startedAt: string | null;
  stoppedAt: string | null;
  assetId: string | null;
  createdAt: string;
}

/** A program as the API shows it: what it recorded so far, and where to watch it. */
export interface ProgramView extends Program {
  /** Seconds of media in its window (running) or in its asset (stopped). */
  durationSeconds: number;
  bytes: number;
  urls: PlaybackUrls;
}

export const ASSET_KINDS = ['program', 'clip'] as const;
export type AssetKind = (typeof ASSET_KINDS)[number];
export const ASSET_STATUSES = ['processing', 'ready', 'failed'] as const;
export type AssetStatus = (typeof ASSET_STATUSES)[number];

export interface Asset {
  id: string;
  programId: string;
  channelId: string;
  name: string;
  kind: AssetKind;
  /** `processing` while its files are being kept; `ready` plays. */
  status: AssetStatus;
  /** Unpublished assets answer 404 publicly and stay in the API. */
  published: boolean;
  durationSeconds: number;
  /** Bytes on disk (segments, poster, download file). */
  bytes: number;
  /** The recorded span (program time), or null for recordings made before onair kept it. */
  rangeStart: string | null;
  rangeEnd: string | null;
  createdAt: string;
}

export interface AssetView extends Asset {
  urls: PlaybackUrls & { poster: string; download: string };
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface PlaybackToken {
  token: string;
  channelId: string;
  programId?: string;
  assetId?: string;
  expiresAt: string;
  /** The channel's URLs with the token in them: the HLS/DASH URLs carry it in the path, the pages in `?token=`. */
  urls: Omit<
    ChannelUrls,
    'whip' | 'whipBackup' | 'whep' | 'rtmp' | 'rtmps' | 'srt' | 'rtmpBackup' | 'srtBackup'
  >;
}

export type WebhookSubscription = WebhookEventType | '*';

export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface WebhookDelivery {
  id: number;
  webhookId: string;
  eventId: string;
  eventType: WebhookEventType;
  state: DeliveryState;
  attempts: number;
  /** The receiver's last HTTP status, or null when it did not answer. */
  responseStatus: number | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  nextAttemptAt: string | null;
}

export interface Webhook {
  id: string;
  url: string;
  events: WebhookSubscription[];
  description: string;
  /** The HMAC key of the X-Onair-Signature header. */
  secret: string;
  createdAt: string;
  lastDelivery: WebhookDelivery | null;
}
