/**
 * The store's seam: one async interface per aggregate. node:sqlite
 * (sqlite-*.ts) is the embedded implementation; another database plugs in
 * here, so no caller may rely on a read being synchronous. Repositories know
 * rows, not rules: state rules live in server/core.
 */
import type {
  Asset,
  Channel,
  PlaybackMode,
  Program,
  ProgramState,
  Webhook,
  WebhookDelivery,
} from '../../lib/schemas.ts';

/** Rows as the API shows them, less what is computed at read time (urls, live). */
export type ChannelRecord = Omit<Channel, 'urls' | 'live' | 'bytes'>;
export type ProgramRecord = Program;
/** Who may watch an asset: its channel's preview allow-list and playback mode when it was made. */
export interface AssetAccess {
  preview: string[];
  playback: PlaybackMode;
}
/**
 * An asset as stored: its access travels with it, so deleting the channel never widens it. Null for a
 * row older than that whose channel was gone when the store was migrated: nobody may watch it.
 */
export type AssetRecord = Asset & { access: AssetAccess | null };
/** A webhook as stored: the API adds its last delivery. */
export type WebhookRecord = Omit<Webhook, 'lastDelivery'>;
export type DeliveryRecord = WebhookDelivery;

export interface ChannelEventRecord {
  id: number;
  channelId: string;
  at: string;
  type: string;
  message: string;
}

export interface Page<T> {
  items: T[];
  total: number;
}

// ── the durable segment index ────────────────────────────────────────────
// A timeline belongs to an owner: a channel (its live window and running
// programs, files under media/<channelId>/live) or an asset (media/assets/<id>).

export interface SavedSegment {
  number: number;
  seq: number;
  uri: string;
  start: number;
  duration: number;
  pdt: number;
  bytes: number;
}

export interface SavedTrack {
  trackId: string;
  ord: number;
  /** The packager's track info, as JSON. */
  info: unknown;
  initUri: string;
  discontinuity: number;
  firstStart: number | null;
  segments: SavedSegment[];
}

export interface SavedRun {
  runId: string;
  startedAt: number;
  anchor: number | null;
  ended: boolean;
  tracks: SavedTrack[];
}

export type SegmentKey = { runId: string; trackId: string; number: number };

/** One change to a timeline; a batch of them is written at once. */
export type TimelineOp =
  | { op: 'run'; run: Omit<SavedRun, 'tracks'> }
  | { op: 'track'; runId: string; track: Omit<SavedTrack, 'segments'> }
  | { op: 'segment'; runId: string; trackId: string; segment: SavedSegment }
  | { op: 'drop-segment'; key: SegmentKey }
  | { op: 'drop-run'; runId: string };

export interface ChannelRepository {
  insert(c: ChannelRecord): Promise<void>;
  update(c: ChannelRecord): Promise<void>;
  get(id: string): Promise<ChannelRecord | undefined>;
  list(limit: number, offset: number): Promise<Page<ChannelRecord>>;
  all(): Promise<ChannelRecord[]>;
  delete(id: string): Promise<void>;
  /** SRT ports given to channels, in use or not. */
  usedSrtPorts(): Promise<Set<number>>;
  count(): Promise<number>;
  /** Channels that hold media resources: starting, running or stopping. */
  countActive(): Promise<number>;
}

export interface ProgramRepository {
  insert(p: ProgramRecord): Promise<void>;
  update(p: ProgramRecord): Promise<void>;
  /** A program stopped and the asset it became, written together. */
  finish(p: ProgramRecord, asset: AssetRecord): Promise<void>;
  get(id: string): Promise<ProgramRecord | undefined>;
  list(channelId: string, limit: number, offset: number): Promise<Page<ProgramRecord>>;
  ofChannel(channelId: string, state?: ProgramState): Promise<ProgramRecord[]>;
  countByState(): Promise<Record<string, number>>;
  delete(id: string): Promise<void>;
}

export interface AssetRepository {
  insert(a: AssetRecord): Promise<void>;
  update(a: AssetRecord): Promise<void>;
  get(id: string): Promise<AssetRecord | undefined>;
  list(limit: number, offset: number): Promise<Page<AssetRecord>>;
  all(): Promise<AssetRecord[]>;
  ofProgram(programId: string): Promise<AssetRecord[]>;
  delete(id: string): Promise<void>;
}

export interface TimelineRepository {
  /** Applies a batch of changes to one owner's timeline, all or nothing. */
  apply(owner: string, ops: readonly TimelineOp[]): Promise<void>;
  /** Replaces an owner's whole timeline (an asset's recording), all or nothing. */
  replace(owner: string, runs: readonly SavedRun[]): Promise<void>;
  /** A whole timeline, runs in start order, tracks in declaration order, segments by number. */
  load(owner: string): Promise<SavedRun[]>;
  delete(owner: string): Promise<void>;
  /** Bytes of the segments an owner's timeline lists. */
  bytes(owner: string): Promise<number>;
  /** The owners that have a saved timeline. */
  owners(): Promise<string[]>;
  /** The epoch of a channel's output (DASH availabilityStartTime), kept across restarts. */
  outputStartedAt(channelId: string): Promise<number | undefined>;
  setOutputStartedAt(channelId: string, startedAt: number | undefined): Promise<void>;
}

export interface EventRepository {
  insert(channelId: string, type: string, message: string, at?: string): Promise<void>;
  list(channelId: string, limit: number, offset: number): Promise<Page<ChannelEventRecord>>;
  clear(channelId: string): Promise<void>;
}

export interface SessionRepository {
  /** Adds a session; drops expired ones and those of another admin token; keeps the newest `keep`. */
  create(
    s: { idHash: string; adminFingerprint: string; createdAt: string; expiresAt: number },
    keep: number,
  ): Promise<void>;
  /** The session's expiry (Unix seconds) if it exists for this admin token. */
  expiry(idHash: string, adminFingerprint: string): Promise<number | undefined>;
  delete(idHash: string): Promise<void>;
  /** Drops expired sessions and those of another admin token; returns how many are left. */
  prune(adminFingerprint: string, now: number): Promise<number>;
}

export interface WebhookRepository {
  insert(w: WebhookRecord): Promise<void>;
  get(id: string): Promise<WebhookRecord | undefined>;
  all(): Promise<WebhookRecord[]>;
  delete(id: string): Promise<void>;
  /** Records a delivery to make (state pending) and returns its id. */
  insertDelivery(d: Omit<DeliveryRecord, 'id'>, payload: string): Promise<number>;
  updateDelivery(d: DeliveryRecord): Promise<void>;
  listDeliveries(webhookId: string, limit: number, offset: number): Promise<Page<DeliveryRecord>>;
  lastDelivery(webhookId: string): Promise<DeliveryRecord | undefined>;
  /** Deliveries still to make (after a restart), oldest first, with their bodies. */
  pendingDeliveries(): Promise<{ delivery: DeliveryRecord; payload: string }[]>;
  /** Keeps the newest `keep` finished deliveries of a webhook. */
  trimDeliveries(webhookId: string, keep: number): Promise<void>;
}

/** Everything the server persists, one repository per aggregate, with one lifecycle. */
export interface Store {
  channels: ChannelRepository;
  programs: ProgramRepository;
  assets: AssetRepository;
  timelines: TimelineRepository;
  events: EventRepository;
  sessions: SessionRepository;
  webhooks: WebhookRepository;
  schemaVersion(): Promise<number>;
  /** Idempotent. */
  close(): Promise<void>;
}
