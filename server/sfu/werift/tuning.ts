/**
 * Two adjustments to werift's transport, found by profiling the forwarding path
 * (README, "Measured"). Both reach into werift's objects by shape and change
 * nothing when the shape is not there, so a werift upgrade degrades to its
 * own behaviour rather than breaking.
 *
 * - SRTP keys as KeyObjects. werift passes raw key Buffers to
 *   createCipheriv/createDecipheriv/createHmac for every packet, and Node then
 *   re-validates the key each time (prepareSecretKey's KeyObject and CryptoKey
 *   brand checks): a quarter of the server's CPU with 25 viewers. A KeyObject
 *   made once makes each AES-GCM packet ~3.5× cheaper (15 → 4 µs here).
 * - Larger socket receive buffers for a publisher's ICE sockets: a keyframe
 *   arrives as a burst of packets while the event loop may be busy forwarding
 *   the previous ones to every viewer; the kernel's default (208 KiB) overflows.
 */
import { createSecretKey } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { RtpHeader, RtpPacket } from 'werift';

interface CipherShape {
  srtpSessionKey?: unknown;
  srtcpSessionKey?: unknown;
  srtpSessionAuthTag?: unknown;
  srtcpSessionAuthTag?: unknown;
}

interface SessionShape {
  localContext?: { cipher?: CipherShape };
  remoteContext?: { cipher?: CipherShape };
}

interface DtlsShape {
  srtp?: SessionShape;
  srtcp?: SessionShape;
  iceTransport?: { connection?: { protocols?: { transport?: { socket?: unknown } }[] } };
}

const KEY_FIELDS = [
  'srtpSessionKey',
  'srtcpSessionKey',
  'srtpSessionAuthTag',
  'srtcpSessionAuthTag',
] as const;

/** Replaces the SRTP/SRTCP session keys of a connected DTLS transport by KeyObjects. Idempotent. */
export function useKeyObjects(dtlsTransport: unknown): number {
  const dtls = dtlsTransport as DtlsShape | undefined;
  let replaced = 0;
  for (const session of [dtls?.srtp, dtls?.srtcp]) {
    for (const context of [session?.localContext, session?.remoteContext]) {
      const cipher = context?.cipher;
      if (!cipher) continue;
      for (const field of KEY_FIELDS) {
        const key = cipher[field];
        if (Buffer.isBuffer(key) && key.length > 0) {
          cipher[field] = createSecretKey(key);
          replaced++;
        }
      }
    }
  }
  return replaced;
}

/** Asks for `bytes` of kernel receive buffer on every ICE socket of a DTLS transport (capped by the OS). */
export function enlargeReceiveBuffers(dtlsTransport: unknown, bytes: number): void {
  const dtls = dtlsTransport as DtlsShape | undefined;
  for (const protocol of dtls?.iceTransport?.connection?.protocols ?? []) {
    const socket = protocol.transport?.socket as Partial<Socket> | undefined;
    try {
      if (socket?.setRecvBufferSize && (socket.getRecvBufferSize?.() ?? 0) < bytes)
        socket.setRecvBufferSize(bytes);
    } catch {
      // Above the OS maximum (net.core.rmem_max): the default stays.
    }
  }
}

/** What the lean send path needs of werift's RTCRtpSender (private fields, read by shape). */
interface SenderShape {
  ssrc: number;
  stopped: boolean;
  codec?: { payloadType: number };
  dtlsTransport?: {
    state: string;
    sendRtp(payload: Buffer, header: RtpHeader): Promise<number>;
    iceTransport?: { connection?: { nominated?: { protocol?: { transport?: { socket?: unknown } } } } };
  };
  rtpCache: unknown[];
  packetCount: number;
  octetCount: number;
  headerBytesSent: number;
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  runRtcp(): Promise<void>;
}

/** Seconds between 1900 (NTP) and 1970 (Unix). */
const NTP_EPOCH_OFFSET = 2_208_988_800;
/** werift answers NACKs from this many packets back (RTCRtpSender's RTP_HISTORY_SIZE). */
const HISTORY = 128;

function ntpNow(): bigint {
  const ms = Date.now();
  const seconds = BigInt(Math.floor(ms / 1000) + NTP_EPOCH_OFFSET);
  const fraction = BigInt(Math.floor(((ms % 1000) / 1000) * 2 ** 32));
  return (seconds << 32n) | fraction;
}

/**
 * Sends forwarded packets through a werift sender's transport, doing only what
 * a forwarded packet needs: the sender's SSRC and payload type, the NACK
 * history, the counters its RTCP sender reports carry. werift's own sendRtp
 * also clones the packet, rebuilds header extensions, feeds a bandwidth
 * estimator and reads the NTP clock for every packet; here the NTP/RTP pair
 * for sender reports is refreshed at most every 100 ms (any consistent pair
 * will do). A socket with `maxQueued` sends still waiting in the kernel's way
 * drops the packet instead of queueing more: a viewer never holds memory for
 * the others. Undefined when the sender does not have the expected shape.
 */
export class LeanRtpSender {
  readonly #s: SenderShape;
  readonly #maxQueued: number;
  #pairAt = -Infinity;
  dropped = 0;

  private constructor(sender: SenderShape, maxQueued: number) {
    this.#s = sender;
    this.#maxQueued = maxQueued;
  }

  static for(sender: unknown, maxQueued = 256): LeanRtpSender | undefined {
    const s = sender as Partial<SenderShape> | undefined;
    const ok =
      s !== undefined &&
      typeof s.ssrc === 'number' &&
      Array.isArray(s.rtpCache) &&
      typeof s.packetCount === 'number' &&
      typeof s.octetCount === 'number' &&
      typeof s.headerBytesSent === 'number' &&
      typeof s.ntpTimestamp === 'bigint' &&
      typeof s.runRtcp === 'function' &&
      typeof s.dtlsTransport?.sendRtp === 'function';
    return ok ? new LeanRtpSender(s as SenderShape, maxQueued) : undefined;
  }

  /** False when the sender cannot send now (stopped, not connected, no codec). */
  send(seq: number, ts: number, marker: boolean, payload: Buffer): boolean {
    const s = this.#s;
    const dtls = s.dtlsTransport;
    if (s.stopped || !s.codec || dtls?.state !== 'connected') return false;
    const socket = dtls.iceTransport?.connection?.nominated?.protocol?.transport?.socket as
      { getSendQueueCount?: () => number } | undefined;
    if ((socket?.getSendQueueCount?.() ?? 0) > this.#maxQueued) {
      this.dropped++;
      return false;
    }
    const header = new RtpHeader({
      ssrc: s.ssrc,
      payloadType: s.codec.payloadType,
      sequenceNumber: seq,
      timestamp: ts,
      marker,
    });
    s.rtpCache[seq % HISTORY] = new RtpPacket(header, payload);
    s.packetCount = (s.packetCount + 1) >>> 0;
    s.octetCount += payload.length;
    s.headerBytesSent += 12;
    const now = performance.now();
    if (now - this.#pairAt >= 100) {
      this.#pairAt = now;
      s.ntpTimestamp = ntpNow();
      s.rtpTimestamp = ts;
    }
    void dtls.sendRtp(payload, header);
    void s.runRtcp();
    return true;
  }
}
