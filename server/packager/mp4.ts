/**
 * Minimal ISO-BMFF (fMP4 / CMAF) reader: just enough of an init segment and of a
 * media segment for the server to own the segment timeline. Pure functions on
 * Buffers; every read is bounds-checked so corrupt input throws instead of
 * looping or reading garbage.
 */
import { MediaError } from '../media/errors.ts';

export interface InitInfo {
  kind: 'video' | 'audio';
  /** mdhd timescale: ticks per second of tfdt / sample durations. */
  timescale: number;
  /** RFC 6381 codec string, e.g. 'avc1.64001f', 'mp4a.40.2', 'opus'. */
  codec: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  trackId: number;
  /** From mvex/trex: used when neither trun nor tfhd give sample durations. */
  defaultSampleDuration?: number;
  /** From mvex/trex: used when neither trun nor tfhd give sample flags. */
  defaultSampleFlags?: number;
}

export interface FragmentInfo {
  /** tfdt of the first fragment, in the track timescale. */
  baseMediaDecodeTime: number;
  /** Sum of sample durations over all fragments, in the track timescale. */
  duration: number;
  sampleCount: number;
  startsWithKeyframe: boolean;
}

/** Defaults a media segment may rely on; an InitInfo can be passed as is. */
export interface SegmentDefaults {
  defaultSampleDuration?: number;
  defaultSampleFlags?: number;
}

interface Box {
  type: string;
  /** Offset of the box payload (after the header). */
  start: number;
  /** Offset one past the end of the box. */
  end: number;
}

function invalid(message: string): MediaError {
  return new MediaError('malformed_media', `invalid mp4: ${message}`);
}

/** Bounds-checked big-endian reader over one buffer. */
class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, start: number, end: number) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  need(n: number, what: string): void {
    if (this.pos + n > this.end) throw invalid(`truncated ${what}`);
  }
  skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf.readUInt8(this.pos++);
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(what: string): number {
    this.need(8, what);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    // Timestamps beyond 2^53 ticks would be centuries of media; refuse rather than round.
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(`${what} exceeds 2^53`);
    return Number(v);
  }
}

/** The child boxes of [start, end). Throws on any box that does not fit. */
function children(buf: Buffer, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  let pos = start;
  while (pos < end) {
    if (pos + 8 > end) throw invalid(`truncated box header at ${pos}`);
    let size = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    let header = 8;
    if (size === 1) {
      if (pos + 16 > end) throw invalid(`truncated large box header at ${pos}`);
      const large = buf.readBigUInt64BE(pos + 8);
      if (large > BigInt(end - pos)) throw invalid(`box '${type}' at ${pos} overruns its container`);
      size = Number(large);
      header = 16;
    } else if (size === 0) {
      // "extends to the end of the enclosing container"
      size = end - pos;
    }
    // A size smaller than its own header would never advance: that is the infinite-loop guard.
    if (size < header) throw invalid(`box '${type}' at ${pos} has size ${size}`);
    if (pos + size > end) throw invalid(`box '${type}' at ${pos} overruns its container (truncated?)`);
    boxes.push({ type, start: pos + header, end: pos + size });
    pos += size;
  }
  return boxes;
}

function find(buf: Buffer, parent: Box, type: string): Box | undefined {
  return children(buf, parent.start, parent.end).find((b) => b.type === type);
}

function expectBox(buf: Buffer, parent: Box, type: string): Box {
  const box = find(buf, parent, type);
  if (!box) throw invalid(`missing '${type}' in '${parent.type}'`);
  return box;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
const dec2 = (n: number): string => n.toString().padStart(2, '0');

/** 'avc1.PPCCLL' from an avcC box. */
function avcCodec(entryType: string, buf: Buffer, avcC: Box): string {
  const r = new Reader(buf, avcC.start, avcC.end);
  r.u8('avcC version');
  const profile = r.u8('avcC profile');
  const constraints = r.u8('avcC constraints');
  const level = r.u8('avcC level');
  return `${entryType}.${hex2(profile)}${hex2(constraints)}${hex2(level)}`;
}

/** 'hvc1.P.C.TL.B…' per ISO/IEC 14496-15 annex E. */
function hevcCodec(entryType: string, buf: Buffer, hvcC: Box): string {
  const r = new Reader(buf, hvcC.start, hvcC.end);
  r.u8('hvcC version');
  const b = r.u8('hvcC profile');
  const space = ['', 'A', 'B', 'C'][b >> 6] ?? '';
  const tier = (b & 0x20) !== 0 ? 'H' : 'L';
  const profileIdc = b & 0x1f;
  const compat = r.u32('hvcC compatibility');
  // The compatibility flags are written bit-reversed.
  let reversed = 0;
  for (let i = 0; i < 32; i++) if ((compat >>> i) & 1) reversed |= 1 << (31 - i);
  const constraints: number[] = [];
  for (let i = 0; i < 6; i++) constraints.push(r.u8('hvcC constraints'));
  const level = r.u8('hvcC level');
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop();
  const parts = [entryType, `${space}${profileIdc}`, (reversed >>> 0).toString(16), `${tier}${level}`];
  for (const c of constraints) parts.push(c.toString(16));
  return parts.join('.');
}

/** 'vp09.PP.LL.DD' from a vpcC box. */
function vp9Codec(buf: Buffer, vpcC: Box): string {
  const r = new Reader(buf, vpcC.start, vpcC.end);
  r.skip(4, 'vpcC version');
  const profile = r.u8('vpcC profile');
  const level = r.u8('vpcC level');
  const bitDepth = r.u8('vpcC bit depth') >> 4;
  return `vp09.${dec2(profile)}.${dec2(level)}.${dec2(bitDepth)}`;
}

/** 'av01.P.LLT.DD' from an av1C box. */
function av1Codec(buf: Buffer, av1C: Box): string {
  const r = new Reader(buf, av1C.start, av1C.end);
  r.u8('av1C marker');
  const b1 = r.u8('av1C profile');
  const b2 = r.u8('av1C tier');
  const profile = b1 >> 5;
  const level = b1 & 0x1f;
  const tier = (b2 & 0x80) !== 0 ? 'H' : 'M';
  const highBitDepth = (b2 & 0x40) !== 0;
  const twelveBit = (b2 & 0x20) !== 0;
  const depth = highBitDepth ? (twelveBit ? 12 : 10) : 8;
  return `av01.${profile}.${dec2(level)}${tier}.${dec2(depth)}`;
}

/** One MPEG-4 descriptor header (tag + variable-length size). */
function descriptor(r: Reader): { tag: number; end: number } {
  const tag = r.u8('descriptor tag');
  let size = 0;
  for (let i = 0; i < 4; i++) {
    const b = r.u8('descriptor size');
    size = (size << 7) | (b & 0x7f);
    if ((b & 0x80) === 0) break;
  }
  const end = r.pos + size;
  if (end > r.end) throw invalid(`descriptor 0x${hex2(tag)} overruns esds`);
  return { tag, end };
}

interface EsdsInfo {
  codec: string;
  sampleRate?: number;
  channels?: number;
}

const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** Codec string (and AudioSpecificConfig basics) from an esds box. */
function parseEsds(buf: Buffer, esds: Box): EsdsInfo {
  const r = new Reader(buf, esds.start, esds.end);
  r.skip(4, 'esds version');
  const es = descriptor(r);
  if (es.tag !== 0x03) throw invalid('esds without ES_Descriptor');
  r.skip(2, 'ES_ID');
  const flags = r.u8('ES flags');
  if (flags & 0x80) r.skip(2, 'dependsOn_ES_ID');
  if (flags & 0x40) r.skip(r.u8('URL length'), 'URL');
  if (flags & 0x20) r.skip(2, 'OCR_ES_ID');
  while (r.pos < es.end) {
    const d = descriptor(r);
    if (d.tag !== 0x04) {
      r.pos = d.end;
      continue;
    }
    const oti = r.u8('objectTypeIndication');
    r.skip(12, 'DecoderConfigDescriptor');
    const info: EsdsInfo = { codec: `mp4a.${hex2(oti)}` };
    while (r.pos < d.end) {
      const dsi = descriptor(r);
      if (dsi.tag !== 0x05 || dsi.end - r.pos < 2) {
        r.pos = dsi.end;
        continue;
      }
      // AudioSpecificConfig: 5-bit object type (31 = escape), 4-bit rate index, 4-bit channels.
      // Up to 4 bytes is all we need (object type, rate index, channel config).
      const avail = Math.min(4, dsi.end - r.pos) * 8;
      let bits = 0;
      for (let i = 0; i < avail / 8; i++) bits = bits * 256 + r.buf.readUInt8(r.pos + i);
      bits = (bits * 2 ** (32 - avail)) >>> 0;
      let used = 0;
      const take = (n: number): number => {
        if (used + n > avail) throw invalid('truncated AudioSpecificConfig');
        const v = (bits >>> (32 - used - n)) & ((1 << n) - 1);
        used += n;
        return v;
      };
      let aot = take(5);
      if (aot === 31) aot = 32 + take(6);
      const rateIndex = take(4);
      // An explicit 24-bit rate (index 15) does not fit our 32-bit window with an escaped type; skip it.
      if (rateIndex !== 15) {
        const rate = AAC_RATES[rateIndex];
        if (rate !== undefined) info.sampleRate = rate;
        const channels = take(4);
        if (channels > 0 && channels < 8) info.channels = channels === 7 ? 8 : channels;
      }
      if (oti === 0x40) info.codec = `mp4a.40.${aot}`;
      r.pos = dsi.end;
    }
    return info;
  }
  return { codec: 'mp4a.40.2' };
}

function parseVisualEntry(buf: Buffer, entry: Box): { codec: string; width: number; height: number } {
  const r = new Reader(buf, entry.start, entry.end);
  r.skip(8 + 16, 'visual sample entry');
  const width = r.u16('width');
  const height = r.u16('height');
  r.skip(4 + 4 + 4 + 2 + 32 + 2 + 2, 'visual sample entry');
  const boxes = children(buf, r.pos, entry.end);
  const box = (t: string): Box | undefined => boxes.find((b) => b.type === t);
  let codec = entry.type;
  const avcC = box('avcC');
  const hvcC = box('hvcC');
  const vpcC = box('vpcC');
  const av1C = box('av1C');
  if (avcC && (entry.type === 'avc1' || entry.type === 'avc3')) codec = avcCodec(entry.type, buf, avcC);
  else if (hvcC && (entry.type === 'hvc1' || entry.type === 'hev1')) codec = hevcCodec(entry.type, buf, hvcC);
  else if (vpcC && entry.type === 'vp09') codec = vp9Codec(buf, vpcC);
  else if (av1C && entry.type === 'av01') codec = av1Codec(buf, av1C);
  return { codec, width, height };
}

function parseAudioEntry(buf: Buffer, entry: Box): { codec: string; sampleRate: number; channels: number } {
  const r = new Reader(buf, entry.start, entry.end);
  r.skip(8, 'audio sample entry');
  const version = r.u16('audio entry version');
  r.skip(6, 'audio sample entry');
  let channels = r.u16('channelcount');
  r.skip(6, 'audio sample entry');
  let sampleRate = r.u32('samplerate') >>> 16;
  // QuickTime sound description v1/v2 carry extra fields before the child boxes.
  if (version === 1) r.skip(16, 'audio entry v1');
  else if (version === 2) r.skip(36, 'audio entry v2');
  const boxes = children(buf, r.pos, entry.end);
  let codec = entry.type;
  if (entry.type === 'mp4a') {
    const esds = boxes.find((b) => b.type === 'esds');
    const info = esds ? parseEsds(buf, esds) : { codec: 'mp4a.40.2' };
    codec = info.codec;
    if (info.channels !== undefined) channels = info.channels;
    if (sampleRate === 0 && info.sampleRate !== undefined) sampleRate = info.sampleRate;
  } else if (entry.type === 'Opus') {
    codec = 'opus';
    const dOps = boxes.find((b) => b.type === 'dOps');
    if (dOps) {
      const o = new Reader(buf, dOps.start, dOps.end);
      o.u8('dOps version');
      channels = o.u8('dOps channels');
      // dOps' InputSampleRate is the original capture rate; Opus in MP4 always decodes at 48 kHz.
      sampleRate = 48000;
    }
  } else if (entry.type === 'fLaC') {
    codec = 'flac';
  } else if (entry.type === 'ac-3' || entry.type === 'ec-3') {
    codec = entry.type;
  }
  return { codec, sampleRate, channels };
}

/** Parse an fMP4 init segment (ftyp + moov with exactly one track of interest). */
export function parseInitSegment(buf: Buffer): InitInfo {
  const top = children(buf, 0, buf.length);
  const moov = top.find((b) => b.type === 'moov');
  if (!moov) throw invalid('init segment without moov');
  const traks = children(buf, moov.start, moov.end).filter((b) => b.type === 'trak');
  for (const trak of traks) {
    const mdia = expectBox(buf, trak, 'mdia');
    const hdlr = expectBox(buf, mdia, 'hdlr');
    const hr = new Reader(buf, hdlr.start, hdlr.end);
    hr.skip(8, 'hdlr');
    const handler = buf.toString('latin1', hr.pos, hr.pos + 4);
    hr.need(4, 'hdlr handler');
    if (handler !== 'vide' && handler !== 'soun') continue;

    const tkhd = expectBox(buf, trak, 'tkhd');
    const tr = new Reader(buf, tkhd.start, tkhd.end);
    const tkhdVersion = tr.u8('tkhd version');
    tr.skip(3 + (tkhdVersion === 1 ? 16 : 8), 'tkhd');
    const trackId = tr.u32('tkhd track_ID');

    const mdhd = expectBox(buf, mdia, 'mdhd');
    const mr = new Reader(buf, mdhd.start, mdhd.end);
    const mdhdVersion = mr.u8('mdhd version');
    mr.skip(3 + (mdhdVersion === 1 ? 16 : 8), 'mdhd');
    const timescale = mr.u32('mdhd timescale');
    if (timescale === 0) throw invalid('mdhd timescale is 0');

    const stbl = expectBox(buf, expectBox(buf, mdia, 'minf'), 'stbl');
    const stsd = expectBox(buf, stbl, 'stsd');
    const entries = children(buf, stsd.start + 8, stsd.end);
    const entry = entries[0];
    if (!entry) throw invalid('stsd without sample entry');

    const info: InitInfo =
      handler === 'vide'
        ? { kind: 'video', timescale, trackId, ...parseVisualEntry(buf, entry) }
        : { kind: 'audio', timescale, trackId, ...parseAudioEntry(buf, entry) };

    const mvex = find(buf, moov, 'mvex');
    if (mvex) {
      for (const trex of children(buf, mvex.start, mvex.end)) {
        if (trex.type !== 'trex') continue;
        const xr = new Reader(buf, trex.start, trex.end);
        xr.skip(4, 'trex');
        if (xr.u32('trex track_ID') !== trackId) continue;
        xr.skip(4, 'trex');
        const duration = xr.u32('trex default_sample_duration');
        xr.skip(4, 'trex');
        const flags = xr.u32('trex default_sample_flags');
        if (duration > 0) info.defaultSampleDuration = duration;
        info.defaultSampleFlags = flags;
      }
    }
    return info;
  }
  throw invalid('init segment has no video or audio track');
}

function isKeyframe(flags: number): boolean {
  const dependsOn = (flags >>> 24) & 0x3;
  if (dependsOn === 2) return true; // does not depend on others: an I-frame
  if (dependsOn === 1) return false;
  return ((flags >>> 16) & 0x1) === 0; // sample_is_non_sync_sample
}

interface TrafResult {
  tfdt: number | undefined;
  duration: number;
  sampleCount: number;
  firstFlags: number | undefined;
}

function parseTraf(buf: Buffer, traf: Box, defaults: SegmentDefaults): TrafResult {
  const boxes = children(buf, traf.start, traf.end);
  let defaultDuration = defaults.defaultSampleDuration;
  let defaultFlags = defaults.defaultSampleFlags;
  const tfhd = boxes.find((b) => b.type === 'tfhd');
  if (!tfhd) throw invalid('traf without tfhd');
  const hr = new Reader(buf, tfhd.start, tfhd.end);
  const tfhdFlags = hr.u32('tfhd flags') & 0xffffff;
  hr.skip(4, 'tfhd track_ID');
  if (tfhdFlags & 0x01) hr.skip(8, 'tfhd base_data_offset');
  if (tfhdFlags & 0x02) hr.skip(4, 'tfhd sample_description_index');
  if (tfhdFlags & 0x08) defaultDuration = hr.u32('tfhd default_sample_duration');
  if (tfhdFlags & 0x10) hr.skip(4, 'tfhd default_sample_size');
  if (tfhdFlags & 0x20) defaultFlags = hr.u32('tfhd default_sample_flags');

  let tfdt: number | undefined;
  const tfdtBox = boxes.find((b) => b.type === 'tfdt');
  if (tfdtBox) {
    const r = new Reader(buf, tfdtBox.start, tfdtBox.end);
    const version = r.u8('tfdt version');
    r.skip(3, 'tfdt flags');
    tfdt = version === 1 ? r.u64('tfdt baseMediaDecodeTime') : r.u32('tfdt baseMediaDecodeTime');
  }

  let duration = 0;
  let sampleCount = 0;
  let firstFlags: number | undefined;
  for (const trun of boxes) {
    if (trun.type !== 'trun') continue;
    const r = new Reader(buf, trun.start, trun.end);
    const flags = r.u32('trun flags') & 0xffffff;
    const count = r.u32('trun sample_count');
    if (flags & 0x001) r.skip(4, 'trun data_offset');
    let firstSampleFlags: number | undefined;
    if (flags & 0x004) firstSampleFlags = r.u32('trun first_sample_flags');
    const perSample =
      (flags & 0x100 ? 4 : 0) + (flags & 0x200 ? 4 : 0) + (flags & 0x400 ? 4 : 0) + (flags & 0x800 ? 4 : 0);
    // Check the whole table up front: a bogus sample_count must not drive a long loop.
    r.need(perSample * count, 'trun sample table');
    if (!(flags & 0x100) && count > 0 && defaultDuration === undefined) {
      throw invalid('no sample duration in trun, tfhd or trex');
    }
    for (let i = 0; i < count; i++) {
      const d = flags & 0x100 ? r.u32('sample_duration') : (defaultDuration ?? 0);
      if (flags & 0x200) r.skip(4, 'sample_size');
      let f: number | undefined;
      if (flags & 0x400) f = r.u32('sample_flags');
      if (flags & 0x800) r.skip(4, 'sample_composition_time_offset');
      if (sampleCount === 0 && i === 0) firstFlags = firstSampleFlags ?? f ?? defaultFlags;
      duration += d;
    }
    sampleCount += count;
  }
  return { tfdt, duration, sampleCount, firstFlags };
}

/**
 * Parse an fMP4 media segment (styp? + one or more moof/mdat pairs). Durations
 * and sample counts are summed across fragments; the decode time is the first's.
 */
export function parseMediaSegment(buf: Buffer, defaults: SegmentDefaults = {}): FragmentInfo {
  const top = children(buf, 0, buf.length);
  let baseMediaDecodeTime: number | undefined;
  let duration = 0;
  let sampleCount = 0;
  let firstFlags: number | undefined;
  let seenSample = false;
  let moofs = 0;
  for (const moof of top) {
    if (moof.type !== 'moof') continue;
    moofs++;
    // One track per file: the first traf of each moof is the track.
    const traf = find(buf, moof, 'traf');
    if (!traf) throw invalid('moof without traf');
    const t = parseTraf(buf, traf, defaults);
    if (baseMediaDecodeTime === undefined) {
      if (t.tfdt === undefined) throw invalid('first traf without tfdt');
      baseMediaDecodeTime = t.tfdt;
    }
    if (!seenSample && t.sampleCount > 0) {
      firstFlags = t.firstFlags;
      seenSample = true;
    }
    duration += t.duration;
    sampleCount += t.sampleCount;
  }
  if (moofs === 0 || baseMediaDecodeTime === undefined) throw invalid('media segment without moof');
  // No flags anywhere means every sample is a sync sample (flags default to 0).
  const startsWithKeyframe = seenSample && (firstFlags === undefined || isKeyframe(firstFlags));
  return { baseMediaDecodeTime, duration, sampleCount, startsWithKeyframe };
}

/** One part of a CMAF segment: a byte range ending with a complete moof + mdat. */
export interface PartRange {
  offset: number;
  length: number;
}

/**
 * The complete fragments of a segment file, possibly still being written: each
 * part ends at the end of an mdat that follows a moof, and holds every box
 * since the previous part (so the first part carries the `styp`). Bytes of a
 * box not yet complete are left for later. `from` is where the first part starts.
 */
export function splitParts(buf: Buffer, from = 0): PartRange[] {
  const parts: PartRange[] = [];
  let pos = from;
  let partStart = from;
  let sawMoof = false;
  while (pos + 8 <= buf.length) {
    let size = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    if (size === 1) {
      if (pos + 16 > buf.length) break;
      size = Number(buf.readBigUInt64BE(pos + 8));
    }
    // 0 (to the end of the file) cannot be told apart from a box still being written.
    if (size < 8 || pos + size > buf.length) break;
    pos += size;
    if (type === 'moof') sawMoof = true;
    else if (type === 'mdat' && sawMoof) {
      parts.push({ offset: partStart, length: pos - partStart });
      partStart = pos;
      sawMoof = false;
    }
  }
  return parts;
}
