/**
 * Just enough MPEG-TS to know what an SRT publisher sends before FFmpeg is
 * started on it: the PAT names the PMT, the PMT lists the elementary streams.
 * Pure; fed the stream in any chunking.
 */
export const TS_PACKET = 188;

export type TsVideoCodec = 'H264' | 'HEVC' | 'other';
export type TsAudioCodec = 'AAC' | 'OPUS' | 'other';

export interface TsProgram {
  video: TsVideoCodec | undefined;
  audio: TsAudioCodec | undefined;
}

/** Finds the first program's stream types in a growing MPEG-TS byte stream. */
export class TsProgramReader {
  #pending: Buffer = Buffer.alloc(0);
  #pmtPid: number | undefined;
  #bytes = 0;
  program: TsProgram | undefined;

  /** Bytes looked at so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Returns the program once its PMT has been read. */
  push(chunk: Buffer): TsProgram | undefined {
    if (this.program) return this.program;
    this.#bytes += chunk.length;
    let buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    // Resynchronise on the 0x47 sync byte.
    let i = 0;
    while (i + TS_PACKET <= buf.length) {
      if (buf[i] !== 0x47) {
        i++;
        continue;
      }
      this.#packet(buf.subarray(i, i + TS_PACKET));
      if (this.program) return this.program;
      i += TS_PACKET;
    }
    buf = buf.subarray(i);
    this.#pending = Buffer.from(buf);
    return undefined;
  }

  #packet(p: Buffer): void {
    const pusi = (p[1]! & 0x40) !== 0;
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    const afc = (p[3]! >> 4) & 0x3;
    if (!pusi || (afc & 0x1) === 0) return;
    let off = 4;
    if (afc === 3) off += 1 + p[4]!;
    if (off >= TS_PACKET) return;
    off += 1 + p[off]!; // pointer field
    if (off + 3 > TS_PACKET) return;
    const tableId = p[off]!;
    const sectionLength = ((p[off + 1]! & 0x0f) << 8) | p[off + 2]!;
    const end = Math.min(TS_PACKET, off + 3 + sectionLength - 4); // without CRC
    if (pid === 0 && tableId === 0x00) {
      // PAT: program_number(16) reserved(3) pid(13) …, after 5 bytes of header
      for (let j = off + 8; j + 4 <= end; j += 4) {
        const programNumber = (p[j]! << 8) | p[j + 1]!;
        if (programNumber === 0) continue; // network PID
        this.#pmtPid = ((p[j + 2]! & 0x1f) << 8) | p[j + 3]!;
        return;
      }
    } else if (pid === this.#pmtPid && tableId === 0x02) {
      const infoLength = ((p[off + 10]! & 0x0f) << 8) | p[off + 11]!;
      let video: TsVideoCodec | undefined;
      let audio: TsAudioCodec | undefined;
      for (let j = off + 12 + infoLength; j + 5 <= end;) {
        const type = p[j]!;
        const esInfoLength = ((p[j + 3]! & 0x0f) << 8) | p[j + 4]!;
        const descriptors = p.subarray(j + 5, Math.min(end, j + 5 + esInfoLength));
        const v = videoCodec(type);
        const a = audioCodec(type, descriptors);
        if (v && !video) video = v;
        else if (a && !audio) audio = a;
        j += 5 + esInfoLength;
      }
      this.program = { video, audio };
    }
  }
}

function videoCodec(type: number): TsVideoCodec | undefined {
  if (type === 0x1b) return 'H264';
  if (type === 0x24) return 'HEVC';
  if ([0x01, 0x02, 0x10, 0x42, 0xd1, 0xea].includes(type)) return 'other';
  return undefined;
}

function audioCodec(type: number, descriptors: Buffer): TsAudioCodec | undefined {
  if (type === 0x0f || type === 0x11) return 'AAC';
  if ([0x03, 0x04, 0x81, 0x87].includes(type)) return 'other';
  if (type === 0x06) {
    // PES private data: Opus carries a registration descriptor "Opus".
    for (let k = 0; k + 2 <= descriptors.length;) {
      const tag = descriptors[k]!;
      const len = descriptors[k + 1]!;
      if (tag === 0x05 && descriptors.subarray(k + 2, k + 2 + len).toString('latin1') === 'Opus')
        return 'OPUS';
      k += 2 + len;
    }
  }
  return undefined;
}
