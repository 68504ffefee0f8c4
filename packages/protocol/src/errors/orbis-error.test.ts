import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorCodeOf } from './catalogue.ts';
import { OrbisError } from './orbis-error.ts';

class SampleError extends OrbisError<ErrorCodeOf<'IMAGE'>> {}

describe('OrbisError', () => {
  it('carries its code, its cause, and the name of the subclass', () => {
    const cause = new Error('inner');
    const error = new SampleError('IMAGE_TRUNCATED', 'ends early', { cause });
    assert.equal(error.code, 'IMAGE_TRUNCATED');
    assert.equal(error.cause, cause);
    assert.equal(error.name, 'SampleError');
    assert.ok(error instanceof OrbisError && error instanceof Error);
  });
});
