import { Installation } from '../system/installation.entity.js';

/** Every entity, listed explicitly so discovery works the same compiled and under vitest. */
export const entities = [Installation];
