// `pnpm start` calls this so a restart does not pay for a full Vite build (about 6 s)
// when nothing the dashboard is built from changed since web/dist was written.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const inputs = ['src', 'index.html', 'graphiql.html', 'vite.config.ts', 'package.json', '../pnpm-lock.yaml'];

function newestMtime(entry) {
  const stat = statSync(entry, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(entry).map((name) => newestMtime(path.join(entry, name))));
}

const builtAt = statSync(path.join(webDir, 'dist', 'index.html'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
const changedAt = Math.max(...inputs.map((input) => newestMtime(path.join(webDir, input))));
if (changedAt > builtAt) {
  execFileSync('pnpm', ['exec', 'vite', 'build'], { cwd: webDir, stdio: 'inherit' });
} else {
  console.log('web/dist is up to date');
}
