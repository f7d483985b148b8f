/**
 * FFmpeg arguments for the synthetic inputs tests generate media from (lavfi's
 * testsrc2 and sine), so each test lists only what it does with them.
 */

/** `-hide_banner -loglevel error -f lavfi -i <graph>`: a quiet run reading one lavfi input. */
export function quietLavfi(graph: string): string[] {
  return ['-hide_banner', '-loglevel', 'error', ...lavfiInput(graph)];
}

/** `-f lavfi -i <graph>`. */
export function lavfiInput(graph: string): string[] {
  return ['-f', 'lavfi', '-i', graph];
}

/** `-re -t <seconds> -f lavfi -i <graph>`: a lavfi input read at its own pace, for that long. */
export function liveLavfi(graph: string, seconds: number): string[] {
  return ['-re', '-t', String(seconds), ...lavfiInput(graph)];
}
