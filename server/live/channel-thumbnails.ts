/** Thumbnails of the live picture: each new segment of the smallest rendition is offered to the thumbnailer. */
import path from 'node:path';
import type { LiveOutput } from '../packager/live-output.ts';

/** Thumbnails of the live picture (transcode/thumbnail.ts). */
export interface Thumbnails {
  readonly path: string | undefined;
  offer(initPath: string, segmentPath: string): void;
  close(): void;
}

export function feedThumbnails(output: LiveOutput, thumbnails: Thumbnails): void {
  output.on('segment', (trackId, segment, run) => {
    // Thumbnails come from the smallest rendition: the cheapest to decode.
    const smallest = run.tracks.filter((t) => t.id !== 'audio').at(-1);
    if (trackId !== smallest?.id) return;
    const initUri = output.timeline.getRun(run.runId).tracks.get(trackId)?.initUri;
    if (initUri) thumbnails.offer(path.join(output.liveDir, initUri), path.join(output.liveDir, segment.uri));
  });
}
