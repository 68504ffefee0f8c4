import assert from 'node:assert/strict';
import { it } from 'node:test';
import { deleteSetting, getSetting, insertSettingIfAbsent, putSetting } from './settings.repo.ts';
import { forEachBackend } from './test-databases.ts';

forEachBackend('settings.repo', (context) => {
  it('puts, replaces and gets a value', async () => {
    assert.equal(await getSetting(context.db, 'a'), undefined);
    await putSetting(context.db, 'a', 'one');
    await putSetting(context.db, 'a', 'two');
    assert.equal(await getSetting(context.db, 'a'), 'two');
  });

  it('sets a value only once with insertSettingIfAbsent', async () => {
    assert.equal(await insertSettingIfAbsent(context.db, 'once', 'first'), true);
    assert.equal(await insertSettingIfAbsent(context.db, 'once', 'second'), false);
    assert.equal(await getSetting(context.db, 'once'), 'first');
  });

  it('consumes a one-time value for exactly one of two concurrent callers', async () => {
    await putSetting(context.db, 'setup-token-hash', 'h1');
    assert.equal(await deleteSetting(context.db, 'setup-token-hash', { ifValue: 'wrong' }), false);
    const results = await Promise.all([
      deleteSetting(context.db, 'setup-token-hash', { ifValue: 'h1' }),
      deleteSetting(context.db, 'setup-token-hash', { ifValue: 'h1' }),
    ]);
    assert.deepEqual(results.sort(), [false, true]);
    assert.equal(await getSetting(context.db, 'setup-token-hash'), undefined);
    await putSetting(context.db, 'plain', 'x');
    assert.equal(await deleteSetting(context.db, 'plain'), true);
  });
});
