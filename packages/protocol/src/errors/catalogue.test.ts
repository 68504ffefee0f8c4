import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Compile } from 'typebox/compile';
import { ERROR_CATALOGUE, ERROR_CODES, isErrorCode } from './catalogue.ts';
import { ErrorEnvelope } from './envelope.ts';
import { renderErrorCatalogue } from './render.ts';

describe('the error-code catalogue', () => {
  it('is what docs/errors.md says (run `npm run docs:errors` after changing a code)', () => {
    const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
    assert.equal(doc, renderErrorCatalogue());
    for (const code of ERROR_CODES) assert.match(doc, new RegExp(`\\| \`${code}\` \\|`));
  });

  it('uses SCREAMING_SNAKE codes, each with a sentence that ends in a full stop', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      assert.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      assert.match(entry.summary, /^[A-Z].*\.$/, code);
    }
  });

  it('isErrorCode knows the catalogue and nothing else, including inherited names', () => {
    assert.equal(isErrorCode('IMAGE_TRUNCATED'), true);
    assert.equal(isErrorCode('IMAGE_NOPE'), false);
    assert.equal(isErrorCode('toString'), false);
    assert.equal(isErrorCode(7), false);
  });
});

describe('the error envelope', () => {
  const check = Compile(ErrorEnvelope);

  it('holds exactly a catalogued code, a message and a request ID', () => {
    assert.equal(check.Check({ code: 'INTERNAL', message: 'unexpected failure', requestId: 'req-1' }), true);
    assert.equal(check.Check({ code: 'NO_SUCH_CODE', message: 'x', requestId: 'req-1' }), false);
    assert.equal(check.Check({ code: 'INTERNAL', message: 'x', requestId: 'req-1', stack: 'at …' }), false);
    assert.equal(check.Check({ code: 'INTERNAL', message: 'x' }), false);
  });
});
