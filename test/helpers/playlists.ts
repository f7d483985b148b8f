/** Reading HLS media playlists in tests. */
export interface MediaSegment {
  uri: string;
  map: string;
  pdt: string | undefined;
  duration: number;
}

export interface MediaPlaylist {
  segments: MediaSegment[];
  maps: string[];
  discontinuities: number;
  mediaSequence: number;
  ended: boolean;
  playlistType: string | undefined;
}

export function parseMediaPlaylist(text: string): MediaPlaylist {
  const segments: MediaSegment[] = [];
  const maps: string[] = [];
  let map = '';
  let pdt: string | undefined;
  let duration = 0;
  let discontinuities = 0;
  let mediaSequence = 0;
  let playlistType: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^#EXT-X-MAP:URI="([^"]+)"/.exec(line);
    if (m) {
      map = m[1]!;
      maps.push(map);
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:'))
      pdt = line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length);
    else if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice('#EXTINF:'.length));
    else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) mediaSequence = Number(line.split(':')[1]);
    else if (line.startsWith('#EXT-X-PLAYLIST-TYPE:')) playlistType = line.split(':')[1];
    else if (line === '#EXT-X-DISCONTINUITY') discontinuities++;
    else if (line && !line.startsWith('#')) {
      segments.push({ uri: line, map, pdt, duration });
      pdt = undefined;
    }
  }
  return {
    segments,
    maps,
    discontinuities,
    mediaSequence,
    ended: text.includes('#EXT-X-ENDLIST'),
    playlistType,
  };
}

/** Seconds of media a playlist lists. */
export function playlistSeconds(p: MediaPlaylist): number {
  return p.segments.reduce((n, s) => n + s.duration, 0);
}
