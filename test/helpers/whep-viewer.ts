/**
 * A WHEP viewer in Node for tests and the benchmark: a werift peer connection
 * with recvonly video (H.264 and VP8 offered) and audio (Opus), its complete
 * offer POSTed to /whep/:channelId. It counts what arrives per kind — packets,
 * sequence gaps, SSRCs, keyframes — and answers nothing but what werift does by
 * itself (receiver reports, NACKs, consent). Real sockets, real SRTP.
 */
import {
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtcpRrPacket,
  SrtpAuthenticationError,
  type RtpPacket,
} from 'werift';
import { isKeyframeStart } from '../../server/media/rtp.ts';
import { gatheredOffer } from './werift-peer.ts';

export interface WhepViewerOptions {
  /** The channel's WHEP endpoint. */
  url: string;
  /** Offer these video codecs (default H.264 then VP8). */
  videoCodecs?: ('H264' | 'VP8')[];
  audio?: boolean;
  video?: boolean;
  /** Extra request headers (tests). */
  headers?: Record<string, string>;
  /**
   * Count packets from the clear-text RTP header of each SRTP packet, without
   * decrypting or decoding (the benchmark's capacity ramp: many viewers whose own
   * CPU must stay small next to the server's). Keyframes are not counted; a
   * receiver report goes out every second so the server keeps the session.
   */
  light?: boolean;
  /** Drop this share of incoming packets (percent) before werift sees them: the viewer NACKs them. */
  lossPercent?: number;
}

export interface KindCounters {
  packets: number;
  bytes: number;
  /** Sequence numbers skipped (forward jumps), i.e. packets never seen. */
  gaps: number;
  /** Packets whose sequence number went backwards (reordered, resent, or a bad rewrite). */
  backwards: number;
  /** Distinct SSRCs seen: a continuous stream keeps one. */
  ssrcs: number[];
  keyframes: number;
  /** Largest timestamp step between consecutive packets, in the track's clock. */
  maxTsJump: number;
  codec: string | undefined;
  firstAt: number | undefined;
  firstKeyframeAt: number | undefined;
  lastAt: number | undefined;
}

export interface WhepViewer {
  status: number;
  location: string | undefined;
  etag: string | undefined;
  retryAfter: string | undefined;
  answer: string;
  postedAt: number;
  connected: Promise<void>;
  readonly counters: { video: KindCounters; audio: KindCounters };
  readonly connectionState: string;
  /** DELETE on the session URL, then close. */
  stop(): Promise<number | undefined>;
  /** Close without telling the server (a crash, a lost network). */
  vanish(): Promise<void>;
}

function counters(): KindCounters {
  return {
    packets: 0,
    bytes: 0,
    gaps: 0,
    backwards: 0,
    ssrcs: [],
    keyframes: 0,
    maxTsJump: 0,
    codec: undefined,
    firstAt: undefined,
    firstKeyframeAt: undefined,
    lastAt: undefined,
  };
}

export async function createViewerPeer(
  opts: { videoCodecs?: ('H264' | 'VP8')[]; audio?: boolean; video?: boolean; lossPercent?: number } = {},
): Promise<{ pc: RTCPeerConnection; offer: string }> {
  const feedback = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }];
  const video = (opts.videoCodecs ?? ['H264', 'VP8']).map((c) =>
    c === 'H264'
      ? new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90000,
          rtcpFeedback: feedback,
          parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
        })
      : new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback: feedback }),
  );
  const pc = new RTCPeerConnection({
    codecs: {
      video,
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
    },
    iceUseIpv6: false,
    iceUseTcp: false,
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    // werift keeps a packet when (inboundPacketLoss / 100) >= a random number: the value is the share kept.
    ...(opts.lossPercent ? { debug: { inboundPacketLoss: 100 - opts.lossPercent } } : {}),
  });
  if (opts.video ?? true) pc.addTransceiver('video', { direction: 'recvonly' });
  if (opts.audio ?? true) pc.addTransceiver('audio', { direction: 'recvonly' });
  await gatheredOffer(pc);
  return { pc, offer: pc.localDescription?.sdp ?? '' };
}

export async function watchWhep(o: WhepViewerOptions): Promise<WhepViewer> {
  const { pc, offer } = await createViewerPeer(o);
  const c = { video: counters(), audio: counters() };
  const last: Record<'video' | 'audio', { seq: number; ts: number } | undefined> = {
    video: undefined,
    audio: undefined,
  };
  let lastKeyframeTs = -1;
  let answerSdp = '';
  if (o.light) {
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') lighten(pc, answerPayloadTypes(answerSdp), c, last);
    });
  }
  pc.onTrack.subscribe((track) => {
    const kind = track.kind === 'video' ? 'video' : 'audio';
    const k = c[kind];
    track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      const now = Date.now();
      const { sequenceNumber: seq, timestamp: ts, ssrc } = rtp.header;
      k.packets++;
      k.bytes += rtp.payload.length;
      k.firstAt ??= now;
      k.lastAt = now;
      k.codec ??= track.codec?.name;
      if (!k.ssrcs.includes(ssrc)) k.ssrcs.push(ssrc);
      const prev = last[kind];
      if (prev) {
        const d = (seq - prev.seq) & 0xffff;
        if (d === 0 || d >= 0x8000) k.backwards++;
        else {
          k.gaps += d - 1;
          const jump = (ts - prev.ts) >>> 0;
          if (jump < 0x80000000) k.maxTsJump = Math.max(k.maxTsJump, jump);
          last[kind] = { seq, ts };
        }
      } else last[kind] = { seq, ts };
      // One keyframe per timestamp: its SPS, PPS and IDR packets all count as its start.
      if (
        kind === 'video' &&
        ts !== lastKeyframeTs &&
        isKeyframeStart(track.codec?.name.toUpperCase() ?? '', rtp.payload)
      ) {
        lastKeyframeTs = ts;
        k.keyframes++;
        k.firstKeyframeAt ??= now;
      }
    });
  });

  const postedAt = Date.now();
  const res = await fetch(o.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', ...o.headers },
    body: offer,
  });
  const answer = await res.text();
  answerSdp = answer;
  const location = res.headers.get('location') ?? undefined;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await pc.close();
  };
  const base = {
    status: res.status,
    location,
    etag: res.headers.get('etag') ?? undefined,
    retryAfter: res.headers.get('retry-after') ?? undefined,
    answer,
    postedAt,
    counters: c,
    get connectionState() {
      return pc.connectionState;
    },
  };
  if (res.status !== 201) {
    await close();
    const failed = Promise.reject(new Error(`WHEP POST answered ${res.status}: ${answer}`));
    failed.catch(() => undefined);
    return Object.assign(base, { connected: failed, stop: () => Promise.resolve(undefined), vanish: close });
  }
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  const connected = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('viewer did not connect in 10 s')), 10_000);
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        clearTimeout(t);
        resolve();
      } else if (s === 'failed' || s === 'closed') {
        clearTimeout(t);
        reject(new Error(`viewer connection ${s}`));
      }
    });
  });
  connected.catch(() => undefined);
  // (Object.assign, not a spread: the connectionState getter must stay a getter.)
  return Object.assign(base, {
    connected,
    stop: async () => {
      let status: number | undefined;
      if (location) {
        status = await fetch(new URL(location, o.url), { method: 'DELETE' }).then(
          (r) => r.status,
          () => undefined,
        );
      }
      await close();
      return status;
    },
    vanish: close,
  });
}

/** The payload types of the answer's video and audio sections. */
function answerPayloadTypes(answer: string): { video: Set<number>; audio: Set<number> } {
  const out = { video: new Set<number>(), audio: new Set<number>() };
  for (const section of answer.split(/\r?\n(?=m=)/).slice(1)) {
    const m = /^m=(video|audio) \d+ \S+ ([\d ]+)/.exec(section);
    if (m) for (const pt of m[2]!.trim().split(' ')) out[m[1] as 'video' | 'audio'].add(Number(pt));
  }
  return out;
}

interface LightDtls {
  srtp?: { decrypt: (buf: Buffer) => Buffer };
  sendRtcp(packets: RtcpRrPacket[]): Promise<void>;
}

/** The light mode: count from the SRTP header, drop the packet before werift decrypts it. */
function lighten(
  pc: RTCPeerConnection,
  pts: { video: Set<number>; audio: Set<number> },
  c: { video: KindCounters; audio: KindCounters },
  last: Record<'video' | 'audio', { seq: number; ts: number } | undefined>,
): void {
  for (const t of pc.dtlsTransports as unknown as LightDtls[]) {
    if (!t.srtp) continue;
    t.srtp.decrypt = (buf: Buffer) => {
      const pt = (buf[1] ?? 0) & 0x7f;
      const kind = pts.video.has(pt) ? 'video' : pts.audio.has(pt) ? 'audio' : undefined;
      if (kind && buf.length >= 12) {
        const k = c[kind];
        const seq = buf.readUInt16BE(2);
        const ts = buf.readUInt32BE(4);
        const ssrc = buf.readUInt32BE(8);
        const now = Date.now();
        k.packets++;
        k.bytes += buf.length;
        k.firstAt ??= now;
        k.lastAt = now;
        if (!k.ssrcs.includes(ssrc)) k.ssrcs.push(ssrc);
        const prev = last[kind];
        if (prev) {
          const d = (seq - prev.seq) & 0xffff;
          if (d === 0 || d >= 0x8000) k.backwards++;
          else {
            k.gaps += d - 1;
            last[kind] = { seq, ts };
          }
        } else last[kind] = { seq, ts };
      }
      // werift drops packets that fail authentication, cheaply and quietly.
      throw new SrtpAuthenticationError('not decrypted (light viewer)');
    };
    const timer = setInterval(() => {
      if (pc.connectionState === 'closed') return clearInterval(timer);
      t.sendRtcp([new RtcpRrPacket({ ssrc: 1, reports: [] })]).catch(() => undefined);
    }, 1000);
    timer.unref();
  }
}
