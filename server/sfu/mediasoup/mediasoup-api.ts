/**
 * The part of mediasoup's Node API (3.x) that onair uses, as structural types.
 * mediasoup is an optional dependency: it is absent wherever its installer
 * could not fetch or build a worker, and onair then runs on werift. Declaring
 * what we call here keeps the engine compiling either way; the module is
 * loaded at run time with `import('mediasoup')` (load-mediasoup.ts). The
 * shapes follow mediasoup's own typings (node/src/*Types.ts).
 */
export type MsKind = 'audio' | 'video';

export interface RtcpFeedback {
  type: string;
  parameter?: string;
}

export interface RtpCodecParameters {
  mimeType: string;
  payloadType: number;
  clockRate: number;
  channels?: number;
  parameters?: Record<string, string | number>;
  rtcpFeedback?: RtcpFeedback[];
}

export interface RtpHeaderExtensionParameters {
  uri: string;
  id: number;
  encrypt?: boolean;
  parameters?: Record<string, unknown>;
}

export interface RtpEncodingParameters {
  ssrc?: number;
  rid?: string;
  rtx?: { ssrc: number };
  codecPayloadType?: number;
  maxBitrate?: number;
  scalabilityMode?: string;
}

export interface RtpParameters {
  mid?: string;
  codecs: RtpCodecParameters[];
  headerExtensions?: RtpHeaderExtensionParameters[];
  encodings?: RtpEncodingParameters[];
  rtcp?: { cname?: string; reducedSize?: boolean };
  msid?: string;
}

export interface RtpCodecCapability {
  kind: MsKind;
  mimeType: string;
  preferredPayloadType?: number;
  clockRate: number;
  channels?: number;
  parameters?: Record<string, string | number>;
  rtcpFeedback?: RtcpFeedback[];
}

export interface RtpHeaderExtension {
  kind: MsKind;
  uri: string;
  preferredId: number;
  direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
}

export interface RtpCapabilities {
  codecs?: RtpCodecCapability[];
  headerExtensions?: RtpHeaderExtension[];
}

export interface IceParameters {
  usernameFragment: string;
  password: string;
  iceLite?: boolean;
}

export interface IceCandidate {
  foundation: string;
  priority: number;
  address: string;
  protocol: 'udp' | 'tcp';
  port: number;
  type: 'host';
  tcpType?: 'passive';
}

export type FingerprintAlgorithm = 'sha-1' | 'sha-224' | 'sha-256' | 'sha-384' | 'sha-512';

export interface DtlsParameters {
  role?: 'auto' | 'client' | 'server';
  fingerprints: { algorithm: FingerprintAlgorithm; value: string }[];
}

export interface TransportListenInfo {
  protocol: 'udp' | 'tcp';
  ip: string;
  announcedAddress?: string;
  port?: number;
  portRange?: { min: number; max: number };
  recvBufferSize?: number;
}

interface Closable {
  readonly id: string;
  readonly closed: boolean;
  close(): void;
}

interface Emitter<Events extends Record<string, unknown[]>> {
  on<E extends keyof Events & string>(event: E, listener: (...args: Events[E]) => void): unknown;
  off<E extends keyof Events & string>(event: E, listener: (...args: Events[E]) => void): unknown;
}

export interface Producer extends Closable, Emitter<{ transportclose: [] }> {
  readonly kind: MsKind;
  readonly rtpParameters: RtpParameters;
  /** DirectTransport producers only: injects one RTP packet. */
  send(rtpPacket: Buffer): void;
}

export interface ConsumerStat {
  type: string;
  packetCount?: number;
  byteCount?: number;
  nackCount?: number;
  nackPacketCount?: number;
  pliCount?: number;
  firCount?: number;
}

export interface Consumer
  extends Closable, Emitter<{ transportclose: []; producerclose: []; rtp: [Buffer] }> {
  readonly kind: MsKind;
  readonly rtpParameters: RtpParameters;
  requestKeyFrame(): Promise<void>;
  getStats(): Promise<ConsumerStat[]>;
}

export interface ConsumeOptions {
  producerId: string;
  rtpCapabilities?: RtpCapabilities;
  paused?: boolean;
  enableRtx?: boolean;
  ignoreDtx?: boolean;
}

interface TransportBase extends Closable {
  produce(opts: {
    kind: MsKind;
    rtpParameters: RtpParameters;
    keyFrameRequestDelay?: number;
  }): Promise<Producer>;
  consume(opts: ConsumeOptions): Promise<Consumer>;
}

export interface WebRtcTransport
  extends
    TransportBase,
    Emitter<{
      icestatechange: [string];
      dtlsstatechange: [string];
      routerclose: [];
      listenserverclose: [];
    }> {
  readonly iceParameters: IceParameters;
  readonly iceCandidates: IceCandidate[];
  readonly dtlsParameters: DtlsParameters;
  readonly dtlsState: string;
  connect(opts: { dtlsParameters: DtlsParameters }): Promise<void>;
}

export interface PlainTransport extends TransportBase, Emitter<{ routerclose: [] }> {
  readonly tuple: { localAddress?: string; localIp?: string; localPort: number };
  connect(opts: { ip: string; port: number; rtcpPort?: number }): Promise<void>;
}

export interface DirectTransport extends TransportBase, Emitter<{ routerclose: []; rtcp: [Buffer] }> {}

export type WebRtcServer = Closable;

export interface Router extends Closable, Emitter<{ workerclose: [] }> {
  readonly rtpCapabilities: RtpCapabilities;
  createWebRtcTransport(
    opts: ({ listenInfos: TransportListenInfo[] } | { webRtcServer: WebRtcServer }) & {
      enableUdp?: boolean;
      enableTcp?: boolean;
      preferUdp?: boolean;
      initialAvailableOutgoingBitrate?: number;
      iceConsentTimeout?: number;
    },
  ): Promise<WebRtcTransport>;
  createPlainTransport(opts: {
    listenInfo: TransportListenInfo;
    rtcpListenInfo?: TransportListenInfo;
    rtcpMux?: boolean;
    comedia?: boolean;
  }): Promise<PlainTransport>;
  createDirectTransport(opts?: { maxMessageSize?: number }): Promise<DirectTransport>;
}

export interface Worker extends Closable, Emitter<{ died: [Error] }> {
  readonly pid: number;
  readonly died: boolean;
  createRouter(opts: { mediaCodecs?: RtpCodecCapability[] }): Promise<Router>;
  createWebRtcServer(opts: { listenInfos: TransportListenInfo[] }): Promise<WebRtcServer>;
  getResourceUsage(): Promise<{ ru_utime: number; ru_stime: number }>;
}

export interface WorkerSettings {
  logLevel?: 'debug' | 'warn' | 'error' | 'none';
  rtcMinPort?: number;
  rtcMaxPort?: number;
  workerBin?: string;
}

/** The module itself: `import('mediasoup')`. */
export interface MediasoupModule {
  readonly version: string;
  readonly workerBin: string;
  createWorker(settings?: WorkerSettings): Promise<Worker>;
}
