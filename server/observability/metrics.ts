/** Prometheus text exposition, built by hand: a handful of gauges and counters. */
export interface Sample {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  values: { labels?: Record<string, string>; value: number }[];
}

export function renderPrometheus(samples: readonly Sample[]): string {
  const lines: string[] = [];
  for (const s of samples) {
    lines.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`);
    for (const v of s.values) {
      const labels = v.labels
        ? `{${Object.entries(v.labels)
            .map(
              ([k, val]) => `${k}="${val.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
            )
            .join(',')}}`
        : '';
      lines.push(`${s.name}${labels} ${Number.isFinite(v.value) ? v.value : 0}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function processSamples(startedAt: number): Sample[] {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return [
    {
      name: 'process_resident_memory_bytes',
      help: 'Resident memory size in bytes.',
      type: 'gauge',
      values: [{ value: mem.rss }],
    },
    {
      name: 'process_heap_used_bytes',
      help: 'V8 heap in use, in bytes.',
      type: 'gauge',
      values: [{ value: mem.heapUsed }],
    },
    {
      name: 'process_cpu_seconds_total',
      help: 'User and system CPU time spent, in seconds.',
      type: 'counter',
      values: [{ value: (cpu.user + cpu.system) / 1e6 }],
    },
    {
      name: 'process_start_time_seconds',
      help: 'Start time of the process since the Unix epoch, in seconds.',
      type: 'gauge',
      values: [{ value: Math.floor(startedAt / 1000) }],
    },
    {
      name: 'process_uptime_seconds',
      help: 'Seconds since the process started.',
      type: 'gauge',
      values: [{ value: process.uptime() }],
    },
  ];
}

/** One gauge. */
export function gauge(name: string, help: string, values: Sample['values']): Sample {
  return { name, help, type: 'gauge', values };
}

/** The samples without the values that name one of `channels` (a public /metrics names no restricted channel). */
export function withoutChannels(samples: readonly Sample[], channels: ReadonlySet<string>): Sample[] {
  return samples.map((sample) => ({
    ...sample,
    values: sample.values.filter((v) => !(v.labels?.channel && channels.has(v.labels.channel))),
  }));
}
