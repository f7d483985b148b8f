/** A werift peer's offer once ICE gathering is complete (or after 3 s with what it has): non-trickle WHIP/WHEP. */
import type { RTCPeerConnection } from 'werift';

export async function gatheredOffer(pc: RTCPeerConnection): Promise<void> {
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const t = setTimeout(resolve, 3000);
    pc.iceGatheringStateChange.subscribe((s) => {
      if (s === 'complete') {
        clearTimeout(t);
        resolve();
      }
    });
  });
}
