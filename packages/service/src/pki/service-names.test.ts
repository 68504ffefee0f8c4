import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultServiceHostnames, parseServiceHostnames } from './service-names.ts';

describe('service host names', () => {
  it('splits DNS names from IP addresses', () => {
    assert.deepEqual(parseServiceHostnames(['localhost', '127.0.0.1', '::1', 'orbis.example']), {
      dnsNames: ['localhost', 'orbis.example'],
      ipAddresses: ['127.0.0.1', '::1'],
    });
  });

  it('refuses none, repeats, too many, and what is neither (PKI_HOSTNAME_INVALID)', () => {
    const many = Array.from({ length: 33 }, (_, index) => `h${index}.example`);
    for (const names of [[], ['localhost', 'localhost'], many, ['Orbis.example'], ['[::1]'], ['a b'], ['']]) {
      assert.throws(() => parseServiceHostnames(names), { code: 'PKI_HOSTNAME_INVALID' });
    }
  });

  it('adds the listening host to localhost unless it listens on every address', () => {
    assert.deepEqual(defaultServiceHostnames('127.0.0.1'), ['localhost', '127.0.0.1', '::1']);
    assert.deepEqual(defaultServiceHostnames('0.0.0.0'), ['localhost', '127.0.0.1', '::1']);
    assert.deepEqual(defaultServiceHostnames('orbis.example'), [
      'localhost',
      '127.0.0.1',
      '::1',
      'orbis.example',
    ]);
  });
});
