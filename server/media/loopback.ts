/** UDP sockets on loopback that onair binds before a child process sends to them (nothing lost, no port race). */
import { createSocket, type Socket } from 'node:dgram';

/** A UDP socket bound to a free port on 127.0.0.1; later socket errors are ignored. */
export function bindLoopback(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      s.off('error', reject);
      s.on('error', () => undefined);
      resolve(s);
    });
  });
}
