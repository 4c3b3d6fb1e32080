import { readFileSync } from 'node:fs';

// src/version.ts and dist/version.js are both one level below server/package.json.
const serverPackage = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const DAESTRO_VERSION: string = serverPackage.version;
