/**
 * A WHIP publisher in Node for tests and the benchmark: FFmpeg generates H.264
 * (or VP8) + Opus as RTP on loopback, werift sends it to the server over WebRTC.
 * Real media, real sockets, real FFmpeg.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { gatheredOffer } from './werift-peer.ts';

export interface WhipPublisherOptions {
  url: string;
  token: string;
  width?: number;
  height?: number;
  fps?: number;
  /** Keyframe interval in frames (browsers answer PLI; FFmpeg cannot, so it sends them often). */
  gop?: number;
  videoCodec?: 'H264' | 'VP8';
  audio?: boolean;
}

export interface WhipPublisher {
  /** POST result. */
  status: number;
  location: string | undefined;
  answer: string;
  postedAt: number;
  connected: Promise<void>;
  /** Sends DELETE to the session URL and stops sending media. */
  stop(): Promise<void>;
  /** Stops sending media without telling the server (a crash / network loss). */
  vanish(): Promise<void>;
}

async function bindLoopback(): Promise<Socket> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return sock;
}

/** A werift peer with sendonly video (H.264 or VP8) and, by default, Opus, and its complete (non-trickle) offer. */
export async function createPublisherPeer(opts: { codec?: 'H264' | 'VP8'; audio?: boolean } = {}): Promise<{
  pc: RTCPeerConnection;
  videoTrack: MediaStreamTrack;
  audioTrack: MediaStreamTrack;
  offer: string;
}> {
  const pc = new RTCPeerConnection({
    codecs: {
      video: [
        (opts.codec ?? 'H264') === 'H264'
          ? new RTCRtpCodecParameters({
              mimeType: 'video/H264',
              clockRate: 90000,
              rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
              parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
            })
          : new RTCRtpCodecParameters({
              mimeType: 'video/VP8',
              clockRate: 90000,
              rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
            }),
      ],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
    },
    iceUseIpv6: false,
    iceUseTcp: false,
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
  });
  const videoTrack = new MediaStreamTrack({ kind: 'video' });
  pc.addTransceiver(videoTrack, { direction: 'sendonly' });
  const audioTrack = new MediaStreamTrack({ kind: 'audio' });
  if (opts.audio ?? true) pc.addTransceiver(audioTrack, { direction: 'sendonly' });

  await gatheredOffer(pc);
  return { pc, videoTrack, audioTrack, offer: pc.localDescription?.sdp ?? '' };
}

/**
 * The publisher's media as FFmpeg options: the lavfi test pattern (input 0) and a tone (input 1), and
 * the encoder options of each (no output). The benchmark records the same media to a file.
 */
export function publisherMediaArgs(o: {
  width: number;
  height: number;
  fps: number;
  gop: number;
  codec: 'H264' | 'VP8';
}): { inputs: string[]; video: string[]; audio: string[] } {
  const encoder =
    o.codec === 'H264'
      ? [
          '-c:v',
          'libx264',
          '-profile:v',
          'baseline',
          '-preset',
          'ultrafast',
          '-tune',
          'zerolatency',
          '-x264-params',
          'repeat-headers=1',
          '-b:v',
          '2000k',
        ]
      : ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1500k'];
  return {
    inputs: [
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`,
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=48000',
    ],
    video: [...encoder, '-g', String(o.gop), '-keyint_min', String(o.gop), '-pix_fmt', 'yuv420p', '-bf', '0'],
    audio: ['-c:a', 'libopus', '-ac', '2', '-b:a', '64k'],
  };
}

export async function publishWhip(o: WhipPublisherOptions): Promise<WhipPublisher> {
  const width = o.width ?? 1280;
  const height = o.height ?? 720;
  const fps = o.fps ?? 20;
  const gop = o.gop ?? fps;
  const codec = o.videoCodec ?? 'H264';
  const withAudio = o.audio ?? true;

  const { pc, videoTrack, audioTrack, offer } = await createPublisherPeer({ codec, audio: withAudio });
  const postedAt = Date.now();
  const res = await fetch(o.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${o.token}` },
    body: offer,
  });
  const answer = await res.text();
  const location = res.headers.get('location') ?? undefined;
  let ffmpeg: ChildProcess | undefined;
  const sockets: Socket[] = [];
  let stopped = false;

  const stopMedia = async () => {
    if (stopped) return;
    stopped = true;
    if (ffmpeg && ffmpeg.exitCode === null) {
      const exited = new Promise((r) => ffmpeg!.once('exit', r));
      ffmpeg.kill('SIGKILL');
      await exited;
    }
    for (const s of sockets) s.close();
    await pc.close();
  };

  if (res.status !== 201) {
    await stopMedia();
    return {
      status: res.status,
      location,
      answer,
      postedAt,
      connected: Promise.reject(new Error(`WHIP POST failed: ${res.status} ${answer}`)),
      stop: stopMedia,
      vanish: stopMedia,
    };
  }
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });

  const connected = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('publisher did not connect in 10 s')), 10_000);
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        clearTimeout(t);
        resolve();
      }
    });
  });
  connected.catch(() => undefined);

  // Start generating media once connected.
  void connected.then(async () => {
    if (stopped) return;
    const vsock = await bindLoopback();
    const asock = await bindLoopback();
    sockets.push(vsock, asock);
    vsock.on('message', (buf) => videoTrack.writeRtp(buf));
    asock.on('message', (buf) => audioTrack.writeRtp(buf));
    const vport = vsock.address().port;
    const aport = asock.address().port;
    const media = publisherMediaArgs({ width, height, fps, gop, codec });
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      '-re',
      ...media.inputs,
      '-map',
      '0:v',
      ...media.video,
      '-payload_type',
      '96',
      '-f',
      'rtp',
      `rtp://127.0.0.1:${vport}?pkt_size=1100`,
      ...(withAudio
        ? [
            '-map',
            '1:a',
            ...media.audio,
            '-payload_type',
            '111',
            '-f',
            'rtp',
            `rtp://127.0.0.1:${aport}?pkt_size=1100`,
          ]
        : []),
    ];
    ffmpeg = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  });

  return {
    status: res.status,
    location,
    answer,
    postedAt,
    connected,
    stop: async () => {
      if (location) {
        await fetch(new URL(location, o.url), {
          method: 'DELETE',
          headers: { Authorization: `Bearer ${o.token}` },
        }).catch(() => undefined);
      }
      await stopMedia();
    },
    vanish: stopMedia,
  };
}
