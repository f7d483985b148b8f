/** ABR ladder presets: data, one entry per rendition, highest first. */
export interface Rendition {
  name: string;
  width: number;
  height: number;
  videoKbps: number;
}

export interface Ladder {
  name: LadderName;
  renditions: readonly Rendition[];
  audioKbps: number;
}

export const LADDER_NAMES = ['1080p', '720p', '480p'] as const;
export type LadderName = (typeof LADDER_NAMES)[number];

const R1080: Rendition = { name: '1080p', width: 1920, height: 1080, videoKbps: 5000 };
const R720: Rendition = { name: '720p', width: 1280, height: 720, videoKbps: 3000 };
const R480: Rendition = { name: '480p', width: 854, height: 480, videoKbps: 1400 };
const R360: Rendition = { name: '360p', width: 640, height: 360, videoKbps: 800 };

export const LADDERS: Readonly<Record<LadderName, Ladder>> = {
  '1080p': { name: '1080p', renditions: [R1080, R720, R480, R360], audioKbps: 128 },
  '720p': { name: '720p', renditions: [R720, R480, R360], audioKbps: 128 },
  '480p': { name: '480p', renditions: [R480, R360], audioKbps: 128 },
};

export const DEFAULT_LADDER: LadderName = '720p';
