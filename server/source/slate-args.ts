/**
 * argv for the slate: a still image and silence, encoded in real time into the
 * channel's codecs and sent as RTP to two ports on loopback, where the slate
 * source reads them. A keyframe every second (with its parameter sets), so the
 * output can switch to it at once.
 */
export interface SlateArgsOptions {
  image: string;
  video: 'H264' | 'VP8';
  audio: boolean;
  videoPort: number;
  audioPort: number | undefined;
  videoPayloadType: number;
  audioPayloadType: number;
  width?: number;
  height?: number;
  fps?: number;
}

export function buildSlateArgs(o: SlateArgsOptions): string[] {
  const width = o.width ?? 1280;
  const height = o.height ?? 720;
  const fps = o.fps ?? 10;
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-re',
    '-loop',
    '1',
    '-framerate',
    String(fps),
    '-i',
    o.image,
  ];
  if (o.audio) args.push('-re', '-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=stereo');
  args.push(
    '-map',
    '0:v:0',
    '-vf',
    `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p`,
  );
  if (o.video === 'H264') {
    args.push(
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'stillimage',
      '-profile:v',
      'baseline',
      '-bf',
      '0',
      '-g',
      String(fps),
      '-b:v',
      '300k',
      // SPS and PPS before every keyframe: a decoder can start on any of them.
      '-bsf:v',
      'dump_extra=freq=keyframe',
    );
  } else {
    args.push('-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-g', String(fps), '-b:v', '300k');
  }
  args.push(
    '-payload_type',
    String(o.videoPayloadType),
    '-f',
    'rtp',
    `rtp://127.0.0.1:${o.videoPort}?pkt_size=1200`,
  );
  if (o.audio && o.audioPort !== undefined) {
    args.push(
      '-map',
      '1:a:0',
      '-c:a',
      'libopus',
      '-b:a',
      '32k',
      '-ar',
      '48000',
      '-ac',
      '2',
      '-payload_type',
      String(o.audioPayloadType),
      '-f',
      'rtp',
      `rtp://127.0.0.1:${o.audioPort}?pkt_size=1200`,
    );
  }
  return args;
}
