/**
 * The RTMP protocol layer — handshake, chunk stream, AMF0 commands, FLV tag
 * parsing — is node-media-server's (4.x, `src/protocol/rtmp.js`); onair uses
 * only that class, not its server, sessions or HTTP API. What is onair's own is
 * the answer to `publish`: node-media-server answers NetStream.Publish.Start at
 * once, so `onPublish` is replaced here to check the stream key first and
 * answer with an error status a client shows (OBS: "invalid stream key";
 * FFmpeg: "Server error: …") when it is refused.
 */
import { createRequire } from 'node:module';

/** The parts of node-media-server's Rtmp class onair uses. */
interface NmsRtmp {
  streamApp: string;
  streamName: string;
  streamId: number;
  parserPacket: { header: { stream_id: number; length: number } };
  onOutputCallback: (buffer: Buffer) => void;
  onPacketCallback: (packet: NmsAvPacket) => void;
  parserData(buffer: Buffer): string | null;
  respondPublish(): void;
  sendStatusMessage(sid: number, level: string, code: string, description: string): void;
  onConnect(msg: { transId: number; cmdObj: Record<string, unknown> }): void;
  packetAlloc(): void;
}

/** An FLV tag as node-media-server hands it out; `data` is only valid during the call. */
export interface NmsAvPacket {
  /** 8 audio, 9 video, 18 script data. */
  codec_type: number;
  codec_id: number;
  /** Video: 2 sequence header, 3 keyframe, 4 other frame; audio: 0 sequence header, 1 frame; 5 script. */
  flags: number;
  dts: number;
  pts: number;
  size: number;
  data: Buffer;
}

/**
 * The largest RTMP message taken (8 MiB). node-media-server reserves a message's declared length
 * (up to 16 MiB) on its first chunk header, before any authentication; a keyframe of a 4K stream
 * at 50 Mbit/s with a 2 s GOP stays well under this.
 */
export const MAX_RTMP_MESSAGE_BYTES = 8 * 1024 * 1024;

/** A chunk declared a message longer than MAX_RTMP_MESSAGE_BYTES. */
export class RtmpMessageTooLargeError extends Error {
  override name = 'RtmpMessageTooLargeError';
  readonly code = 'rtmp_message_too_large';
  readonly length: number;
  constructor(length: number) {
    super(
      `an RTMP message of ${String(length)} bytes is over the ${String(MAX_RTMP_MESSAGE_BYTES)}-byte limit`,
    );
    this.length = length;
  }
}

const require = createRequire(import.meta.url);
const NmsRtmpClass = require('node-media-server/src/protocol/rtmp.js') as new () => NmsRtmp;

export type PublishDecision =
  | { ok: true }
  | {
      ok: false;
      /** NetStream.Publish.BadName (stream already published) or NetStream.Publish.Rejected. */
      code: 'NetStream.Publish.BadName' | 'NetStream.Publish.Rejected';
      description: string;
    };

export interface RtmpProtocolHandlers {
  /** Bytes for the socket. */
  output(buffer: Buffer): void;
  /** `publish` arrived for app/streamName (query string stripped off `name`). */
  publish(app: string, name: string): Promise<PublishDecision>;
  /** `play`: onair offers no RTMP playback. */
  play(): void;
  /** An FLV tag of the accepted publisher. */
  packet(packet: NmsAvPacket): void;
}

/** One RTMP connection's protocol state. */
export class RtmpProtocol extends NmsRtmpClass {
  readonly #handlers: RtmpProtocolHandlers;
  #publishing = false;
  #deciding = false;

  constructor(handlers: RtmpProtocolHandlers) {
    super();
    this.#handlers = handlers;
    this.onOutputCallback = (buffer) => handlers.output(buffer);
    this.onPacketCallback = (packet) => {
      if (this.#publishing) handlers.packet(packet);
    };
  }

  get publishing(): boolean {
    return this.#publishing;
  }

  /** Feeds socket bytes; throws or returns an error string on malformed input. */
  read(buffer: Buffer): string | null {
    return this.parserData(buffer);
  }

  override packetAlloc(): void {
    const length = this.parserPacket.header.length;
    if (length > MAX_RTMP_MESSAGE_BYTES) throw new RtmpMessageTooLargeError(length);
    super.packetAlloc();
  }

  override onConnect(msg: { transId: number; cmdObj: Record<string, unknown> }): void {
    // node-media-server parses tcUrl with `new URL`, which throws on a missing or odd one.
    const cmdObj = { ...(msg.cmdObj ?? {}) };
    try {
      new URL(String(cmdObj.tcUrl));
    } catch {
      cmdObj.tcUrl = 'rtmp://localhost/';
    }
    super.onConnect({ ...msg, cmdObj });
  }

  onPublish(msg: { streamName?: unknown }): void {
    const full = typeof msg.streamName === 'string' ? msg.streamName : '';
    this.streamName = full.split('?')[0] ?? '';
    this.streamId = this.parserPacket.header.stream_id;
    if (this.#publishing || this.#deciding) return;
    // While the key is checked, a second publish on this connection is ignored.
    this.#deciding = true;
    const streamId = this.streamId;
    void this.#handlers.publish(String(this.streamApp ?? ''), this.streamName).then((decision) => {
      this.#deciding = false;
      if (decision.ok) {
        this.#publishing = true;
        this.respondPublish();
      } else {
        this.sendStatusMessage(streamId, 'error', decision.code, decision.description);
      }
    });
  }

  onPlay(): void {
    this.streamId = this.parserPacket.header.stream_id;
    this.sendStatusMessage(
      this.streamId,
      'error',
      'NetStream.Play.Failed',
      'this server offers no RTMP playback',
    );
    this.#handlers.play();
  }
}
