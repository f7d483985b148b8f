/**
 * SDP that FFmpeg reads (`-protocol_whitelist file,udp,rtp -i input.sdp`) to receive the RTP the
 * SFU forwards on loopback.
 *
 * What FFmpeg 5.1 does with these ports (verified on this machine via /proc/net/udp):
 * - for every m= line it binds TWO UDP sockets: `port` for RTP and `port + 1` for RTCP (it does not
 *   understand `a=rtcp-mux`, so port + 1 is always taken: allocate even/odd pairs, see udp-port.ts);
 * - RTCP is parsed from either socket: packets with PT 200..204 arriving on the RTP port are treated as
 *   RTCP too (rtpdec demuxes by payload type), so the forwarder may send RTCP muxed on `port` or on
 *   `port + 1`; it only ever needs to send RTP to `port`;
 * - with `-localaddr 127.0.0.1` (see ffmpeg-args.ts) the sockets bind 127.0.0.1, otherwise 0.0.0.0;
 * - FFmpeg sends its own receiver reports to c=address:port+1, i.e. to itself here: harmless.
 * - without RTCP sender reports each stream's timestamps start at 0 at its first packet; once an SR
 *   arrives FFmpeg switches that stream to NTP-synchronised timestamps, so a forwarder that relays SRs
 *   should relay them from the start for every stream (or never).
 */

export interface InputSdpVideo {
  codec: 'H264' | 'VP8';
  payloadType: number;
  clockRate: 90000;
  /** fmtp parameters as negotiated with the publisher, e.g. `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f`. */
  fmtp?: string;
  port: number;
}

export interface InputSdpAudio {
  codec: 'opus';
  payloadType: number;
  clockRate: 48000;
  channels: 2;
  port: number;
}

export interface InputSdpOptions {
  video: InputSdpVideo;
  /** More video streams after the first (the renditions of a multi-bitrate source). */
  moreVideo?: readonly InputSdpVideo[];
  audio?: InputSdpAudio;
  address: '127.0.0.1';
}

function checkPort(port: number, what: string): void {
  // port + 1 is bound for RTCP, so it must exist too.
  if (!Number.isInteger(port) || port < 1 || port > 65534) {
    throw new RangeError(`${what} port must be an integer from 1 to 65534, got ${String(port)}`);
  }
}

function checkPayloadType(pt: number, what: string): void {
  if (!Number.isInteger(pt) || pt < 0 || pt > 127) {
    throw new RangeError(`${what} payload type must be an integer from 0 to 127, got ${String(pt)}`);
  }
}

/** Build the SDP text (CRLF line endings, as RFC 4566 asks; FFmpeg accepts it). */
export function buildInputSdp(input: InputSdpOptions): string {
  const { video, audio, address } = input;
  const videos = [video, ...(input.moreVideo ?? [])];
  for (const v of videos) {
    checkPort(v.port, 'video');
    checkPayloadType(v.payloadType, 'video');
    if (v.fmtp !== undefined && /[\r\n]/.test(v.fmtp)) {
      throw new RangeError('video fmtp must be a single line');
    }
  }
  const ports = [...videos.map((v) => v.port), ...(audio ? [audio.port] : [])];
  if (audio) {
    checkPort(audio.port, 'audio');
    checkPayloadType(audio.payloadType, 'audio');
    if (Math.abs(audio.port - video.port) < 2) {
      throw new RangeError('audio and video ports overlap (each uses port and port + 1)');
    }
  }
  for (let i = 0; i < ports.length; i++)
    for (let j = i + 1; j < ports.length; j++)
      if (Math.abs(ports[i]! - ports[j]!) < 2)
        throw new RangeError('two streams use overlapping ports (each uses port and port + 1)');

  const lines = ['v=0', `o=- 0 0 IN IP4 ${address}`, 's=onair', `c=IN IP4 ${address}`, 't=0 0'];
  // Audio first: FFmpeg's RTP demuxer probes the streams in SDP order, and a video stream that is
  // slow to yield a decodable frame (an RTMP remuxer's, before its first keyframe) would otherwise hold
  // the audio back for tens of seconds. Stream specifiers (0:v:N, 0:a:0) do not depend on the order.
  if (audio) {
    lines.push(
      `m=audio ${String(audio.port)} RTP/AVP ${String(audio.payloadType)}`,
      `a=rtpmap:${String(audio.payloadType)} opus/${String(audio.clockRate)}/${String(audio.channels)}`,
      'a=recvonly',
    );
  }
  for (const v of videos) {
    lines.push(
      `m=video ${String(v.port)} RTP/AVP ${String(v.payloadType)}`,
      `a=rtpmap:${String(v.payloadType)} ${v.codec}/${String(v.clockRate)}`,
    );
    const fmtp = v.fmtp?.trim();
    if (fmtp) lines.push(`a=fmtp:${String(v.payloadType)} ${fmtp}`);
    lines.push('a=recvonly');
  }
  return lines.join('\r\n') + '\r\n';
}
