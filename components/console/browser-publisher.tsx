'use client';
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import type { Channel } from '../../lib/schemas.ts';
import { describeMediaError, describeWhipError, WhipError, WhipPublisher } from '../../lib/whip-client.ts';
import { Alert } from '../ui/alert.tsx';
import { Badge, LiveBadge, type BadgeTone } from '../ui/badge.tsx';
import { Button } from '../ui/button.tsx';
import { Panel } from '../ui/card.tsx';
import { Field, Select } from '../ui/field.tsx';
import { formatKbps } from './format.ts';

export const RESOLUTIONS = {
  '360p': { width: 640, height: 360 },
  '720p': { width: 1280, height: 720 },
  '1080p': { width: 1920, height: 1080 },
} as const;
export type Resolution = keyof typeof RESOLUTIONS;

type Publish = 'off' | 'connecting' | 'live' | 'stopping';

function constraints(cameraId: string, micId: string, res: Resolution): MediaStreamConstraints {
  const { width, height } = RESOLUTIONS[res];
  return {
    video: {
      ...(cameraId ? { deviceId: { exact: cameraId } } : {}),
      width: { ideal: width },
      height: { ideal: height },
      frameRate: { ideal: 30 },
    },
    audio: {
      ...(micId ? { deviceId: { exact: micId } } : {}),
      echoCancellation: true,
      noiseSuppression: true,
    },
  };
}

function stopTracks(stream: MediaStream | null): void {
  stream?.getTracks().forEach((t) => t.stop());
}

const CONN_TONE: Partial<Record<RTCPeerConnectionState, BadgeTone>> = {
  connected: 'emerald',
  connecting: 'amber',
  new: 'amber',
  disconnected: 'amber',
  failed: 'red',
};

/** Go live from this browser: camera + microphone over WHIP to the channel, like any other encoder. */
export function BrowserPublisher({ channel, onChanged }: { channel: Channel; onChanged: () => void }) {
  const ids = useId();
  const videoRef = useRef<HTMLVideoElement>(null);
  const streamRef = useRef<MediaStream | null>(null);
  const publisherRef = useRef<WhipPublisher | null>(null);
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [acquiring, setAcquiring] = useState(false);
  const [mediaError, setMediaError] = useState<string>();
  const [cameras, setCameras] = useState<MediaDeviceInfo[]>([]);
  const [mics, setMics] = useState<MediaDeviceInfo[]>([]);
  const [cameraId, setCameraId] = useState('');
  const [micId, setMicId] = useState('');
  const [resolution, setResolution] = useState<Resolution>('720p');
  const [role, setRole] = useState<'primary' | 'backup'>('primary');
  const [publish, setPublish] = useState<Publish>('off');
  const [conn, setConn] = useState<RTCPeerConnectionState>();
  const [kbps, setKbps] = useState<number | null>(null);
  const [pubError, setPubError] = useState<string>();
  const [actual, setActual] = useState<string>();

  const listDevices = useCallback(async () => {
    const all = await navigator.mediaDevices.enumerateDevices();
    setCameras(all.filter((d) => d.kind === 'videoinput'));
    setMics(all.filter((d) => d.kind === 'audioinput'));
  }, []);

  /** Opens the camera and microphone (asking for permission the first time), replacing any open ones. */
  const acquire = useCallback(
    async (cam: string, mic: string, res: Resolution) => {
      setMediaError(undefined);
      if (!navigator.mediaDevices?.getUserMedia) {
        setMediaError(describeMediaError(new TypeError('no mediaDevices')));
        return;
      }
      setAcquiring(true);
      // Some cameras open only once: release the current one first.
      stopTracks(streamRef.current);
      try {
        const next = await navigator.mediaDevices.getUserMedia(constraints(cam, mic, res));
        streamRef.current = next;
        setStream(next);
        const v = next.getVideoTracks()[0]?.getSettings();
        const a = next.getAudioTracks()[0]?.getSettings();
        if (v?.deviceId) setCameraId(v.deviceId);
        if (a?.deviceId) setMicId(a.deviceId);
        setActual(
          v?.width && v.height
            ? `${v.width}×${v.height}${v.frameRate ? ` @ ${Math.round(v.frameRate)} fps` : ''}`
            : undefined,
        );
        await listDevices();
        await publisherRef.current?.replaceTracks(next);
      } catch (err) {
        streamRef.current = null;
        setStream(null);
        setMediaError(describeMediaError(err));
      } finally {
        setAcquiring(false);
      }
    },
    [listDevices],
  );

  // Local preview.
  useEffect(() => {
    const v = videoRef.current;
    if (v && v.srcObject !== stream) {
      v.srcObject = stream;
      if (stream) v.play().catch(() => undefined);
    }
  }, [stream]);

  // Devices plugged in or out.
  useEffect(() => {
    const md = typeof navigator !== 'undefined' ? navigator.mediaDevices : undefined;
    if (!md || !stream) return;
    const onChange = () => void listDevices();
    md.addEventListener('devicechange', onChange);
    return () => md.removeEventListener('devicechange', onChange);
  }, [stream, listDevices]);

  const endPublishing = useCallback(async (keepalive = false) => {
    const p = publisherRef.current;
    publisherRef.current = null;
    await p?.stop({ keepalive });
  }, []);

  // Leaving the page ends the WHIP session and releases the camera.
  useEffect(() => {
    const onHide = () => void endPublishing(true);
    window.addEventListener('pagehide', onHide);
    return () => {
      window.removeEventListener('pagehide', onHide);
      void endPublishing(true);
      stopTracks(streamRef.current);
      streamRef.current = null;
    };
  }, [endPublishing]);

  // Outgoing bitrate, once a second while live.
  useEffect(() => {
    if (publish !== 'live') return;
    let alive = true;
    const t = setInterval(() => {
      publisherRef.current
        ?.outgoingKbps()
        .then((k) => alive && k !== null && setKbps(k))
        .catch(() => undefined);
    }, 1000);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, [publish]);

  const goLive = async () => {
    setPubError(undefined);
    const s = streamRef.current;
    if (!s) {
      setPubError('Turn on the camera first.');
      return;
    }
    if (channel.state !== 'running') {
      setPubError(describeWhipError(new WhipError('channel_not_running', '')));
      return;
    }
    setPublish('connecting');
    setKbps(null);
    try {
      const p = await WhipPublisher.publish(s, {
        url: role === 'backup' ? channel.urls.whipBackup : channel.urls.whip,
        token: channel.streamKey,
        onConnectionStateChange: (state) => {
          setConn(state);
          if ((state === 'failed' || state === 'closed') && publisherRef.current) {
            publisherRef.current = null;
            setPublish('off');
            setPubError(
              state === 'failed'
                ? 'The connection to the server was lost. The channel may have been stopped or its key reset. Go live again when ready.'
                : 'The server ended the session.',
            );
            onChanged();
          }
        },
      });
      publisherRef.current = p;
      setConn(p.connectionState);
      setPublish('live');
      onChanged();
    } catch (err) {
      setPublish('off');
      setConn(undefined);
      setPubError(describeWhipError(err));
    }
  };

  const stop = async () => {
    setPublish('stopping');
    await endPublishing();
    setPublish('off');
    setConn(undefined);
    setKbps(null);
    onChanged();
  };

  const turnOff = async () => {
    if (publisherRef.current) await stop();
    stopTracks(streamRef.current);
    streamRef.current = null;
    setStream(null);
    setActual(undefined);
  };

  const pickersDisabled = acquiring || publish === 'connecting' || publish === 'stopping';

  return (
    <Panel
      id="browser-publisher"
      title="Go live from this browser"
      description="Your camera and microphone, sent to the channel over WHIP like any other encoder."
      actions={
        publish === 'live' ? (
          <div className="flex items-center gap-2">
            <LiveBadge />
            <span className="font-mono text-xs text-zinc-300 tabular-nums" aria-label="Outgoing bitrate">
              ↑ {formatKbps(kbps)}
            </span>
          </div>
        ) : undefined
      }
    >
      <div className="grid grid-cols-1 gap-4 md:grid-cols-[minmax(0,1fr)_minmax(0,15rem)]">
        <div className="flex min-w-0 flex-col gap-2">
          <div className="relative overflow-hidden rounded-md bg-black">
            <video
              ref={videoRef}
              muted
              playsInline
              autoPlay
              aria-label="Camera preview"
              data-testid="camera-preview"
              className="aspect-video w-full object-contain"
            />
            {!stream && (
              <div className="absolute inset-0 flex flex-col items-center justify-center gap-3 p-4 text-center">
                <p className="text-sm text-zinc-400">
                  {acquiring ? 'Waiting for camera permission…' : 'The camera is off.'}
                </p>
                <Button
                  variant="primary"
                  busy={acquiring}
                  onClick={() => void acquire(cameraId, micId, resolution)}
                >
                  Turn on camera and microphone
                </Button>
              </div>
            )}
          </div>
          <LevelMeter stream={stream} />
          {actual && <p className="text-xs text-zinc-500">Camera sends {actual}.</p>}
        </div>

        <div className="flex min-w-0 flex-col gap-3">
          <DeviceSelect
            id={`${ids}-camera`}
            label="Camera"
            devices={cameras}
            value={cameraId}
            disabled={pickersDisabled}
            onChange={(id) => {
              setCameraId(id);
              void acquire(id, micId, resolution);
            }}
          />
          <DeviceSelect
            id={`${ids}-mic`}
            label="Microphone"
            devices={mics}
            value={micId}
            disabled={pickersDisabled}
            onChange={(id) => {
              setMicId(id);
              void acquire(cameraId, id, resolution);
            }}
          />
          <Field id={`${ids}-res`} label="Resolution">
            <Select
              id={`${ids}-res`}
              value={resolution}
              disabled={pickersDisabled}
              onChange={(e) => {
                const r = e.target.value as Resolution;
                setResolution(r);
                if (streamRef.current) void acquire(cameraId, micId, r);
              }}
            >
              {Object.keys(RESOLUTIONS).map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </Select>
          </Field>

          <Field
            id={`${ids}-role`}
            label="Publish to"
            hint="Two browsers, one per input, keep the event on air if one fails."
          >
            <Select
              id={`${ids}-role`}
              aria-describedby={`${ids}-role-hint`}
              value={role}
              disabled={publish !== 'off'}
              onChange={(e) => setRole(e.target.value as 'primary' | 'backup')}
            >
              <option value="primary">Primary input</option>
              <option value="backup">Backup input</option>
            </Select>
          </Field>
          <div className="flex flex-wrap items-center gap-2 pt-1">
            {publish === 'live' || publish === 'stopping' ? (
              <Button variant="secondary" busy={publish === 'stopping'} onClick={() => void stop()}>
                {publish === 'stopping' ? 'Stopping…' : 'Stop broadcast'}
              </Button>
            ) : (
              <Button
                variant="live"
                busy={publish === 'connecting'}
                disabled={!stream}
                onClick={() => void goLive()}
              >
                {publish === 'connecting' ? 'Connecting…' : 'Go live'}
              </Button>
            )}
            {stream && publish === 'off' && (
              <Button variant="ghost" onClick={() => void turnOff()}>
                Turn off camera
              </Button>
            )}
          </div>
          <p className="flex items-center gap-2 text-xs text-zinc-400" role="status" aria-live="polite">
            Connection:{' '}
            <Badge tone={conn ? (CONN_TONE[conn] ?? 'neutral') : 'neutral'}>
              <span data-testid="publisher-connection">
                {publish === 'connecting' && !conn ? 'connecting' : (conn ?? 'not connected')}
              </span>
            </Badge>
          </p>
          {channel.state !== 'running' && publish === 'off' && !pubError && (
            <p className="text-xs text-zinc-500">Start the channel first, then go live.</p>
          )}
        </div>
      </div>
      {(mediaError ?? pubError) && (
        <div className="mt-4 flex flex-col gap-2">
          {mediaError && <Alert tone="error">{mediaError}</Alert>}
          {pubError && <Alert tone="error">{pubError}</Alert>}
        </div>
      )}
    </Panel>
  );
}

/** Microphone level from a WebAudio AnalyserNode (RMS of the waveform), drawn without re-rendering React. */
function LevelMeter({ stream }: { stream: MediaStream | null }) {
  const barRef = useRef<HTMLDivElement>(null);
  const meterRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const track = stream?.getAudioTracks()[0];
    const bar = barRef.current;
    const meter = meterRef.current;
    if (!stream || !track || !bar || !meter) {
      if (bar) bar.style.width = '0%';
      meter?.setAttribute('aria-valuenow', '0');
      return;
    }
    const AC = window.AudioContext;
    const ctx = new AC();
    const source = ctx.createMediaStreamSource(new MediaStream([track]));
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    let raf = 0;
    let smoothed = 0;
    let lastAria = 0;
    const draw = (t: number) => {
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const x of buf) sum += x * x;
      const rms = Math.sqrt(sum / buf.length);
      // dBFS from -60 to 0 onto 0..100.
      const db = rms > 0 ? 20 * Math.log10(rms) : -100;
      const level = Math.max(0, Math.min(100, ((db + 60) / 60) * 100));
      smoothed = level > smoothed ? level : smoothed * 0.9 + level * 0.1;
      bar.style.width = `${smoothed.toFixed(1)}%`;
      if (t - lastAria > 500) {
        lastAria = t;
        meter.setAttribute('aria-valuenow', String(Math.round(smoothed)));
      }
      raf = requestAnimationFrame(draw);
    };
    void ctx.resume().catch(() => undefined);
    raf = requestAnimationFrame(draw);
    return () => {
      cancelAnimationFrame(raf);
      source.disconnect();
      void ctx.close().catch(() => undefined);
    };
  }, [stream]);

  return (
    <div className="flex items-center gap-2">
      <span className="w-20 shrink-0 text-xs text-zinc-500" id="mic-level-label">
        Mic level
      </span>
      <div
        ref={meterRef}
        role="meter"
        aria-labelledby="mic-level-label"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={0}
        data-testid="mic-meter"
        className="h-2 flex-1 overflow-hidden rounded-full bg-zinc-800"
      >
        <div
          ref={barRef}
          className="h-full w-0 rounded-full bg-gradient-to-r from-emerald-500 via-emerald-400 to-amber-400 transition-[width] duration-75"
        />
      </div>
    </div>
  );
}

/** A picker of one kind of media device; until the browser lists them, a hint to turn the device on. */
function DeviceSelect({
  id,
  label,
  devices,
  value,
  disabled,
  onChange,
}: {
  id: string;
  label: string;
  devices: readonly MediaDeviceInfo[];
  value: string;
  disabled: boolean;
  onChange: (deviceId: string) => void;
}) {
  return (
    <Field id={id} label={label}>
      <Select
        id={id}
        value={value}
        disabled={disabled || devices.length === 0}
        onChange={(e) => onChange(e.target.value)}
      >
        {devices.length === 0 && <option value="">{`Turn on the ${label.toLowerCase()} to choose`}</option>}
        {devices.map((d, i) => (
          <option key={d.deviceId || i} value={d.deviceId}>
            {d.label || `${label} ${i + 1}`}
          </option>
        ))}
      </Select>
    </Field>
  );
}
