/** zod schemas shared by the server's routes and the browser's API client. */
import { z } from 'zod';
import { LADDER_NAMES, DEFAULT_LADDER } from './ladders.ts';

export const CHANNEL_STATES = ['stopped', 'starting', 'running', 'stopping'] as const;
export type ChannelState = (typeof CHANNEL_STATES)[number];

export const CHANNEL_MODES = ['encode', 'passthrough'] as const;
export type ChannelMode = (typeof CHANNEL_MODES)[number];

export const PROGRAM_STATES = ['stopped', 'running'] as const;
export type ProgramState = (typeof PROGRAM_STATES)[number];

export const MAX_RUNNING_PROGRAMS = 3;

const cidr = z.union([z.cidrv4(), z.cidrv6(), z.ipv4(), z.ipv6()], {
  error: 'must be an IP address or CIDR such as 192.168.0.0/16',
});
const allowList = z.array(cidr).max(64, { error: 'at most 64 entries' });

const name = z
  .string()
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(100, { error: 'at most 100 characters' });
const description = z.string().max(1000, { error: 'at most 1000 characters' });
const segmentSeconds = z
  .number({ error: 'must be a whole number of seconds from 1 to 10' })
  .int({ error: 'must be a whole number of seconds from 1 to 10' })
  .min(1, { error: 'must be a whole number of seconds from 1 to 10' })
  .max(10, { error: 'must be a whole number of seconds from 1 to 10' });
const mode = z.enum(CHANNEL_MODES, { error: `must be one of ${CHANNEL_MODES.join(', ')}` });
const ladder = z.enum(LADDER_NAMES, { error: `must be one of ${LADDER_NAMES.join(', ')}` });

export const ChannelCreateSchema = z.strictObject({
  name,
  description: description.default(''),
  mode: mode.default('encode'),
  ladder: ladder.default(DEFAULT_LADDER),
  segmentSeconds: segmentSeconds.default(2),
  ingest: allowList.default([]),
  preview: allowList.default([]),
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
