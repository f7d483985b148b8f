/** Pure formatting helpers for the console. */
import type { Channel } from '../../lib/schemas.ts';

export function formatKbps(kbps: number | null | undefined): string {
  if (kbps === null || kbps === undefined || !Number.isFinite(kbps)) return '—';
  if (kbps >= 1000) return `${(kbps / 1000).toFixed(kbps >= 10_000 ? 0 : 1)} Mbps`;
  return `${Math.round(kbps)} kbps`;
}

/** 0:42, 12:05, 1:02:03 */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** A program's duration: running ones up to `now`, stopped ones between start and stop; null if it never started. */
export function programDurationSeconds(
  p: { startedAt: string | null; stoppedAt: string | null; state: string },
  now: number,
): number | null {
  if (!p.startedAt) return null;
  const start = Date.parse(p.startedAt);
  const end = p.state === 'running' || !p.stoppedAt ? now : Date.parse(p.stoppedAt);
  return Math.max(0, (end - start) / 1000);
}

/** 0 B, 812 KB, 3.4 MB, 1.20 GB (decimal units, as disks are sold). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(v >= 10 ? 1 : 2)} ${units[i]}`;
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/**
 * An absolute URL: the API gives relative ones when the request's Host is not a
 * name the server knows, so they are resolved against the console's own address.
 */
export function absoluteUrl(url: string, base: string): string {
  try {
    return new URL(url, base).toString();
  } catch {
    return url;
  }
}

/**
 * The two ways to embed a channel in another page: an iframe, or the script and
 * its custom element. With a playback token, both carry it.
 */
export function embedSnippets(
  channel: Pick<Channel, 'id' | 'urls'>,
  opts: { token?: string; base?: string } = {},
): { iframe: string; script: string } {
  const embed = absoluteUrl(channel.urls.embed, opts.base ?? 'http://localhost');
  const src = opts.token ? `${embed}?token=${encodeURIComponent(opts.token)}` : embed;
  const origin = new URL(embed).origin;
  const iframe = `<iframe src="${attr(src)}" width="640" height="360" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen style="border:0"></iframe>`;
  const token = opts.token ? ` token="${attr(opts.token)}"` : '';
  const script = `<script src="${attr(origin)}/embed.js" async></script><onair-player channel="${attr(channel.id)}" server="${attr(origin)}"${token}></onair-player>`;
  return { iframe, script };
}

/** Keeps a post-sign-in redirect on this site's console: anything else goes to /console. */
export function safeNextPath(next: string | null | undefined): string {
  if (!next) return '/console';
  if (!next.startsWith('/console') || next.startsWith('//') || next.includes('\\')) return '/console';
  if (next.startsWith('/console/sign-in')) return '/console';
  return next;
}

/** Points for an SVG polyline: samples within `windowMs` before `now`, x over [0, width], y over [height, 0] scaled to `max`. */
export function chartPoints(
  samples: readonly { at: number; value: number }[],
  opts: { now: number; windowMs: number; width: number; height: number; max: number },
): string {
  const { now, windowMs, width, height, max } = opts;
  const start = now - windowMs;
  const top = max > 0 ? max : 1;
  return samples
    .filter((s) => s.at >= start && Number.isFinite(s.value))
    .map((s) => {
      const x = ((s.at - start) / windowMs) * width;
      const y = height - (Math.min(s.value, top) / top) * height;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

/** A round upper bound for a chart's y axis: 1, 2 or 5 × 10^n at or above the largest value. */
export function niceMax(values: readonly number[], floor = 1): number {
  const m = Math.max(floor, ...values.filter(Number.isFinite));
  const p = 10 ** Math.floor(Math.log10(m));
  for (const f of [1, 2, 5, 10]) if (f * p >= m) return f * p;
  return 10 * p;
}
