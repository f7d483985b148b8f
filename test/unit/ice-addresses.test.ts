/**
 * Loopback-only ICE and ONAIR_PUBLIC_IP mean the same on both engines: what mediasoup's transports
 * listen on and announce (worker-pool.ts listenInfos), table-tested without a worker.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { networkInterfaces } from 'node:os';
import { listenInfos } from '../../server/sfu/mediasoup/worker-pool.ts';

const IFACES = {
  lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
  eth0: [
    { address: 'fe80::1', family: 'IPv6', internal: false },
    { address: '192.0.2.10', family: 'IPv4', internal: false },
  ],
} as unknown as ReturnType<typeof networkInterfaces>;

const where = (infos: ReturnType<typeof listenInfos>) =>
  infos.map((i) => `${i.protocol} ${i.ip}${i.announcedAddress ? ` as ${i.announcedAddress}` : ''}`);

void describe('mediasoup listen addresses', () => {
  const cases: [string, Parameters<typeof listenInfos>[0], string[]][] = [
    [
      'loopback-only: 127.0.0.1, nothing announced (a public IP set too)',
      { loopbackOnly: true, publicIp: '203.0.113.7', portRange: undefined },
      ['udp 127.0.0.1', 'tcp 127.0.0.1'],
    ],
    [
      'ONAIR_PUBLIC_IP: every address, announced as the public IP',
      { loopbackOnly: false, publicIp: '203.0.113.7', portRange: undefined },
      ['udp 0.0.0.0 as 203.0.113.7', 'tcp 0.0.0.0 as 203.0.113.7'],
    ],
    [
      'neither: every address, announced as the first external IPv4',
      { loopbackOnly: false, publicIp: undefined, portRange: undefined },
      ['udp 0.0.0.0 as 192.0.2.10', 'tcp 0.0.0.0 as 192.0.2.10'],
    ],
  ];
  for (const [name, opts, expected] of cases) {
    void test(name, () => {
      assert.deepEqual(where(listenInfos(opts, undefined, IFACES)), expected);
    });
  }

  void test('the port range, or one port for a WebRtcServer', () => {
    const o = { loopbackOnly: true, publicIp: undefined, portRange: [40000, 40099] as [number, number] };
    assert.deepEqual(listenInfos(o, undefined, IFACES)[0]!.portRange, { min: 40000, max: 40099 });
    const server = listenInfos(o, 44444, IFACES);
    assert.deepEqual(
      server.map((i) => [i.port, i.portRange]),
      [
        [44444, undefined],
        [44444, undefined],
      ],
    );
  });

  void test('no external address at all: announced as 127.0.0.1', () => {
    const lonely = { lo: IFACES.lo } as ReturnType<typeof networkInterfaces>;
    const o = { loopbackOnly: false, publicIp: undefined, portRange: undefined };
    assert.equal(listenInfos(o, undefined, lonely)[0]!.announcedAddress, '127.0.0.1');
  });
});
