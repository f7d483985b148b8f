/** Each encoder run becomes a run of the channel's output, with its tracks' declared bitrates. */
import type { ChannelMode } from '../../lib/schemas.ts';
import type { LiveOutput } from '../packager/live-output.ts';
import type { EncoderHooks } from '../transcode/supervisor.ts';

export function encoderRuns(output: LiveOutput, mode: () => ChannelMode): EncoderHooks {
  return {
    runStarted: (run) =>
      output.beginRun({
        runId: run.runId,
        runDir: run.runDir,
        // Passthrough video has no declared bitrate: the output measures it.
        tracks: run.tracks.map((t) =>
          mode() !== 'encode' && t.kind === 'video' ? { id: t.id } : { id: t.id, bandwidth: t.bandwidth },
        ),
      }),
    runEnded: (run) => output.endRun(run.runId),
  };
}
