'use client';

/**
 * The onair live player: HLS (hls.js, or native HLS) or DASH (dash.js) over the
 * same CMAF segments, or real time over WebRTC (WHEP) straight from the SFU.
 * Starts by itself (muted where autoplay needs it), shows an offline poster
 * while the channel has no stream and starts when it comes back.
 */
import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import { describeWhepError, retryDelayMs, WhepError, WhepSession } from '../../lib/whep-client.ts';
import { dashSettings, hlsConfig, hlsConfigAfter } from './player-config.ts';
import { SeekBar } from './seek-bar.tsx';
import {
  delayLabel,
  detectCapabilities,
  firstVariantUri,
  isLowLatencyManifest,
  PROTOCOL_LABELS,
  parseProtocol,
  renditionLabel,
  selectEngine,
  type PlaybackEngine,
  type Protocol,
} from './select-engine.ts';

/** A program (DVR while it runs, its recording after) or an asset, instead of a channel's live stream. */
export interface PlayerMedia {
  kind: 'program' | 'asset';
  id: string;
}

/** What a page can ask of a playing player. */
export interface PlayerApi {
  /** Program time (epoch ms) at the playhead, when the stream carries it. */
  programTime(): number | undefined;
}

export interface LivePlayerProps {
  channelId: string;
  /** Play this program or asset (channelId is then only a label). */
  media?: PlayerMedia;
  apiRef?: RefObject<PlayerApi | undefined>;
  protocol?: Protocol;
  autoplay?: boolean;
  muted?: boolean;
  /** onair's own controls (protocol, quality, live badge, latency). */
  controls?: boolean;
  /** Shows the protocol switch; the watch page turns it on. */
  protocolSwitch?: boolean;
  onProtocolChange?: (p: Protocol) => void;
  /** Where real-time playback goes when WebRTC cannot work here (the console's preview: HLS). */
  fallbackProtocol?: Protocol;
  /** Base URL of the onair server; empty for same-origin. */
  server?: string;
  /** A playback token, for channels that need one: it travels in the media path (`/t/<token>/`). */
  token?: string;
  className?: string;
}

type Status = 'loading' | 'playing' | 'offline' | 'error' | 'denied';

interface Quality {
  id: string;
  label: string;
}

interface EngineHandle {
  qualities: () => Quality[];
  /** A rendition id, or 'auto'. */
  setQuality: (id: string) => void;
  latency: () => number | undefined;
  toLive: () => void;
  programTime: () => number | undefined;
  destroy: () => void;
  /** Real time only: connected, but no frame for a while (the publisher is away). */
  stalled?: () => boolean;
}

const RETRY_MS = 4000;
/** Real time: no decoded frame for this long means the publisher is away. */
const STALL_MS = 2500;
/** Real time: a connection that stays disconnected this long is given up and made again. */
const RECONNECT_AFTER_MS = 4000;

export function LivePlayer({
  channelId,
  media,
  apiRef,
  protocol = 'hls',
  autoplay = true,
  muted = true,
  controls = true,
  protocolSwitch = false,
  onProtocolChange,
  fallbackProtocol,
  server = '',
  token,
  className = '',
}: LivePlayerProps) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const engineRef = useRef<EngineHandle | undefined>(undefined);
  const [status, setStatus] = useState<Status>('loading');
  const [message, setMessage] = useState('');
  /** The overlay's badge while not playing: Offline, Waiting (nothing live yet), Paused (publisher away). */
  const [badge, setBadge] = useState('Offline');
  const [attempt, setAttempt] = useState(0);
  const [qualities, setQualities] = useState<Quality[]>([]);
  const [quality, setQuality] = useState<string>('auto');
  const [latency, setLatency] = useState<number | undefined>(undefined);
  const [engineName, setEngineName] = useState<PlaybackEngine | undefined>(undefined);
  const [needsTap, setNeedsTap] = useState(false);
  // Real time that cannot work here falls back (when allowed) until the protocol is changed.
  const [fellBack, setFellBack] = useState<{ from: Protocol; to: Protocol } | undefined>(undefined);
  const active: Protocol = fellBack?.from === protocol ? fellBack.to : protocol;
  /** Real-time attempts since the last success, for the retry backoff. */
  const failuresRef = useRef(0);

  const origin = server.replace(/\/+$/, '');
  const base = mediaBase(server, channelId, media, token);
  const vod = media?.kind === 'asset';
  const isMedia = media !== undefined;
  // Real time is the live channel's (a program or an asset plays over HLS or DASH).
  const src =
    active === 'webrtc' && !isMedia
      ? `${origin}/whep/${encodeURIComponent(channelId)}`
      : active === 'dash'
        ? `${base}/manifest.mpd`
        : `${base}/master.m3u8`;

  const retryLater = useCallback((why: string) => {
    setStatus('offline');
    setBadge('Offline');
    setMessage(why);
    const t = setTimeout(() => setAttempt((a) => a + 1), RETRY_MS);
    return () => clearTimeout(t);
  }, []);

  useEffect(() => {
    const video = videoRef.current;
    if (!video) return;
    let cancelled = false;
    let cancelRetry: (() => void) | undefined;
    const fail = (why: string) => {
      if (cancelled) return;
      engineRef.current?.destroy();
      engineRef.current = undefined;
      cancelRetry = retryLater(why);
    };

    const startRealtime = async () => {
      setEngineName('webrtc');
      let session: WhepSession;
      try {
        if (selectEngine('webrtc', detectCapabilities()) === 'unsupported')
          throw new WhepError('unsupported_browser', 'no WebRTC');
        session = await WhepSession.start({ url: src, ...(token ? { token } : {}) });
      } catch (err) {
        if (cancelled) return;
        const e = err instanceof WhepError ? err : new WhepError('http_error', (err as Error).message);
        if (e.transportFailed && fallbackProtocol && fallbackProtocol !== 'webrtc') {
          setFellBack({ from: protocol, to: fallbackProtocol });
          return;
        }
        const permanent =
          e.code === 'channel_not_found' || e.code === 'forbidden' || e.code === 'unsupported_browser';
        setStatus(e.waiting || !permanent ? 'offline' : 'error');
        setMessage(describeWhepError(e));
        setBadge(e.code === 'publisher_not_live' ? 'Waiting' : 'Offline');
        if (permanent) return;
        const delay = retryDelayMs(failuresRef.current++, e.retryAfterSeconds);
        const t = setTimeout(() => setAttempt((a) => a + 1), delay);
        cancelRetry = () => clearTimeout(t);
        return;
      }
      if (cancelled) {
        void session.stop();
        return;
      }
      failuresRef.current = 0;
      video.muted = muted;
      video.srcObject = session.stream;
      let stalled = false;
      let lastFrames = -1;
      let lastFrameAt = Date.now();
      let delay: number | undefined;
      let disconnectedAt: number | undefined;
      const monitor = setInterval(() => {
        const state = session.connectionState;
        if (state === 'failed' || state === 'closed')
          return fail('The real-time connection was lost. Reconnecting…');
        disconnectedAt = state === 'disconnected' ? (disconnectedAt ?? Date.now()) : undefined;
        if (disconnectedAt !== undefined && Date.now() - disconnectedAt > RECONNECT_AFTER_MS)
          return fail('The real-time connection was lost. Reconnecting…');
        session.sample().then(
          ({ sample, delaySeconds }) => {
            if (cancelled) return;
            if (delaySeconds !== undefined) delay = delaySeconds;
            if (sample.framesDecoded > lastFrames) {
              lastFrames = sample.framesDecoded;
              lastFrameAt = Date.now();
              if (stalled) {
                stalled = false;
                setStatus('playing');
              }
            } else if (!stalled && lastFrames > 0 && Date.now() - lastFrameAt > STALL_MS) {
              // The server keeps the session while the publisher is away: wait for it here.
              stalled = true;
              setStatus('offline');
              setBadge('Paused');
              setMessage('The stream paused. It will continue as soon as the publisher is back.');
            }
          },
          () => undefined,
        );
      }, 1000);
      // A closed tab ends its session at once (keepalive DELETE) rather than after the server's silence timeout.
      const onPageHide = () => void session.stop({ keepalive: true });
      window.addEventListener('pagehide', onPageHide);
      engineRef.current = {
        qualities: () => [],
        setQuality: () => undefined,
        latency: () => delay,
        toLive: () => undefined,
        programTime: () => undefined,
        stalled: () => stalled,
        destroy: () => {
          clearInterval(monitor);
          window.removeEventListener('pagehide', onPageHide);
          video.srcObject = null;
          void session.stop({ keepalive: true });
        },
      };
      if (autoplay) {
        video.play().catch(() => {
          video.muted = true;
          video.play().catch(() => setNeedsTap(true));
        });
      }
    };

    const start = async () => {
      setStatus((s) => (s === 'playing' ? s : 'loading'));
      if (active === 'webrtc') return startRealtime();
      // Is there a stream at all? A 404 means offline: poll without building a player.
      let res: Response;
      try {
        res = await fetch(src, { cache: 'no-store' });
      } catch {
        fail('The server cannot be reached. Retrying…');
        return;
      }
      if (cancelled) return;
      if (res.status === 401 || res.status === 403) {
        // A missing, wrong or expired playback link does not mend itself: no retry.
        const why = await refusal(res);
        if (cancelled) return;
        setStatus('denied');
        setMessage(why);
        return;
      }
      if (!res.ok) {
        fail(
          isMedia
            ? 'This recording is not available (yet). Retrying…'
            : 'The channel is offline. It will start playing when the stream comes back.',
        );
        return;
      }
      const engine = selectEngine(active, detectCapabilities());
      setEngineName(engine);
      video.muted = muted;
      try {
        const lowLatency = await offersLowLatency(src, await res.text());
        if (cancelled) return;
        engineRef.current = await createEngine(engine, video, src, fail, {
          dvr: isMedia,
          lowLatency,
          autoplay,
          onBlocked: () => setNeedsTap(true),
        });
      } catch (err) {
        if (cancelled) return;
        setStatus('error');
        setMessage((err as Error).message);
        return;
      }
      if (cancelled) {
        engineRef.current?.destroy();
        return;
      }
      if (apiRef) apiRef.current = { programTime: () => engineRef.current?.programTime() };
      // dash.js starts playback itself once its stream is ready (see createEngine).
      if (autoplay && engine !== 'dash.js') {
        video.play().catch(() => {
          // Browsers refuse unmuted autoplay: start muted, let the viewer unmute.
          video.muted = true;
          video.play().catch(() => setNeedsTap(true));
        });
      }
    };
    void start();

    const onPlaying = () => {
      // A real-time stream's clock runs on while the publisher is away: frames decide there.
      if (engineRef.current?.stalled?.()) return;
      setStatus('playing');
      setNeedsTap(false);
      setQualities((q) => (q.length > 0 ? q : (engineRef.current?.qualities() ?? [])));
    };
    // 'playing' can come before a re-render; time moving forward is the proof that counts.
    const onTime = () => {
      if (!video.paused && video.currentTime > 0) onPlaying();
    };
    video.addEventListener('playing', onPlaying);
    video.addEventListener('timeupdate', onTime);
    const tick = setInterval(() => {
      const e = engineRef.current;
      if (!e) return;
      setLatency(e.latency());
      setQualities((q) => (q.length === 0 ? e.qualities() : q));
    }, 1000);

    return () => {
      cancelled = true;
      cancelRetry?.();
      clearInterval(tick);
      video.removeEventListener('playing', onPlaying);
      video.removeEventListener('timeupdate', onTime);
      engineRef.current?.destroy();
      engineRef.current = undefined;
    };
  }, [src, active, protocol, fallbackProtocol, autoplay, muted, attempt, retryLater, isMedia, apiRef]);

  const changeQuality = (id: string) => {
    setQuality(id);
    engineRef.current?.setQuality(id);
  };

  const behind = !vod && latency !== undefined && latency > 0 ? latency : undefined;
  const atLive = active === 'webrtc' || behind === undefined || behind < 12;

  return (
    <div
      className={`flex flex-col overflow-hidden rounded-lg bg-black ${className}`}
      data-status={status}
      data-engine={engineName}
      data-protocol={active}
    >
      <div className="relative min-h-0 grow">
        <video
          ref={videoRef}
          data-testid="live-video"
          className="aspect-video w-full bg-black"
          playsInline
          controls={controls}
          muted={muted}
          aria-label="Live video"
        />
        {status !== 'playing' && (
          <div
            className="absolute inset-0 flex flex-col items-center justify-center gap-3 bg-zinc-950/90 p-4 text-center"
            role="status"
          >
            {status === 'loading' ? (
              <span
                className="h-8 w-8 animate-spin rounded-full border-2 border-zinc-600 border-t-zinc-100"
                aria-hidden
              />
            ) : (
              <span className="rounded bg-zinc-800 px-2 py-1 text-xs font-semibold uppercase tracking-wide text-zinc-300">
                {status === 'offline' ? badge : status === 'denied' ? 'Private' : 'Playback error'}
              </span>
            )}
            <p className="max-w-sm text-sm text-zinc-300">
              {status === 'loading' ? 'Loading the stream…' : message}
            </p>
          </div>
        )}
        {!controls && status === 'playing' && active === 'webrtc' && (
          <span
            className="pointer-events-none absolute top-2 left-2 rounded bg-black/60 px-1.5 py-0.5 text-[11px] font-semibold text-emerald-300"
            data-testid="realtime-badge"
          >
            Real-time{behind !== undefined ? ` · ${delayLabel('webrtc', behind)}` : ''}
          </span>
        )}
        {!controls && fellBack?.from === protocol && status === 'playing' && (
          <span
            className="pointer-events-none absolute top-2 left-2 rounded bg-black/60 px-1.5 py-0.5 text-[11px] font-semibold text-amber-300"
            data-testid="fallback-note"
          >
            {PROTOCOL_LABELS[fellBack.to]} · real time unavailable
          </span>
        )}
        {needsTap && (
          <button
            type="button"
            onClick={() => void videoRef.current?.play().then(() => setNeedsTap(false))}
            className="absolute inset-0 m-auto h-14 w-40 rounded-full bg-white/90 font-semibold text-black"
          >
            ▶ Play
          </button>
        )}
      </div>
      {controls && status === 'playing' && (
        <div className="border-t border-zinc-800 bg-zinc-900 px-3 pt-2 empty:hidden">
          <SeekBar video={videoRef.current} vod={vod} />
        </div>
      )}
      {controls && (
        <div className="flex flex-wrap items-center gap-2 border-t border-zinc-800 bg-zinc-900 px-3 py-2 text-sm">
          {status === 'playing' && !vod && (
            <button
              type="button"
              onClick={() => engineRef.current?.toLive()}
              className={`flex items-center gap-1.5 rounded px-2 py-0.5 text-xs font-bold uppercase tracking-wide ${atLive ? 'bg-red-600 text-white' : 'bg-zinc-700 text-zinc-200 hover:bg-zinc-600'}`}
              aria-label={atLive ? 'Live' : 'Back to live'}
              title={atLive ? 'Playing at the live edge' : 'Jump back to live'}
            >
              <span className="h-1.5 w-1.5 rounded-full bg-current" aria-hidden />
              {atLive ? 'Live' : 'Back to live'}
            </button>
          )}
          {status === 'playing' && active === 'webrtc' && (
            <span className="text-xs font-semibold text-emerald-400" data-testid="realtime-badge">
              Real-time
            </span>
          )}
          {behind !== undefined && status === 'playing' && (
            <span className="text-xs text-zinc-400" data-testid="latency">
              {delayLabel(active, behind)}
            </span>
          )}
          {fellBack?.from === protocol && (
            <span className="text-xs text-amber-400" data-testid="fallback-note">
              {PROTOCOL_LABELS[fellBack.to]} (real time unavailable here)
            </span>
          )}
          <span className="grow" />
          {protocolSwitch && (
            <label className="flex items-center gap-1 text-xs text-zinc-400">
              Protocol
              <select
                value={protocol}
                onChange={(e) => onProtocolChange?.(parseProtocol(e.target.value))}
                className="rounded border border-zinc-700 bg-zinc-950 px-1.5 py-1 text-zinc-100"
                aria-label="Protocol"
              >
                {(['hls', 'dash', 'webrtc'] as const).map((p) => (
                  <option key={p} value={p}>
                    {PROTOCOL_LABELS[p]}
                  </option>
                ))}
              </select>
            </label>
          )}
          {qualities.length > 0 && (
            <label className="flex items-center gap-1 text-xs text-zinc-400">
              Quality
              <select
                value={quality}
                onChange={(e) => changeQuality(e.target.value)}
                className="rounded border border-zinc-700 bg-zinc-950 px-1.5 py-1 text-zinc-100"
              >
                <option value="auto">Auto</option>
                {qualities.map((q) => (
                  <option key={q.id} value={q.id}>
                    {q.label}
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>
      )}
    </div>
  );
}

/**
 * Where media is: `/live/<channel>`, `/programs/<id>` or `/vod/<id>`, followed by
 * `/t/<token>` with a playback token (every relative URI then stays under it).
 */
export function mediaBase(server: string, channelId: string, media?: PlayerMedia, token?: string): string {
  const root = server.replace(/\/+$/, '');
  const base = media
    ? `${root}/${media.kind === 'program' ? 'programs' : 'vod'}/${encodeURIComponent(media.id)}`
    : `${root}/live/${encodeURIComponent(channelId)}`;
  return token ? `${base}/t/${encodeURIComponent(token)}` : base;
}

/** Where a channel's live media is, with a playback token when given. */
export function liveBase(server: string, channelId: string, token?: string): string {
  return mediaBase(server, channelId, undefined, token);
}

/** Words for a 401/403 from the origin. */
async function refusal(res: Response): Promise<string> {
  let code = '';
  try {
    code = ((await res.json()) as { error?: { code?: string } }).error?.code ?? '';
  } catch {
    // not JSON: fall through
  }
  switch (code) {
    case 'token_required':
      return 'This stream is private. Open it with the signed link you were given.';
    case 'token_expired':
      return 'This playback link has expired. Ask for a new one.';
    case 'token_invalid':
      return 'This playback link is not valid for this stream.';
    default:
      return 'This stream is not available from your network.';
  }
}

/**
 * Whether a stream offers low latency: an MPD says so itself; an HLS master does not, so its first
 * rendition's playlist is read (LL-HLS lists parts). Unknown (unreachable): assume it does.
 */
async function offersLowLatency(src: string, manifest: string): Promise<boolean> {
  if (isLowLatencyManifest(manifest)) return true;
  const variant = firstVariantUri(manifest);
  if (variant === undefined) return false;
  try {
    const res = await fetch(new URL(variant, new URL(src, window.location.href)), { cache: 'no-store' });
    return res.ok ? isLowLatencyManifest(await res.text()) : true;
  } catch {
    return true;
  }
}

async function createEngine(
  engine: PlaybackEngine,
  video: HTMLVideoElement,
  src: string,
  fail: (why: string) => void,
  opts: { dvr: boolean; lowLatency: boolean; autoplay?: boolean; onBlocked?: () => void },
): Promise<EngineHandle> {
  if (engine === 'unsupported')
    throw new Error('This browser cannot play this stream. Try another browser or the other protocol.');
  if (engine === 'native-hls') {
    video.src = src;
    const onError = () => fail('The stream stopped. Retrying…');
    video.addEventListener('error', onError);
    return {
      qualities: () => [],
      setQuality: () => undefined,
      latency: () =>
        video.seekable.length > 0
          ? video.seekable.end(video.seekable.length - 1) - video.currentTime
          : undefined,
      toLive: () => {
        if (video.seekable.length > 0) video.currentTime = video.seekable.end(video.seekable.length - 1) - 6;
      },
      programTime: () => {
        const start = (video as HTMLVideoElement & { getStartDate?: () => Date }).getStartDate?.();
        const t = start ? start.getTime() : Number.NaN;
        return Number.isFinite(t) ? t + video.currentTime * 1000 : undefined;
      },
      destroy: () => {
        video.removeEventListener('error', onError);
        video.removeAttribute('src');
        video.load();
      },
    };
  }
  if (engine === 'hls.js') {
    const Hls = (await import('hls.js')).default;
    const hls = new Hls(hlsConfig(opts));
    Object.assign(hls.config, hlsConfigAfter(opts));
    let recovered = false;
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recovered) {
        recovered = true;
        hls.recoverMediaError();
        return;
      }
      fail(
        data.type === Hls.ErrorTypes.NETWORK_ERROR
          ? 'The stream stopped. It will resume when the channel is back.'
          : `Playback failed (${data.details}). Retrying…`,
      );
    });
    hls.loadSource(src);
    hls.attachMedia(video);
    return {
      qualities: () =>
        hls.levels.map((l, i) => ({ id: String(i), label: renditionLabel(l.height, l.bitrate) })),
      setQuality: (id) => {
        hls.currentLevel = id === 'auto' ? -1 : Number(id);
      },
      // Behind real time: the wall clock minus the playhead's EXT-X-PROGRAM-DATE-TIME.
      latency: () => {
        const at = hls.playingDate?.getTime();
        const behind = at !== undefined && at > 0 ? (Date.now() - at) / 1000 : hls.latency;
        return Number.isFinite(behind) && behind > 0 ? behind : undefined;
      },
      toLive: () => {
        if (hls.liveSyncPosition !== null) video.currentTime = hls.liveSyncPosition;
      },
      programTime: () => hls.playingDate?.getTime(),
      destroy: () => hls.destroy(),
    };
  }
  const dashjs = await import('dashjs');
  const player = dashjs.MediaPlayer().create();
  player.updateSettings(dashSettings(opts));
  player.on(dashjs.MediaPlayer.events.ERROR, () =>
    fail('The stream stopped. It will resume when the channel is back.'),
  );
  if (opts.autoplay) {
    // Not before dash.js listens to the element: a 'play' event it misses leaves it paused, and a
    // paused dash.js never refreshes a live MPD.
    player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => {
      if (!video.paused) return;
      video.play().catch(() => {
        // Browsers refuse unmuted autoplay: start muted, let the viewer unmute.
        video.muted = true;
        video.play().catch(() => opts.onBlocked?.());
      });
    });
  }
  player.initialize(video, src, false);
  return {
    qualities: () => {
      try {
        return player
          .getRepresentationsByType('video')
          .sort((a, b) => b.bandwidth - a.bandwidth)
          .map((r) => ({ id: r.id, label: renditionLabel(r.height, r.bandwidth) }));
      } catch {
        return [];
      }
    },
    setQuality: (id) => {
      const auto = id === 'auto';
      player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: auto } } } });
      if (!auto) player.setRepresentationForTypeById('video', id, true);
    },
    latency: () => {
      const l = player.getCurrentLiveLatency();
      return Number.isFinite(l) && l > 0 ? l : undefined;
    },
    toLive: () => player.seekToOriginalLive(),
    programTime: () => {
      // Live and DVR: the playhead as wall-clock time (the MPD's availabilityStartTime + position).
      const t = player.isDynamic() ? player.timeAsUTC() : Number.NaN;
      return Number.isFinite(t) && t > 0 ? t * 1000 : undefined;
    },
    destroy: () => player.destroy(),
  };
}
