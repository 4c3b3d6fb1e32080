import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Registration } from './protocol.js';

/** What an agent keeps between starts, in `<state dir>/agent.json` (mode 0600: it holds the agent token). */
export interface SavedAgent extends Registration {
  /** The server it registered with (base URL). */
  serverUrl: string;
  /** SHA-256 of the registration token it was made from, so another token (another environment) registers anew. */
  registrationTokenSha256: string | null;
  registeredAt: string;
}

const STATE_FILE = 'agent.json';

/** The agent's directory: its credential, the work dirs of its runs, and log output spilled while offline. */
export class AgentStateDir {
  constructor(readonly dir: string) {}

  get workRoot(): string {
    return path.join(this.dir, 'work');
  }

  get spillDir(): string {
    return path.join(this.dir, 'spill');
  }

  /** Creates the directory (0700) and empties the spill dir: spilled output of an earlier process belongs to runs it no longer holds. */
  async prepare(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await fs.chmod(this.dir, 0o700);
    await fs.rm(this.spillDir, { recursive: true, force: true });
    await fs.mkdir(this.spillDir, { mode: 0o700 });
  }

  async load(): Promise<SavedAgent | undefined> {
    let text: string;
    try {
      text = await fs.readFile(path.join(this.dir, STATE_FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as SavedAgent;
    } catch {
      return undefined; // a torn or hand-edited file: register again
    }
  }

  /** Written to a temporary file (0600) and renamed over the old one, so a crash never leaves half a credential. */
  async save(saved: SavedAgent): Promise<void> {
    const file = path.join(this.dir, STATE_FILE);
    const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.writeFile(temporary, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await fs.rename(temporary, file);
  }

  async forget(): Promise<void> {
    await fs.rm(path.join(this.dir, STATE_FILE), { force: true });
  }
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
