import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MIB, memoryInUse } from './executor.js';

/** CPU time and memory of everything a run started, read at one instant. */
export interface UsageReading {
  cpuNanos: number;
  memoryBytes: number;
  memoryLimitBytes: number;
}

const CONTROLLERS = ['memory', 'cpu', 'cpuacct'] as const;
type Controller = (typeof CONTROLLERS)[number];

const CFS_PERIOD_MICROS = 100_000;
/** The kernel refuses a CFS quota below 1 ms. */
const MIN_CFS_QUOTA_MICROS = 1_000;
const KILL_ROUNDS = 20;

/**
 * A cgroup v1 per run in the memory, cpu and cpuacct hierarchies, created under
 * the agent's own cgroups (`<agent's cgroup>/daestro/spawn-<spawn>/<run>-<random>`),
 * so the limits of whatever contains the agent still apply on top, and an agent
 * restarted as the same spawn finds what a killed one left (reapSpawn).
 *
 * It enforces `memory.limit_in_bytes` (swap included, via memsw, where swap
 * accounting exists) and a CFS quota of `cpu` CPUs per 100 ms; it counts the
 * kernel's OOM kills; it reads CPU time and memory for stats; and it lists every
 * process of the run, including those that left its process group (setsid).
 *
 * cgroup v2 hosts and agents without permission to create cgroups (not root) get
 * none of this: `create` answers why, and the run goes ahead without limits.
 */
export class RunCgroup {
  private constructor(
    private readonly dirs: Record<Controller, string>,
    private readonly memoryLimitBytes: number,
  ) {}

  /** The files a process writes its pid to, to join this cgroup (one per hierarchy). */
  get procsFiles(): string[] {
    return CONTROLLERS.map((controller) => path.join(this.dirs[controller], 'cgroup.procs'));
  }

  static async create(
    runName: string,
    limits: { cpu: number; memoryMiB: number; spawnId?: string },
  ): Promise<RunCgroup | { unavailable: string }> {
    const parents = await agentCgroupDirs();
    if ('unavailable' in parents) return parents;
    // A random suffix: a cgroup that a killed agent left behind never gets reused.
    const name = `${runName}-${randomBytes(4).toString('hex')}`;
    const dirs = Object.fromEntries(
      CONTROLLERS.map((controller) => [
        controller,
        path.join(spawnDir(parents[controller], limits.spawnId), name),
      ]),
    ) as Record<Controller, string>;
    const cgroup = new RunCgroup(dirs, limits.memoryMiB > 0 ? limits.memoryMiB * MIB : os.totalmem());
    try {
      for (const dir of new Set(Object.values(dirs))) await fs.mkdir(dir, { recursive: true });
      if (limits.memoryMiB > 0) {
        await write(dirs.memory, 'memory.limit_in_bytes', limits.memoryMiB * MIB);
        // Without this a host with swap would page the run out instead of holding it to its limit.
        await write(dirs.memory, 'memory.memsw.limit_in_bytes', limits.memoryMiB * MIB).catch(ignoreMissing);
      }
      if (limits.cpu > 0) {
        await write(dirs.cpu, 'cpu.cfs_period_us', CFS_PERIOD_MICROS);
        const quota = Math.max(MIN_CFS_QUOTA_MICROS, Math.round(limits.cpu * CFS_PERIOD_MICROS));
        await write(dirs.cpu, 'cpu.cfs_quota_us', quota);
      }
    } catch (error) {
      // Typically EACCES: an agent that is not root may not create cgroups.
      await cgroup.remove().catch(() => undefined);
      return { unavailable: `cannot set up a cgroup (${(error as NodeJS.ErrnoException).code ?? error})` };
    }
    return cgroup;
  }

  async read(): Promise<UsageReading> {
    const [cpuNanos, usage, stat] = await Promise.all([
      fs.readFile(path.join(this.dirs.cpuacct, 'cpuacct.usage'), 'utf8'),
      fs.readFile(path.join(this.dirs.memory, 'memory.usage_in_bytes'), 'utf8'),
      fs.readFile(path.join(this.dirs.memory, 'memory.stat'), 'utf8'),
    ]);
    const inactiveFile = stat.match(/^total_inactive_file (\d+)$/m)?.[1];
    return {
      cpuNanos: Number(cpuNanos),
      memoryBytes: memoryInUse(Number(usage), inactiveFile === undefined ? undefined : Number(inactiveFile)),
      memoryLimitBytes: this.memoryLimitBytes,
    };
  }

  /** How many processes of the run the kernel killed for exceeding the memory limit. */
  async oomKills(): Promise<number> {
    const control = await fs
      .readFile(path.join(this.dirs.memory, 'memory.oom_control'), 'utf8')
      .catch(() => '');
    return Number(control.match(/^oom_kill (\d+)$/m)?.[1] ?? 0);
  }

  /**
   * Kills whatever runs of `spawnId` left in their cgroups and removes them: a restarted
   * agent runs nothing yet, so they are a killed agent's. Resolves with the run names.
   */
  static async reapSpawn(spawnId: string): Promise<string[]> {
    const parents = await agentCgroupDirs();
    if ('unavailable' in parents) return [];
    const spawnDirs = Object.fromEntries(
      CONTROLLERS.map((controller) => [controller, spawnDir(parents[controller], spawnId)]),
    ) as Record<Controller, string>;
    const entries = await fs
      .readdir(spawnDirs.memory, { withFileTypes: true })
      .catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      });
    const reaped: string[] = [];
    // The directories are the runs' cgroups; the files are the kernel's controls.
    for (const name of entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name)) {
      const dirs = Object.fromEntries(
        CONTROLLERS.map((controller) => [controller, path.join(spawnDirs[controller], name)]),
      ) as Record<Controller, string>;
      const left = new RunCgroup(dirs, 0);
      await left.killAll();
      await left.remove();
      reaped.push(name.replace(/-[0-9a-f]{8}$/, ''));
    }
    return reaped;
  }

  /** SIGKILLs every process in the run, repeating while forks race the kill. */
  async killAll(): Promise<void> {
    for (let round = 0; round < KILL_ROUNDS; round += 1) {
      const pids = await this.pids();
      if (pids.length === 0) return;
      for (const pid of pids) killQuietly(pid);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Removes the run's cgroups; they must be empty (call killAll first). */
  async remove(): Promise<void> {
    for (const dir of new Set(Object.values(this.dirs))) {
      // A killed process leaves its cgroup a moment after it is gone from cgroup.procs.
      for (let attempt = 0; ; attempt += 1) {
        try {
          await fs.rmdir(dir);
          break;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || attempt >= 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    }
  }

  private async pids(): Promise<number[]> {
    const text = await fs.readFile(path.join(this.dirs.memory, 'cgroup.procs'), 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean).map(Number);
  }
}

let agentDirs: Promise<Record<Controller, string> | { unavailable: string }> | undefined;

/** The directories of the agent's own cgroups, found once from /proc/self/{mountinfo,cgroup}. */
function agentCgroupDirs() {
  agentDirs ??= findAgentCgroupDirs();
  return agentDirs;
}

async function findAgentCgroupDirs(): Promise<Record<Controller, string> | { unavailable: string }> {
  const [mountinfo, membership] = await Promise.all([
    fs.readFile('/proc/self/mountinfo', 'utf8'),
    fs.readFile('/proc/self/cgroup', 'utf8'),
  ]);
  // mountinfo: id parent dev root mountpoint options [optional…] - fstype source superoptions
  const mounts = mountinfo
    .split('\n')
    .map((line) => line.split(' - '))
    .filter(([, fsPart]) => fsPart?.startsWith('cgroup '))
    .map(([before, after]) => {
      const [, , , root, mountPoint] = before!.split(' ');
      return { root: root!, mountPoint: mountPoint!, options: after!.split(' ')[2]!.split(',') };
    });
  // /proc/self/cgroup: hierarchy-id:controllers:path
  const paths = new Map<string, string>();
  for (const line of membership.split('\n').filter(Boolean)) {
    const [, controllers, cgroupPath] = line.split(':');
    for (const controller of controllers!.split(',')) paths.set(controller, cgroupPath!);
  }
  const dirs: Partial<Record<Controller, string>> = {};
  for (const controller of CONTROLLERS) {
    const mount = mounts.find((candidate) => candidate.options.includes(controller));
    const cgroupPath = paths.get(controller);
    if (!mount || cgroupPath === undefined) {
      return { unavailable: `no cgroup v1 ${controller} hierarchy (cgroup v2 hosts are not supported yet)` };
    }
    // A mount of a sub-tree (inside a container) shows paths relative to its own root.
    const relative = path.relative(mount.root, cgroupPath);
    dirs[controller] = relative.startsWith('..') ? mount.mountPoint : path.join(mount.mountPoint, relative);
  }
  return dirs as Record<Controller, string>;
}

/** Where the cgroups of a spawn's runs go (a spawn-less run, from a bare agent token: `daestro/`). */
function spawnDir(agentDir: string, spawnId: string | undefined): string {
  // The id is the server's (a UUID); as a path segment it may hold nothing else.
  const segment = spawnId && `spawn-${spawnId.replace(/[^A-Za-z0-9-]/g, '_')}`;
  return segment ? path.join(agentDir, 'daestro', segment) : path.join(agentDir, 'daestro');
}

function write(dir: string, file: string, value: number): Promise<void> {
  return fs.writeFile(path.join(dir, file), String(value));
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}

export function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
