/**
 * Server-side request forgery: a webhook URL must not make onair call into its
 * own machine or network (an admin API on loopback, a cloud metadata address,
 * a router). Unless ONAIR_WEBHOOK_ALLOW_PRIVATE=1, receivers whose address is
 * loopback, private, link-local, shared, reserved or multicast are refused —
 * when the webhook is created, and again on every delivery, at connect time
 * (the address the socket really uses), so a DNS answer that changes cannot
 * slip through.
 */
import {
  lookup as dnsLookup,
  type LookupAddress,
  type LookupAllOptions,
  type LookupOneOptions,
} from 'node:dns';
import { BlockList, isIP } from 'node:net';

const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv4');
// IPv4-mapped addresses (::ffff:a.b.c.d, dotted or hex) are checked against the
// IPv4 rules above by BlockList itself; every other form that carries an IPv4
// address is refused whole: IPv4-compatible (::/96, which holds :: and ::1),
// SIIT (::ffff:0:a.b.c.d), NAT64, 6to4 and Teredo.
for (const [net, bits] of [
  ['::', 96],
  ['::ffff:0:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv6');

/** True for an address on the public internet. */
export function isPublicAddress(address: string): boolean {
  let a = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) a = mapped[1]!;
  const family = isIP(a);
  if (family === 0) return false;
  return !NOT_PUBLIC.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

export class AddressRefused extends Error {
  override name = 'AddressRefused';
  readonly code = 'EADDRREFUSED';
}

function refused(host: string, address: string): AddressRefused {
  return new AddressRefused(
    `${host} is ${address}, a loopback or private address (ONAIR_WEBHOOK_ALLOW_PRIVATE=1 allows it)`,
  );
}

/** The host of a URL as a bare address when it is an IP literal. */
export function literalAddress(hostname: string): string | undefined {
  const h = hostname.replace(/^\[|\]$/g, '');
  return isIP(h) ? h : undefined;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http.request that refuses non-public answers (every address of
 * the answer when several are asked for).
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        callback(err, '');
        return;
      }
      const list = addresses;
      const bad = allowPrivate ? undefined : list.find((a) => !isPublicAddress(a.address));
      if (bad) {
        callback(refused(hostname, bad.address), '');
        return;
      }
      if ((options as LookupAllOptions).all) callback(null, list);
      else if (list[0]) callback(null, list[0].address, list[0].family);
      else callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
    });
  };
}

/**
 * Checks a receiver URL before it is saved: its host must resolve, and (unless
 * private receivers are allowed) only to public addresses. Resolves to an error
 * message, or undefined when the URL is fine.
 */
export async function checkReceiver(url: string, allowPrivate: boolean): Promise<string | undefined> {
  const u = new URL(url);
  const literal = literalAddress(u.hostname);
  let addresses: string[];
  if (literal) addresses = [literal];
  else {
    try {
      addresses = await new Promise<string[]>((resolve, reject) =>
        dnsLookup(u.hostname, { all: true }, (err, list) =>
          err ? reject(err) : resolve(list.map((a) => a.address)),
        ),
      );
    } catch {
      return `cannot resolve ${u.hostname}`;
    }
  }
  if (allowPrivate) return undefined;
  const bad = addresses.find((a) => !isPublicAddress(a));
  return bad ? refused(u.hostname, bad).message : undefined;
}
