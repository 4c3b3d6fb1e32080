import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogBuffer } from '../../src/agent/log-buffer.js';
import { BatchRefusedError, LogShipper } from '../../src/agent/log-shipper.js';
import type { LogLine } from '../../src/agent/protocol.js';
import { createLogger } from '../../src/logger.js';

const log = createLogger('silent');
let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'daestro-log-shipper-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

function line(seq: number, text = `line ${seq}`): LogLine {
  return { seq, stream: 'STDOUT', timestamp: new Date(0).toISOString(), text };
}

/** A stand-in server: stores lines idempotently by seq and answers the contiguous storedThrough. */
function fakeServer() {
  const stored = new Map<number, string>();
  let storedThrough = 0;
  const batches: number[] = [];
  return {
    stored,
    batches,
    store(lines: LogLine[]): number {
      batches.push(lines.length);
      for (const { seq, text } of lines) if (!stored.has(seq)) stored.set(seq, text);
      while (stored.has(storedThrough + 1)) storedThrough += 1;
      return storedThrough;
    },
  };
}

describe('LogBuffer', () => {
  it('spills past its memory limit and gives every line back in order, then deletes the file', async () => {
    const spillFile = path.join(dir, 'spill-order.jsonl');
    const buffer = new LogBuffer({ memoryLimitBytes: 16 * 1024, spillFile });
    for (let seq = 1; seq <= 5_000; seq += 1) buffer.append(line(seq, `text ${seq} ${'x'.repeat(seq % 50)}`));
    expect(buffer.hasSpilled).toBe(true);
    expect(buffer.size).toBe(5_000);

    const seen: number[] = [];
    for (;;) {
      const batch = await buffer.peek(300, 1024 * 1024);
      if (batch.length === 0) break;
      // Lines added while reading back go behind the spilled ones.
      if (seen.length === 0) for (let seq = 5_001; seq <= 5_100; seq += 1) buffer.append(line(seq));
      seen.push(...batch.map((l) => l.seq));
      buffer.acknowledge(batch.at(-1)!.seq);
    }
    expect(seen).toEqual(Array.from({ length: 5_100 }, (_, i) => i + 1));
    expect(buffer.size).toBe(0);
    expect(existsSync(spillFile)).toBe(false);
  });

  it('peek does not remove: lines stay until acknowledged', async () => {
    const buffer = new LogBuffer({
      memoryLimitBytes: 1024 * 1024,
      spillFile: path.join(dir, 'unused.jsonl'),
    });
    for (let seq = 1; seq <= 10; seq += 1) buffer.append(line(seq));
    expect((await buffer.peek(4, 1e6)).map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    expect((await buffer.peek(4, 1e6)).map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    buffer.acknowledge(2);
    expect((await buffer.peek(4, 1e6)).map((l) => l.seq)).toEqual([3, 4, 5, 6]);
  });
});

describe('LogShipper', () => {
  it('numbers lines from 1, batches them, and stores each exactly once in order', async () => {
    const server = fakeServer();
    const shipper = new LogShipper({
      send: async (lines) => server.store(lines),
      log,
      memoryLimitBytes: 1024 * 1024,
      spillFile: path.join(dir, 'a.jsonl'),
    });
    for (let i = 1; i <= 1_234; i += 1) shipper.add(i % 3 === 0 ? 'STDERR' : 'STDOUT', `n${i}`);
    await shipper.drain();
    expect([...server.stored.keys()]).toEqual(Array.from({ length: 1_234 }, (_, i) => i + 1));
    expect(server.stored.get(1_234)).toBe('n1234');
    expect(shipper.acknowledgedThrough).toBe(1_234);
    // Batched: far fewer requests than lines.
    expect(server.batches.length).toBeLessThan(20);
  });

  it('resends from storedThrough when answers are lost, and spills while the server is away', async () => {
    const server = fakeServer();
    let online = false;
    let lostAnswers = 0;
    const spillFile = path.join(dir, 'b.jsonl');
    const shipper = new LogShipper({
      send: async (lines) => {
        while (!online) await new Promise((resolve) => setTimeout(resolve, 5));
        const storedThrough = server.store(lines);
        // Two answers are "lost": the server stored the batch but the agent saw an error.
        if (server.batches.length === 2 || server.batches.length === 5) {
          lostAnswers += 1;
          throw new Error('connection reset');
        }
        return storedThrough;
      },
      log,
      memoryLimitBytes: 64 * 1024,
      spillFile,
      batchLines: 100,
    });
    for (let i = 1; i <= 20_000; i += 1) shipper.add('STDOUT', `line ${i}`);
    expect(shipper.spilled).toBe(true);
    online = true;
    await shipper.drain();
    expect(lostAnswers).toBe(2);
    expect(server.stored.size).toBe(20_000);
    expect([...server.stored.entries()].every(([seq, text]) => text === `line ${seq}`)).toBe(true);
    expect(existsSync(spillFile)).toBe(false);
  });

  it('replaces a refused batch with a note so the log never stalls behind it', async () => {
    const server = fakeServer();
    let refused = false;
    const shipper = new LogShipper({
      send: async (lines) => {
        if (!refused && lines.some((l) => l.text === 'poison')) {
          refused = true;
          throw new BatchRefusedError('Line 0 is too long');
        }
        return server.store(lines);
      },
      log,
      memoryLimitBytes: 1024 * 1024,
      spillFile: path.join(dir, 'c.jsonl'),
    });
    shipper.add('STDOUT', 'poison');
    await shipper.drain();
    shipper.add('STDOUT', 'after');
    await shipper.drain();
    expect(server.stored.get(1)).toMatch(/refused this log line: Line 0 is too long/);
    expect(server.stored.get(2)).toBe('after');
  });

  it('discard() drops everything held and sends nothing more', async () => {
    const sent: number[] = [];
    const shipper = new LogShipper({
      send: async (lines) => {
        sent.push(...lines.map((l) => l.seq));
        return undefined; // stale lease
      },
      log,
      memoryLimitBytes: 1024 * 1024,
      spillFile: path.join(dir, 'd.jsonl'),
    });
    shipper.add('STDOUT', 'one');
    await shipper.drain();
    await shipper.discard();
    shipper.add('STDOUT', 'two');
    await shipper.drain();
    expect(sent).toEqual([1]);
  });
});
