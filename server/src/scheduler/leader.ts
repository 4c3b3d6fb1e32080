import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Logger } from '../logger.js';

export interface LeaderElectionOptions {
  databaseUrl: string;
  /** The session advisory lock that makes its holder the leader (below 2^31). */
  lockKey: number;
  /** How often a standby tries for the lock, and the leader checks its connection. */
  retryMs: number;
  log: Logger;
  /** LISTENed on while leading; a notification calls onNotification. */
  channels: readonly string[];
  onNotification: (channel: string, payload: string | undefined) => void;
  onElected: () => void;
  onDemoted: () => void;
}

/**
 * One leader among any number of processes: whoever holds a PostgreSQL session
 * advisory lock on its own connection (not a pool's, which would hand the
 * session to others). The lock dies with the connection, so a dead leader's
 * lock frees itself and a standby, retrying every `retryMs`, takes over. A
 * leader that loses its connection, or cannot use it within `retryMs`, stops
 * leading at once.
 */
export class LeaderElection {
  private client: pg.Client | undefined;
  private backendPid: number | undefined;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: LeaderElectionOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops trying; a leader releases the lock by closing its connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    await this.drop();
  }

  /**
   * Inside a transaction on another connection: whether this process still
   * holds the lock right now. The dispatcher checks it before changing anything.
   */
  async fence(em: EntityManager): Promise<boolean> {
    if (!this.leading || this.backendPid === undefined) return false;
    const [row] = await em.execute<{ leading: boolean }[]>(
      `select exists(select 1 from pg_locks where locktype = 'advisory' and classid = 0 and objid = ?::oid
         and objsubid = 1 and pid = ? and granted) as leading`,
      [this.options.lockKey, this.backendPid],
    );
    return row?.leading === true;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        this.schedule(this.options.retryMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      const client = this.client ?? (await this.connect());
      if (this.stopped) return;
      if (this.leading) {
        // A connection that cannot answer in time may be gone without the socket knowing yet.
        await withTimeout(client.query('select 1'), this.options.retryMs * 2);
        return;
      }
      const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [
        this.options.lockKey,
      ]);
      if (!rows[0]?.locked || this.stopped) return;
      for (const channel of this.options.channels)
        await client.query(`listen ${client.escapeIdentifier(channel)}`);
      this.leading = true;
      this.options.log.info({ pid: this.backendPid }, 'scheduler: this process is the leader');
      this.options.onElected();
    } catch (error) {
      this.options.log.warn({ err: error }, 'scheduler: leader connection failed');
      await this.drop();
    }
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: 'daestro-scheduler',
      keepAlive: true,
    });
    client.on('error', (error) => {
      if (client !== this.client) return;
      this.options.log.warn({ err: error }, 'scheduler: leader connection lost');
      void this.drop();
    });
    client.on('end', () => {
      if (client === this.client) void this.drop();
    });
    client.on('notification', (message) => {
      if (client === this.client && this.leading)
        this.options.onNotification(message.channel, message.payload);
    });
    this.client = client;
    try {
      await client.connect();
      const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
      this.backendPid = rows[0]!.pid;
    } catch (error) {
      this.client = undefined;
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  /** Forgets the connection (closing it releases the lock) and, if leading, steps down. */
  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.backendPid = undefined;
    if (this.leading) {
      this.leading = false;
      this.options.log.warn('scheduler: no longer the leader');
      this.options.onDemoted();
    }
    await client?.end().catch(() => undefined);
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
