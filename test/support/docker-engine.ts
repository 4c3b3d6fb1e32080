import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const run = promisify(execFile);

/** A private Docker daemon for one test file, with `local/busybox` imported. */
export interface DockerEngine {
  docker: Docker;
  socketPath: string;
  /** A 2 MB image of the host's static busybox: sh, echo, dd, sleep, mount… (PATH=/bin). */
  busyboxImage: string;
  stop(): Promise<void>;
}

/** A `docker-registry` on 127.0.0.1 that accepts one user (htpasswd). */
export interface LocalRegistry {
  /** `127.0.0.1:<port>`, the registry's server address in image names and auth. */
  address: string;
  /** Tags `image` as `<address>/<repository>:<tag>`, pushes it with the registry's credentials, returns that name. */
  push(image: string, repository: string, tag: string): Promise<string>;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const BUSYBOX = '/bin/busybox';
const BUSYBOX_IMAGE = 'local/busybox:latest';
const CAP_SYS_RESOURCE = 24n;

/**
 * Starts dockerd (Debian's docker.io) in a temporary directory with the flags of
 * shared/containers.md: no iptables, no bridge, its own exec root so its containerd
 * cannot clash with another daemon. Images come from the local busybox only; tests
 * never pull from the internet.
 */
export async function startDockerEngine(): Promise<DockerEngine> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'daestro-dockerd-'));
  const socketPath = path.join(dir, 'docker.sock');
  const args = [
    '--iptables=false',
    '--ip6tables=false',
    '--bridge=none',
    '--storage-driver=overlay2',
    '--exec-opt=native.cgroupdriver=cgroupfs',
    `--host=unix://${socketPath}`,
    `--data-root=${path.join(dir, 'root')}`,
    `--exec-root=${path.join(dir, 'exec')}`,
    `--pidfile=${path.join(dir, 'dockerd.pid')}`,
  ];
  if (!boundingSetHas(CAP_SYS_RESOURCE)) args.push(`--config-file=${await writeRuntimeWrapper(dir)}`);

  const logFile = path.join(dir, 'dockerd.log');
  const logFd = openSync(logFile, 'a');
  // Its own process group: a Ctrl-C meant for vitest reaches dockerd only through stop().
  const daemon = spawn('dockerd', args, { detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  daemon.once('error', () => undefined); // reported by waitUntilReady through 'exit'
  // A test worker that dies without stop() must not leave a daemon behind.
  const stopOnExit = () => daemon.exitCode === null && daemon.kill('SIGKILL');
  process.on('exit', stopOnExit);

  const docker = new Docker({ socketPath });
  const stop = async () => {
    process.off('exit', stopOnExit);
    await stopDaemon(daemon, exited);
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(docker, daemon, logFile);
    await importBusybox(docker, dir);
  } catch (error) {
    await stop();
    throw error;
  }
  return { docker, socketPath, busyboxImage: BUSYBOX_IMAGE, stop };
}

/**
 * Docker 20.10 gives a privileged container every capability; runc then fails with
 * "unable to apply caps" where the bounding set lacks CAP_SYS_RESOURCE (this sandbox).
 * The daemon's default runtime becomes a wrapper that drops that one capability from
 * the bundle before calling runc.
 */
async function writeRuntimeWrapper(dir: string): Promise<string> {
  const wrapper = path.join(dir, 'runc-nosysres');
  await fs.writeFile(
    wrapper,
    `#!/bin/sh
bundle=
previous=
for arg in "$@"; do
  case "$previous" in --bundle|-b) bundle=$arg ;; esac
  case "$arg" in --bundle=*) bundle=\${arg#--bundle=} ;; esac
  previous=$arg
done
config="$bundle/config.json"
if [ -n "$bundle" ] && grep -q CAP_SYS_RESOURCE "$config"; then
  jq -c '.process.capabilities |= (if . then with_entries(.value |= map(select(. != "CAP_SYS_RESOURCE"))) else . end)' \\
    "$config" > "$config.tmp" && mv "$config.tmp" "$config"
fi
exec runc "$@"
`,
    { mode: 0o755 },
  );
  const config = path.join(dir, 'daemon.json');
  await fs.writeFile(
    config,
    JSON.stringify({ runtimes: { 'runc-nosysres': { path: wrapper } }, 'default-runtime': 'runc-nosysres' }),
  );
  return config;
}

function boundingSetHas(capability: bigint): boolean {
  const line = readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\s*([0-9a-f]+)$/m);
  return line ? (BigInt(`0x${line[1]}`) & (1n << capability)) !== 0n : true;
}

async function waitUntilReady(docker: Docker, daemon: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (daemon.exitCode !== null || daemon.signalCode !== null) {
      throw new Error(`dockerd exited (${daemon.exitCode ?? daemon.signalCode}):\n${await tail(logFile)}`);
    }
    try {
      await docker.ping();
      return;
    } catch {
      if (Date.now() > deadline) {
        throw new Error(`dockerd did not answer in ${READY_TIMEOUT_MS} ms:\n${await tail(logFile)}`);
      }
      await sleep(100);
    }
  }
}

async function stopDaemon(daemon: ChildProcess, exited: Promise<void>): Promise<void> {
  if (daemon.exitCode !== null || daemon.signalCode !== null) return;
  daemon.kill('SIGTERM'); // dockerd stops its containers and its containerd, then exits
  const timer = setTimeout(() => daemon.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** Imports a scratch image holding the host's static busybox and a link per applet (about 1 s). */
async function importBusybox(docker: Docker, dir: string): Promise<void> {
  const rootfs = path.join(dir, 'busybox-rootfs');
  for (const sub of ['bin', 'tmp', 'proc', 'sys', 'dev', 'etc', 'mnt']) {
    await fs.mkdir(path.join(rootfs, sub), { recursive: true });
  }
  await fs.copyFile(BUSYBOX, path.join(rootfs, 'bin/busybox'));
  await fs.chmod(path.join(rootfs, 'bin/busybox'), 0o755);
  const { stdout } = await run(BUSYBOX, ['--list']);
  for (const applet of stdout.split('\n').filter((name) => name && name !== 'busybox')) {
    await fs.symlink('busybox', path.join(rootfs, 'bin', applet));
  }
  const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [repo, tag] = BUSYBOX_IMAGE.split(':');
  const progress = await docker.importImage(tar.stdout, { repo, tag, changes: ['ENV PATH=/bin'] });
  await followProgress(docker, progress);
  await fs.rm(rootfs, { recursive: true, force: true });
}

/**
 * Starts Debian's docker-registry (distribution 2.8) on a free 127.0.0.1 port with
 * htpasswd (bcrypt) authentication for one user. dockerd talks plain HTTP to
 * registries on 127.0.0.0/8 without being told to.
 */
export async function startRegistry(
  engine: DockerEngine,
  credentials: { username: string; password: string },
): Promise<LocalRegistry> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'daestro-registry-'));
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const { stdout: htpasswd } = await run('htpasswd', ['-nbB', credentials.username, credentials.password]);
  await fs.writeFile(path.join(dir, 'htpasswd'), htpasswd);
  const config = path.join(dir, 'config.yml');
  await fs.writeFile(
    config,
    JSON.stringify({
      version: 0.1,
      log: { level: 'warn' },
      storage: { filesystem: { rootdirectory: path.join(dir, 'data') } },
      http: { addr: address },
      auth: { htpasswd: { realm: 'daestro-test', path: path.join(dir, 'htpasswd') } },
    }),
  );
  const logFile = path.join(dir, 'registry.log');
  const logFd = openSync(logFile, 'a');
  const registry = spawn('docker-registry', ['serve', config], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const exited = new Promise<void>((resolve) => registry.once('exit', () => resolve()));
  registry.once('error', () => undefined);
  const stopOnExit = () => registry.exitCode === null && registry.kill('SIGKILL');
  process.on('exit', stopOnExit);
  const stop = async () => {
    process.off('exit', stopOnExit);
    if (registry.exitCode === null && registry.signalCode === null) {
      registry.kill('SIGTERM');
      await exited;
    }
    await fs.rm(dir, { recursive: true, force: true });
  };

  try {
    await waitForRegistry(address, registry, logFile);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    address,
    async push(image, repository, tag) {
      const repo = `${address}/${repository}`;
      await engine.docker.getImage(image).tag({ repo, tag });
      const authconfig = { ...credentials, serveraddress: address };
      const progress = await engine.docker.getImage(`${repo}:${tag}`).push({ authconfig });
      await followProgress(engine.docker, progress);
      return `${repo}:${tag}`;
    },
    stop,
  };
}

async function waitForRegistry(address: string, registry: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (registry.exitCode !== null || registry.signalCode !== null) {
      throw new Error(
        `docker-registry exited (${registry.exitCode ?? registry.signalCode}):\n${await tail(logFile)}`,
      );
    }
    try {
      // 401 is the answer of a registry that is up and wants credentials.
      if ((await fetch(`http://${address}/v2/`)).status === 401) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer:\n${await tail(logFile)}`);
    await sleep(100);
  }
}

/** Reads an engine progress stream to its end; an `error` message in it is a failure. */
async function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  const messages = await new Promise<Array<{ error?: string }>>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }>) =>
      error ? reject(error) : resolve(output),
    ),
  );
  const failure = messages.find((message) => message.error);
  if (failure) throw new Error(failure.error);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function tail(file: string): Promise<string> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-30).join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
