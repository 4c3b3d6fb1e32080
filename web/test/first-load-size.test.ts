// The dashboard's first load — the entry chunk and every chunk it imports statically, as listed
// in Vite's build manifest — stays within 250 KB of gzipped JavaScript (issue 8). Pages load on
// first visit and the GraphiQL page is a separate entry, so neither counts. Needs web/dist.
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const FIRST_LOAD_GZIP_LIMIT = 250 * 1000;

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}

const distDir = new URL('../dist/', import.meta.url);
const manifestUrl = new URL('.vite/manifest.json', distDir);

/** The chunk `key` and everything it imports statically (what the browser must fetch before running it). */
function staticClosure(manifest: Record<string, ManifestChunk>, key: string): string[] {
  const seen = new Set<string>();
  const visit = (current: string) => {
    if (seen.has(current)) return;
    seen.add(current);
    for (const imported of manifest[current]?.imports ?? []) visit(imported);
  };
  visit(key);
  return [...seen].map((chunk) => manifest[chunk]!.file);
}

describe('first load of the dashboard', () => {
  it('is at most 250 KB of gzipped JavaScript', () => {
    if (!existsSync(manifestUrl))
      throw new Error('web/dist is missing: run `pnpm --filter @daestro/web build` first');
    const manifest = JSON.parse(readFileSync(manifestUrl, 'utf8')) as Record<string, ManifestChunk>;
    expect(manifest['index.html']?.isEntry).toBe(true);

    const files = staticClosure(manifest, 'index.html');
    const sizes = files.map((file) => ({
      file,
      gzip: gzipSync(readFileSync(new URL(file, distDir))).length,
    }));
    const total = sizes.reduce((sum, { gzip }) => sum + gzip, 0);
    console.log(`first-load JS: ${(total / 1000).toFixed(1)} KB gzip in ${files.length} files`);

    // The lazily loaded pages really are lazy: none of them is part of the first load.
    expect(files.some((file) => /JobsPage|GraphiQL|graphiql/i.test(file))).toBe(false);
    // The log viewer comes with the job page, the charts (uPlot) after it.
    expect(files.some((file) => /JobDetailPage|RunMetrics/.test(file))).toBe(false);
    expect(manifest['index.html']!.dynamicImports?.length ?? 0).toBeGreaterThan(5);
    expect(total).toBeGreaterThan(10_000);
    expect(total).toBeLessThanOrEqual(FIRST_LOAD_GZIP_LIMIT);
  });
});
