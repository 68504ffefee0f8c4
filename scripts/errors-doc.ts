/**
 * Writes docs/errors.md from the error-code catalogue in packages/protocol.
 * `npm run docs:errors` rewrites the file; packages/protocol's tests fail when it is stale.
 */
import { writeFileSync } from 'node:fs';
import { renderErrorCatalogue } from '../packages/protocol/src/errors/render.ts';

const target = new URL('../docs/errors.md', import.meta.url);
writeFileSync(target, renderErrorCatalogue());
console.log(`wrote ${target.pathname}`);
