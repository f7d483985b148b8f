/** What a one-off FFmpeg job (a thumbnail, a download remux) needs: the program, and the owner of its process. */
import type { ChildRegistry } from '../media/child-processes.ts';

export interface FfmpegTool {
  ffmpegPath: string;
  children: ChildRegistry;
}
