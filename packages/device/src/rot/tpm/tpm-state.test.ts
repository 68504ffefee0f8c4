import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalJsonBytes } from '@orbis/crypto';
import { assertRotErrorSync } from '../emulated/emulated.test-helpers.ts';
import { tpmCounterIndices } from './tpm-counters.ts';
import { swtpmControlOf } from './tpm-platform.ts';
import { encodeTpmStateFile, parseTpmStateFile, tpmStateMacInput, type TpmRotState } from './tpm-state.ts';

const state: TpmRotState = {
  deviceId: 'c'.repeat(64),
  manufacturingState: 'DeviceComplete',
  debugStatus: 3,
  antiRollback: { [randomUUID()]: 4 },
  notBeforeMs: 1_700_000_000_000,
  certificateKey: null,
  counterBases: { bootcount: 1, capabilityEpoch: 7 },
};
const mac = new Uint8Array(randomBytes(32));

function edited(edit: (file: { mac: string; state: Record<string, unknown> }) => void): Uint8Array {
  const file = JSON.parse(new TextDecoder().decode(encodeTpmStateFile(state, 5, mac))) as {
    mac: string;
    state: Record<string, unknown>;
  };
  edit(file);
  return canonicalJsonBytes(file);
}

describe('the TPM state file format', () => {
  it('reads back what it wrote: the state, its generation and its MAC', () => {
    assert.deepEqual(parseTpmStateFile(encodeTpmStateFile(state, 5, mac)), { state, generation: 5, mac });
  });

  it('MACs the generation with the state, so a file cannot be relabelled as newer', () => {
    assert.notDeepEqual(tpmStateMacInput(state, 5), tpmStateMacInput(state, 6));
    assert.notDeepEqual(tpmStateMacInput(state, 5), tpmStateMacInput({ ...state, notBeforeMs: 0 }, 5));
  });

  it('refuses unknown or missing members, bad values, and what is not JSON', () => {
    const cases = [
      edited((file) => (file.state['extra'] = 1)),
      edited((file) => delete file.state['generation']),
      edited((file) => (file.state['generation'] = -1)),
      edited((file) => (file.state['format'] = 2)),
      edited((file) => (file.state['manufacturingState'] = 'Returned')),
      edited((file) => (file.state['counterBases'] = { bootcount: 1 })),
      edited((file) => (file.state['certificateKey'] = 'not base64url!')),
      edited((file) => (file.state['antiRollback'] = { 'not-a-uuid': 1 })),
      edited((file) => (file.mac = 'not base64url!')),
      new TextEncoder().encode('not json'),
    ];
    for (const bytes of cases) assertRotErrorSync(() => parseTpmStateFile(bytes), 'ROT_STATE_INVALID');
  });
});

describe('TPM connections and NV handles', () => {
  it("finds swtpm's control channel at the TCTI's port + 1, and no channel for other TCTIs", () => {
    assert.deepEqual(swtpmControlOf('swtpm:host=127.0.0.1,port=4321'), {
      host: '127.0.0.1',
      controlPort: 4322,
    });
    assert.deepEqual(swtpmControlOf('swtpm:'), { host: 'localhost', controlPort: 2322 });
    assert.equal(swtpmControlOf('device:/dev/tpmrm0'), undefined);
    assert.throws(() => swtpmControlOf('swtpm:port=65535'), RangeError);
    assert.throws(() => swtpmControlOf('swtpm:host=a b,port=1'), RangeError);
  });

  it("derives a device's three counters from its ID, inside the owner's NV range", () => {
    for (const deviceId of ['0'.repeat(64), 'f'.repeat(64), 'c'.repeat(64)]) {
      const indices = Object.values(tpmCounterIndices(deviceId));
      assert.equal(new Set(indices).size, 3);
      for (const index of indices) assert.ok(index >= 0x0180_0000 && index <= 0x01bf_ffff);
    }
    assert.notDeepEqual(tpmCounterIndices('0'.repeat(64)), tpmCounterIndices('1'.repeat(64)));
  });
});
