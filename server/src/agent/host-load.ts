import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface HostLoadSample {
  cpuCount: number;
  memoryMiB: number;
  /** CPU in use since the previous sample, 100 per busy CPU (as for runs); null on the first. */
  cpuPercent: number | null;
  memoryUsedMiB: number;
}

const MIB = 1024 * 1024;

/** The machine's load as heartbeats report it. */
export class HostLoad {
  private previous = cpuTimes();
  private first = true;

  sample(): HostLoadSample {
    const now = cpuTimes();
    const total = now.total - this.previous.total;
    const busy = total - (now.idle - this.previous.idle);
    const cpuCount = os.availableParallelism();
    const cpuPercent = this.first || total <= 0 ? null : Math.max(0, (busy / total) * 100 * cpuCount);
    this.previous = now;
    this.first = false;
    return {
      cpuCount,
      memoryMiB: Math.round(os.totalmem() / MIB),
      cpuPercent,
      memoryUsedMiB: Math.round((os.totalmem() - availableMemory()) / MIB),
    };
  }
}

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    idle += cpu.times.idle;
    total += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq + cpu.times.idle;
  }
  return { idle, total };
}

/** MemAvailable counts reclaimable page cache as free, as `free` does; os.freemem() does not. */
function availableMemory(): number {
  try {
    const kib = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
    if (kib) return Number(kib) * 1024;
  } catch {
    // not Linux
  }
  return os.freemem();
}
