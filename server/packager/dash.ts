/**
 * MPEG-DASH MPD (ISO/IEC 23009-1, live profile) rendered from the timeline.
 * One Period per run, so an FFmpeg restart (new init, timestamps from zero) is
 * a Period boundary. Served from /live/<channelId>/manifest.mpd; the timeline's
 * uris are relative to that directory.
 */
import {
  longestSegmentSeconds,
  runsEnd,
  type Run,
  type RunTrack,
  type Segment,
  type TimelineView,
} from './timeline.ts';

export interface DashOptions {
  /** Epoch ms; Period starts are relative to it, so it must stay fixed for the channel's lifetime. */
  availabilityStartTime: number;
  publishTime: number;
  minimumUpdatePeriodSeconds: number;
  timeShiftBufferDepthSeconds: number;
  suggestedPresentationDelaySeconds: number;
  minBufferTimeSeconds: number;
  utcTimingUrl: string;
  ended: boolean;
  /**
   * On-demand (an asset, a clip): each Period starts at its first segment in the
   * view, not at its run's first segment ever (a clip starts mid-run).
   */
  vod?: boolean;
  /**
   * Low-latency DASH: the segment being written is listed (with the expected
   * duration) and may be fetched `availabilityTimeOffset` early, delivered in
   * chunks as its parts are written; a ServiceDescription sets the latency target.
   */
  lowLatency?: DashLowLatency;
}

export interface DashLowLatency {
  segmentSeconds: number;
  partSeconds: number;
  targetLatencySeconds: number;
  /**
   * A DVR window the viewer may scrub back in: no maximum latency (dash.js seeks a player beyond it
   * back to live).
   */
  seekable?: boolean;
}

function esc(value: string | number): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function attrs(pairs: ReadonlyArray<readonly [string, string | number | undefined]>): string {
  let out = '';
  for (const [k, v] of pairs) if (v !== undefined) out += ` ${k}="${esc(v)}"`;
  return out;
}

/** The longest complete segment of the view, as an xs:duration (none yet: absent). */
function maxSegmentSeconds(view: TimelineView): string | undefined {
  const longest = longestSegmentSeconds(view);
  return longest > 0 ? duration(Math.ceil(longest * 1000) / 1000) : undefined;
}

/** xs:duration with millisecond precision, e.g. PT2S, PT12.345S. */
function duration(seconds: number): string {
  return `PT${Number(Math.max(0, seconds).toFixed(3))}S`;
}

const iso = (ms: number): string => new Date(Math.round(ms)).toISOString();

/** DASH FrameRateType is an integer or a fraction, never a decimal. */
function frameRate(fps: number | undefined): string | undefined {
  if (fps === undefined || !(fps > 0)) return undefined;
  if (Math.abs(fps - Math.round(fps)) < 0.001) return String(Math.round(fps));
  const ntsc = Math.round((fps * 1001) / 1000);
  if (Math.abs(fps - (ntsc * 1000) / 1001) < 0.001) return `${ntsc * 1000}/1001`;
  return `${Math.round(fps * 1000)}/1000`;
}

/**
 * The segments addressable by one $Number$ template: the trailing run of
 * consecutive file numbers (a number gap cannot be expressed).
 */
function addressable(segments: readonly Segment[]): Segment[] {
  let from = 0;
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1];
    const cur = segments[i];
    if (prev && cur && cur.number !== prev.number + 1) from = i;
  }
  return segments.slice(from);
}

function segmentTimeline(segments: readonly Segment[], indent: string): string[] {
  const entries: Array<{ t: number; d: number; r: number }> = [];
  for (const s of segments) {
    const last = entries[entries.length - 1];
    if (last && last.d === s.duration && last.t + last.d * (last.r + 1) === s.start) last.r++;
    else entries.push({ t: s.start, d: s.duration, r: 0 });
  }
  return entries.map(
    (e) =>
      `${indent}<S${attrs([
        ['t', e.t],
        ['d', e.d],
        ['r', e.r > 0 ? e.r : undefined],
      ])}/>`,
  );
}

/** Program time (epoch ms) at which a Period of this run starts. */
function periodStart(run: Run, opts: DashOptions): number | undefined {
  if (!opts.vod) return run.anchor;
  let first: number | undefined;
  for (const t of run.tracks.values()) {
    const s = t.segments[0];
    if (s && (first === undefined || s.pdt < first)) first = s.pdt;
  }
  return first;
}

function segmentTemplate(
  run: Run,
  track: RunTrack,
  startPdt: number,
  indent: string,
  ll: DashLowLatency | undefined,
): string[] {
  const listed: Segment[] = [...track.segments];
  const last = listed.at(-1);
  if (ll && last && !run.ended) {
    // The segment being written (or, between two, the next one): listed with the expected
    // duration, fetched early and sent in chunks. The next refresh has the real duration.
    const d = Math.round(ll.segmentSeconds * track.info.timescale);
    const pending = track.pending?.number === last.number + 1 ? track.pending : undefined;
    listed.push({
      ...last,
      seq: last.seq + 1,
      number: last.number + 1,
      uri: pending?.uri ?? last.uri,
      start: pending?.start ?? last.start + last.duration,
      duration: d,
      bytes: 0,
    });
  }
  const segments = addressable(listed);
  const first = segments[0];
  if (!first) return [];
  const firstStart = track.firstStart ?? first.start;
  // The media time at the Period's start: for live, the run's first segment ever (fixed, so the
  // Period's timing never shifts between refreshes); on demand, where the view starts.
  const pto =
    run.anchor === undefined
      ? firstStart
      : Math.round(firstStart + ((startPdt - run.anchor) * track.info.timescale) / 1000);
  const template = attrs([
    ['timescale', track.info.timescale],
    ['presentationTimeOffset', pto],
    ['initialization', track.initUri],
    ['media', `${run.id}/${track.info.id}/seg_$Number%05d$.m4s`],
    ['startNumber', first.number],
    ['availabilityTimeOffset', ll ? Number((ll.segmentSeconds - ll.partSeconds).toFixed(3)) : undefined],
    ['availabilityTimeComplete', ll ? 'false' : undefined],
  ]);
  return [
    `${indent}<SegmentTemplate${template}>`,
    `${indent}  <SegmentTimeline>`,
    ...segmentTimeline(segments, `${indent}    `),
    `${indent}  </SegmentTimeline>`,
    `${indent}</SegmentTemplate>`,
  ];
}

function renderPeriod(run: Run, opts: DashOptions): string[] {
  const startPdt = periodStart(run, opts);
  if (run.anchor === undefined || startPdt === undefined) return [];
  const tracks = [...run.tracks.values()].filter((t) => t.segments.length > 0);
  const video = tracks
    .filter((t) => t.info.kind === 'video')
    .sort((a, b) => b.info.bandwidth - a.info.bandwidth);
  const audio = tracks
    .filter((t) => t.info.kind === 'audio')
    .sort((a, b) => b.info.bandwidth - a.info.bandwidth);
  // The anchor is the program time of every track's first segment in the run.
  const start = (startPdt - opts.availabilityStartTime) / 1000;
  const lines = [
    `  <Period${attrs([
      ['id', run.id],
      ['start', duration(start)],
    ])}>`,
  ];
  if (video.length > 0) {
    const maxWidth = Math.max(...video.map((t) => t.info.width ?? 0));
    const maxHeight = Math.max(...video.map((t) => t.info.height ?? 0));
    lines.push(
      `    <AdaptationSet${attrs([
        ['id', 0],
        ['contentType', 'video'],
        ['mimeType', 'video/mp4'],
        ['segmentAlignment', 'true'],
        ['startWithSAP', 1],
        ['maxWidth', maxWidth > 0 ? maxWidth : undefined],
        ['maxHeight', maxHeight > 0 ? maxHeight : undefined],
      ])}>`,
    );
    for (const t of video) {
      lines.push(
        `      <Representation${attrs([
          ['id', t.info.id],
          ['bandwidth', Math.round(t.info.bandwidth)],
          ['codecs', t.info.codec],
          ['width', t.info.width],
          ['height', t.info.height],
          ['frameRate', frameRate(t.info.frameRate)],
        ])}>`,
        ...segmentTemplate(run, t, startPdt, '        ', opts.lowLatency),
        '      </Representation>',
      );
    }
    lines.push('    </AdaptationSet>');
  }
  if (audio.length > 0) {
    lines.push(
      `    <AdaptationSet${attrs([
        ['id', 1],
        ['contentType', 'audio'],
        ['mimeType', 'audio/mp4'],
        ['lang', 'und'],
        ['segmentAlignment', 'true'],
        ['startWithSAP', 1],
      ])}>`,
    );
    for (const t of audio) {
      lines.push(
        `      <Representation${attrs([
          ['id', t.info.id],
          ['bandwidth', Math.round(t.info.bandwidth)],
          ['codecs', t.info.codec],
          ['audioSamplingRate', t.info.sampleRate],
        ])}>`,
      );
      if (t.info.channels !== undefined) {
        lines.push(
          `        <AudioChannelConfiguration${attrs([
            ['schemeIdUri', 'urn:mpeg:dash:23003:3:audio_channel_configuration:2011'],
            ['value', t.info.channels],
          ])}/>`,
        );
      }
      lines.push(
        ...segmentTemplate(run, t, startPdt, '        ', opts.lowLatency),
        '      </Representation>',
      );
    }
    lines.push('    </AdaptationSet>');
  }
  lines.push('  </Period>');
  return lines;
}

export function renderDashMpd(view: TimelineView, opts: DashOptions): string {
  const common: Array<[string, string | undefined]> = [
    ['xmlns', 'urn:mpeg:dash:schema:mpd:2011'],
    ['profiles', 'urn:mpeg:dash:profile:isoff-live:2011'],
  ];
  let mpdAttrs: Array<[string, string | undefined]>;
  if (opts.ended) {
    const end = runsEnd(view.runs);
    mpdAttrs = [
      ...common,
      ['type', 'static'],
      ['availabilityStartTime', iso(opts.availabilityStartTime)],
      ['publishTime', iso(opts.publishTime)],
      [
        'mediaPresentationDuration',
        duration(end === undefined ? 0 : (end - opts.availabilityStartTime) / 1000),
      ],
      ['minBufferTime', duration(opts.minBufferTimeSeconds)],
    ];
  } else {
    mpdAttrs = [
      ...common,
      ['type', 'dynamic'],
      ['availabilityStartTime', iso(opts.availabilityStartTime)],
      ['publishTime', iso(opts.publishTime)],
      ['minimumUpdatePeriod', duration(opts.minimumUpdatePeriodSeconds)],
      ['timeShiftBufferDepth', duration(opts.timeShiftBufferDepthSeconds)],
      ['suggestedPresentationDelay', duration(opts.suggestedPresentationDelaySeconds)],
      // What players count their live delay in (dash.js's liveDelayFragmentCount needs it with a
      // SegmentTimeline; without it, it falls back to 4 × minBufferTime).
      ['maxSegmentDuration', maxSegmentSeconds(view)],
      ['minBufferTime', duration(opts.minBufferTimeSeconds)],
    ];
  }
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<MPD${attrs(mpdAttrs)}>`];
  const ll = opts.ended ? undefined : opts.lowLatency;
  if (ll) {
    // Before the Periods in the schema's element order.
    const ms = (s: number): number => Math.round(s * 1000);
    lines.push(
      '  <ServiceDescription id="0">',
      `    <Latency${attrs([
        ['referenceId', 0],
        ['target', ms(ll.targetLatencySeconds)],
        ['min', ms(Math.max(ll.partSeconds * 2, ll.targetLatencySeconds - ll.segmentSeconds))],
        ['max', ll.seekable ? undefined : ms(ll.targetLatencySeconds + ll.segmentSeconds * 2)],
      ])}/>`,
      '    <PlaybackRate min="0.96" max="1.04"/>',
      '  </ServiceDescription>',
    );
  }
  for (const run of view.runs)
    lines.push(...renderPeriod(run, { ...opts, ...(ll ? {} : { lowLatency: undefined }) }));
  // UTCTiming comes after the Periods in the MPD schema's element order.
  lines.push(
    `  <UTCTiming${attrs([
      ['schemeIdUri', 'urn:mpeg:dash:utc:http-iso:2014'],
      ['value', opts.utcTimingUrl],
    ])}/>`,
    '</MPD>',
  );
  return lines.join('\n') + '\n';
}
