/**
 * Part (CMAF chunk) length for a segment length: about a quarter segment, at most 0.5 s. Every
 * segment is written as a run of fragments of this length, whatever the channel's latency setting:
 * low latency only changes what the manifests announce. The encoder writes parts of this length
 * (transcode/ffmpeg-args.ts) and the playlists announce it (PART-TARGET): both read it here.
 */
export function partSecondsFor(segmentSeconds: number): number {
  return Math.min(0.5, segmentSeconds / 4);
}
