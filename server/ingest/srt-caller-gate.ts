/**
 * Who may publish on a channel's SRT port, decided from srt-live-transmit's log (at `note` level
 * it names the address of every handshake it processes, one at a time, before the verdict):
 *
 *   …SRT.cn: PASSING request from: 203.0.113.7:42842 to agent:255656741
 *   …SRT.cn: processConnectRequest: rsp(REJECT): 1010 - Incorrect passphrase
 *   Accepted SRT source connection
 *
 * A rejected handshake (wrong or no passphrase) counts against its source address; past the
 * limit that address is refused even with the right key for the rest of the minute. The port
 * stays open to everyone else, and an address that has published with the key is never locked
 * out (the SRT handshake's cookie round trip means a caller cannot borrow another's address).
 * A caller outside the channel's ingest allow-list is refused once its handshake completes,
 * before any of its media is taken.
 */
import { RateLimiter } from '../http/rate-limit.ts';

export type SrtGateEvent =
  | { kind: 'rejected'; address: string | undefined; lockedOut: boolean }
  | { kind: 'accepted'; address: string | undefined; refused: string | undefined };

export interface SrtCallerGateOptions {
  /** Whether the address is in the channel's ingest allow-list. */
  allowed: (address: string) => boolean;
  /** Rejected handshakes per source address per minute before that address is locked out. */
  failureLimitPerMinute: number;
}

const PASSING = /PASSING request from: (\S+?):(\d+) /;
/** Several log lines can arrive joined (srt-live-transmit writes without a newline at times). */
const LINE_START = /(?=\d\d:\d\d:\d\d\.\d{6}\/SRT)|(?=Accepted SRT source connection)/;

/** `203.0.113.7`, `::ffff:203.0.113.7` and `[2001:db8::1]` as the plain address. */
export function plainSrtAddress(host: string): string {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return h.startsWith('::ffff:') && h.includes('.') ? h.slice(7) : h;
}

export class SrtCallerGate {
  readonly #opts: SrtCallerGateOptions;
  readonly #failures: RateLimiter;
  /** Addresses that have published with the key. */
  readonly #known = new Set<string>();
  /** The address of the handshake being processed. */
  #current: string | undefined;

  constructor(opts: SrtCallerGateOptions) {
    this.#opts = opts;
    this.#failures = new RateLimiter(opts.failureLimitPerMinute, 60_000);
  }

  /** Reads one line of srt-live-transmit's stderr; returns what it decided, in order. */
  read(line: string): SrtGateEvent[] {
    const out: SrtGateEvent[] = [];
    for (const part of line.split(LINE_START)) {
      const passing = PASSING.exec(part);
      if (passing?.[1]) this.#current = plainSrtAddress(passing[1]);
      else if (part.includes('rsp(REJECT)')) out.push(this.#rejected());
      else if (part.startsWith('Accepted SRT source connection')) out.push(this.#accepted());
    }
    return out;
  }

  isLockedOut(address: string): boolean {
    return !this.#known.has(address) && this.#failures.isLimited(address);
  }

  #rejected(): SrtGateEvent {
    const address = this.#current;
    if (address === undefined || this.#known.has(address))
      return { kind: 'rejected', address, lockedOut: false };
    this.#failures.hit(address);
    return { kind: 'rejected', address, lockedOut: this.#failures.isLimited(address) };
  }

  #accepted(): SrtGateEvent {
    const address = this.#current;
    let refused: string | undefined;
    if (address === undefined) refused = 'its address is unknown';
    else if (!this.#opts.allowed(address)) refused = 'not in the ingest allow-list';
    else if (this.isLockedOut(address)) refused = 'too many rejected handshakes from its address';
    else this.#known.add(address);
    return { kind: 'accepted', address, refused };
  }
}
