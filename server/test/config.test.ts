import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has defaults that start a local server on an embedded database', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: '/srv/app/.daestro',
      publicUrl: 'http://127.0.0.1:4000',
      logLevel: 'info',
    });
    expect(config.webDistDir).toMatch(/web[/\\]dist$/);
  });

  it('reads secrets from *_FILE variants', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'daestro-config-'));
    const file = path.join(dir, 'db-url');
    await writeFile(file, 'postgres://u:secret@db:5432/daestro\n');
    expect(loadConfig({ DATABASE_URL_FILE: file }).databaseUrl).toBe('postgres://u:secret@db:5432/daestro');
  });

  it('reports every problem at once, in words an operator can act on', () => {
    const attempt = () =>
      loadConfig({
        PORT: '70000',
        DATABASE_URL: 'mysql://nope',
        PUBLIC_URL: 'ftp://x',
        LOG_LEVEL: 'loud',
        HOST_FILE: '/nonexistent',
        HOST: 'both',
      });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'PORT must be an integer from 0 to 65535, got "70000"',
        'set HOST or HOST_FILE, not both',
        'DATABASE_URL must start with postgres:// or postgresql://',
        'PUBLIC_URL must be an http(s) URL such as https://daestro.example.com, got "ftp://x"',
        'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
      ]);
    }
  });

  it('names a *_FILE that cannot be read', () => {
    expect(() => loadConfig({ DATABASE_URL_FILE: '/nonexistent/secret' })).toThrow(
      'DATABASE_URL_FILE: cannot read /nonexistent/secret (ENOENT)',
    );
  });

  it('derives PUBLIC_URL from a wildcard bind address', () => {
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    expect(loadConfig({ PUBLIC_URL: 'https://daestro.example.com/some/path' }).publicUrl).toBe(
      'https://daestro.example.com',
    );
  });
});
