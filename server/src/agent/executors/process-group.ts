import fs from 'node:fs/promises';
import os from 'node:os';
import type { UsageReading } from './cgroup.js';

/** Linux reports CPU times in USER_HZ ticks, 100 per second on every architecture Node runs on. */
const NANOS_PER_TICK = 1e9 / 100;

/**
 * CPU time and resident memory of the live processes of one process group, from
 * /proc: what a run costs when there is no cgroup to ask. A process that left the
 * group (setsid) is not counted; children the group already reaped are, through
 * their parent's cutime/cstime.
 */
export async function readProcessGroupUsage(processGroupId: number): Promise<UsageReading> {
  let cpuTicks = 0;
  let residentBytes = 0;
  const pids = (await fs.readdir('/proc')).filter((name) => /^\d+$/.test(name));
  await Promise.all(
    pids.map(async (pid) => {
      const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
      if (!stat) return; // exited since readdir
      // Fields after the command name, which may itself hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // proc(5), counting from 1 with pid and comm: 5 pgrp, 14 utime, 15 stime, 16 cutime, 17 cstime.
      if (Number(fields[2]) !== processGroupId) return;
      cpuTicks += [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0);
      // VmRSS is in kB whatever the page size.
      const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
      residentBytes += Number(status.match(/^VmRSS:\s+(\d+) kB$/m)?.[1] ?? 0) * 1024;
    }),
  );
  return {
    cpuNanos: cpuTicks * NANOS_PER_TICK,
    memoryBytes: residentBytes,
    memoryLimitBytes: os.totalmem(),
  };
}
