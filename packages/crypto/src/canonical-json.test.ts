import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalizeJson,
  canonicalJsonBytes,
  MAX_CANONICAL_JSON_DEPTH,
  parseCanonicalJson,
} from './canonical-json.ts';

const invalid = { code: 'CRYPTO_CANONICAL_JSON_INVALID' };

function fromIeee754(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

describe('RFC 8785 published examples', () => {
  it('canonicalizes the example of section 3.2.2 byte for byte', () => {
    const input = JSON.parse(
      '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n' +
        '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n' +
        '  "literals": [null, true, false]\n}',
    ) as unknown;
    assert.equal(
      canonicalizeJson(input),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts members by UTF-16 code units as in section 3.2.3', () => {
    const input = JSON.parse(
      '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh",' +
        '"1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control",' +
        '"\\u00f6":"Latin Small Letter O With Diaeresis"}',
    ) as unknown;
    // Built from code points so the expectation does not lean on the escaping under test.
    const expected =
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control",' +
      '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",' +
      '"\u{1f600}":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}';
    assert.equal(canonicalizeJson(input), expected);
  });

  it('serializes the IEEE 754 samples of Appendix B', () => {
    const samples: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [hex, expected] of samples) assert.equal(canonicalizeJson(fromIeee754(hex)), expected, hex);
  });

  it('refuses the NaN and Infinity samples of Appendix B', () => {
    assert.throws(() => canonicalizeJson(fromIeee754('7fffffffffffffff')), invalid);
    assert.throws(() => canonicalizeJson(fromIeee754('7ff0000000000000')), invalid);
  });
});

describe('canonicalizeJson refuses what is not I-JSON', () => {
  it('refuses lone surrogates in values and in member names', () => {
    assert.throws(() => canonicalizeJson('\ud800'), invalid);
    assert.throws(() => canonicalizeJson({ '\udc00': 1 }), invalid);
  });

  it('refuses values JSON has no form for', () => {
    for (const value of [undefined, () => 1, 1n, Symbol('s'), { nested: undefined }]) {
      assert.throws(() => canonicalizeJson(value), invalid);
    }
  });

  it('refuses objects that are not plain data, rather than calling their toJSON', () => {
    class Point {
      x = 1;
    }
    for (const value of [new Date(0), new Map(), Uint8Array.of(1), new Point()]) {
      assert.throws(() => canonicalizeJson(value), invalid);
    }
  });

  it('accepts objects without a prototype', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare['b'] = [true];
    bare['a'] = null;
    assert.equal(canonicalizeJson(bare), '{"a":null,"b":[true]}');
  });

  it('refuses nesting deeper than the limit, so hostile input cannot exhaust the stack', () => {
    let deepest: unknown = 0;
    for (let level = 0; level < MAX_CANONICAL_JSON_DEPTH; level += 1) deepest = [deepest];
    assert.equal(canonicalizeJson(deepest).length, 2 * MAX_CANONICAL_JSON_DEPTH + 1);
    assert.throws(() => canonicalizeJson([deepest]), invalid);
    assert.throws(() => canonicalizeJson({ a: deepest }), invalid);
  });
});

describe('parseCanonicalJson', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  it('returns the value of canonical bytes', () => {
    const value = { b: [1, 'x'], a: { c: null } };
    assert.deepEqual(parseCanonicalJson(canonicalJsonBytes(value)), value);
  });

  it('refuses a second spelling of the same value: whitespace, order, escapes, numbers', () => {
    for (const text of ['{"a": 1}', '{"b":1,"a":2}', '"\\u0041"', '1.0', '1E3']) {
      assert.throws(() => parseCanonicalJson(bytes(text)), invalid, text);
    }
  });

  it('refuses duplicate member names, which parsers resolve differently', () => {
    assert.throws(() => parseCanonicalJson(bytes('{"a":1,"a":2}')), invalid);
  });

  it('refuses a byte-order mark, invalid UTF-8 and text that is not JSON', () => {
    const notJson = { code: 'CRYPTO_JSON_INVALID' };
    assert.throws(() => parseCanonicalJson(Uint8Array.of(0xef, 0xbb, 0xbf, 0x31)), notJson);
    assert.throws(() => parseCanonicalJson(Uint8Array.of(0x22, 0xc3, 0x28, 0x22)), notJson);
    assert.throws(() => parseCanonicalJson(bytes('{a:1}')), notJson);
  });
});
