/** The archive windows a channel's output keeps for its running programs. */
import type { LiveOutput, Recording } from './live-output.ts';

export class ProgramWindows {
  readonly #output: LiveOutput;

  constructor(output: LiveOutput) {
    this.#output = output;
  }

  /** A program runs: the output keeps its archive window. */
  start(programId: string, startedAt: number, windowSeconds: number): void {
    this.#output.setWindow(programId, { since: startedAt, seconds: windowSeconds });
  }

  /** Whether a program's window is kept here (the program runs on this channel). */
  has(programId: string): boolean {
    return this.#output.window(programId) !== undefined;
  }

  /** Program time (epoch ms) from which a running program's window holds segments now. */
  since(programId: string, now = Date.now()): number | undefined {
    const w = this.#output.window(programId);
    return w ? Math.max(w.since, now - w.seconds * 1000) : undefined;
  }

  /** What a running program's window holds now. */
  recording(programId: string): Recording | undefined {
    const since = this.since(programId);
    return since === undefined ? undefined : this.#output.recording(since);
  }

  /** A program stopped: its window is no longer kept (an asset holds what it needs). */
  stop(programId: string): void {
    this.#output.deleteWindow(programId);
  }
}
