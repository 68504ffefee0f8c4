import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parsePublicKeySpki } from '@orbis/crypto';
import { assertManifestMatchesHeader, parseAppPayload, verifyImage } from '@orbis/verify';
import { runOrbis, type OrbisRun } from './lab.test-helpers.ts';

const TENANT = '7b1d9f42-6a3e-4c85-b0d2-19e4f7a6c3b8';
const tsc = new URL('../../../node_modules/typescript/bin/tsc', import.meta.url).pathname;
let dir = '';

const orbis = (...args: string[]) => runOrbis(dir, ...args);

function json(run: OrbisRun): Record<string, unknown> {
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

function errorCode(run: OrbisRun): string | undefined {
  assert.equal(run.status, 1, run.stdout + run.stderr);
  return (json(run)['error'] as { code: string } | undefined)?.code;
}

function readManifest(app: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, app, 'app_manifest.json'), 'utf8')) as Record<string, unknown>;
}

/** Rewrites the app's manifest with `change` applied to it and its capabilities. */
function editManifest(
  app: string,
  change: (manifest: Record<string, unknown>, capabilities: Record<string, unknown>) => void,
) {
  const manifest = readManifest(app);
  change(manifest, manifest['Capabilities'] as Record<string, unknown>);
  writeFileSync(join(dir, app, 'app_manifest.json'), JSON.stringify(manifest, null, 2));
}

/** `orbis app new` then `orbis app build`: an app ready to pack. */
async function builtApp(name: string): Promise<string> {
  const made = await orbis('app', 'new', name, '--json');
  assert.equal(made.status, 0, made.stderr);
  const built = await orbis('app', 'build', name, '--json');
  assert.equal(built.status, 0, built.stdout + built.stderr);
  return name;
}

const pack = (app: string, out: string, ...flags: string[]) =>
  orbis('app', 'pack', app, '--key', 'dev.key', '--out', out, '--tenant', TENANT, '--json', ...flags);

describe('orbis app new, build and pack', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orbis-app-'));
    const key = await orbis('keys', 'generate', '--out', 'dev.key');
    assert.equal(key.status, 0, key.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates, builds and packs an app whose package verifies and whose payload holds the manifest and the bundle', async () => {
    const made = await orbis('app', 'new', 'blink', '--json');
    assert.equal(made.status, 0, made.stderr);
    const manifest = readManifest('blink');
    assert.deepEqual(manifest, {
      SchemaVersion: 1,
      Name: 'blink',
      ComponentId: json(made)['componentId'],
      EntryPoint: 'main.js',
      Capabilities: { Gpio: [8] },
    });
    for (const file of ['src/main.ts', 'orbis-app.d.ts', 'tsconfig.json', '.gitignore']) {
      assert.ok(existsSync(join(dir, 'blink', file)), file);
    }

    const built = await orbis('app', 'build', 'blink', '--json');
    assert.equal(built.status, 0, built.stdout + built.stderr);
    assert.equal(json(built)['out'], join('dist', 'main.js'));
    const bundle = readFileSync(join(dir, 'blink', 'dist', 'main.js'));
    assert.match(bundle.toString(), /orbis\.gpio\.open\(LED_PIN, "out"\)/);
    assert.doesNotMatch(bundle.toString(), /^\s*(import|export)\b/m);

    const packed = await pack('blink', 'blink.oimg', '--version', '1.2.3', '--security-version', '7');
    assert.equal(packed.status, 0, packed.stdout + packed.stderr);
    const verified = await orbis('image', 'verify', 'blink.oimg', '--key', 'dev.key.pub', '--json');
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    assert.equal(json(verified)['verified'], true);

    const publicKey = parsePublicKeySpki(
      createPublicKey(readFileSync(join(dir, 'dev.key.pub'))).export({ format: 'der', type: 'spki' }),
    );
    const image = verifyImage(readFileSync(join(dir, 'blink.oimg')), { trustedKeys: [publicKey] });
    assert.equal(image.header.kind, 'app');
    assert.equal(image.header.tenantId, TENANT);
    assert.equal(image.header.componentId, manifest['ComponentId']);
    assert.equal(image.header.version, '1.2.3');
    assert.equal(image.header.securityVersion, 7);
    const payload = parseAppPayload(image.payload);
    assert.deepEqual(payload.manifest, manifest);
    assert.deepEqual(Buffer.from(payload.entryPoint), bundle);
    assert.deepEqual([...payload.files.keys()], ['main.js']);
    assertManifestMatchesHeader(payload.manifest, image.header);

    const table = await orbis(
      'app',
      'pack',
      'blink',
      '--key',
      'dev.key',
      '--out',
      'blink-2.oimg',
      '--tenant',
      TENANT,
    );
    assert.match(table.stdout, /^field +value\n/);
    assert.match(table.stdout, /\nkind +app\n/);
  });

  it('gives the new app typings that type-check it and that know no Node.js or DOM globals', () => {
    const app = join(dir, 'blink');
    const clean = spawnSync(process.execPath, [tsc, '-p', app], { encoding: 'utf8' });
    assert.equal(clean.status, 0, clean.stdout + clean.stderr);
    writeFileSync(
      join(app, 'src', 'wrong.ts'),
      "orbis.gpio.open('8', 'out');\nsetTimeout(() => 1, 5);\nconsole.log(1);\n",
    );
    const wrong = spawnSync(process.execPath, [tsc, '-p', app], { encoding: 'utf8' });
    rmSync(join(app, 'src', 'wrong.ts'));
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stdout, /wrong\.ts\(1,17\).*not assignable to parameter of type 'number'/);
    assert.match(wrong.stdout, /Cannot find name 'setTimeout'/);
    assert.match(wrong.stdout, /Cannot find name 'console'/);
  });

  it('gives each new app its own component ID, and refuses an existing directory or a bad name', async () => {
    const first = json(await orbis('app', 'new', 'one', '--json'));
    const second = json(await orbis('app', 'new', 'apps/two', '--json'));
    assert.notEqual(first['componentId'], second['componentId']);
    assert.equal(readManifest('apps/two')['Name'], 'two');
    assert.equal(errorCode(await orbis('app', 'new', 'one', '--json')), 'CLI_FILE_EXISTS');
    assert.equal(errorCode(await orbis('app', 'new', 'bad name!', '--json')), 'APP_MANIFEST_NAME_INVALID');
    assert.equal(existsSync(join(dir, 'bad name!')), false);
  });

  it('refuses to build an app that imports node:fs, naming each import', async () => {
    await builtApp('reader');
    const source =
      'import { readFileSync } from "node:fs";\nconst cp = require("child_process");\norbis.log.info(readFileSync, cp);\n';
    writeFileSync(join(dir, 'reader', 'src', 'main.ts'), source);
    const run = await orbis('app', 'build', 'reader', '--json');
    assert.equal(errorCode(run), 'CLI_APP_BUILD_FAILED');
    const { message } = json(run)['error'] as { message: string };
    assert.match(message, /src\/main\.ts:1:\d+: apps cannot import the Node\.js module "node:fs"/);
    assert.match(message, /src\/main\.ts:2:\d+: apps cannot import the Node\.js module "child_process"/);
    const human = await orbis('app', 'build', 'reader');
    assert.match(human.stderr, /^orbis: CLI_APP_BUILD_FAILED: /);
  });

  it('refuses to build an app whose source does not parse or whose manifest is bad', async () => {
    await builtApp('broken');
    writeFileSync(join(dir, 'broken', 'src', 'main.ts'), 'const x: number = ;\n');
    assert.equal(errorCode(await orbis('app', 'build', 'broken', '--json')), 'CLI_APP_BUILD_FAILED');
    editManifest('broken', (manifest) => (manifest['Version'] = '1.0.0'));
    assert.equal(errorCode(await orbis('app', 'build', 'broken', '--json')), 'APP_MANIFEST_UNKNOWN_FIELD');
  });

  it('refuses to pack an app whose manifest names an unknown capability', async () => {
    await builtApp('camera');
    editManifest('camera', (_, capabilities) => (capabilities['Camera'] = true));
    assert.equal(errorCode(await pack('camera', 'camera.oimg')), 'APP_MANIFEST_CAPABILITY_UNKNOWN');
    assert.equal(existsSync(join(dir, 'camera.oimg')), false);
  });

  it('refuses to pack an app whose manifest has a malformed host', async () => {
    await builtApp('uploader');
    editManifest(
      'uploader',
      (_, capabilities) => (capabilities['AllowedConnections'] = ['https://example.com']),
    );
    const run = await pack('uploader', 'uploader.oimg');
    assert.equal(errorCode(run), 'APP_MANIFEST_HOST_INVALID');
    assert.match(
      (json(run)['error'] as { message: string }).message,
      /^\/Capabilities\/AllowedConnections\/0: .*"https:\/\/example\.com"$/,
    );
  });

  it('refuses to pack an app whose manifest has a quota over the limit', async () => {
    await builtApp('hoarder');
    editManifest('hoarder', (_, capabilities) => (capabilities['MutableStorage'] = { SizeKB: 65_537 }));
    assert.equal(errorCode(await pack('hoarder', 'hoarder.oimg')), 'APP_MANIFEST_QUOTA_INVALID');
  });

  it('requires --tenant, even when the manifest grants DeviceAuthentication, and refuses bad header options', async () => {
    await builtApp('tenanted');
    const noTenant = await orbis('app', 'pack', 'tenanted', '--key', 'dev.key', '--out', 't.oimg', '--json');
    assert.equal(errorCode(noTenant), 'CLI_USAGE_INVALID');
    assert.equal(errorCode(await pack('tenanted', 't.oimg', '--version', '1.0')), 'CLI_OPTION_INVALID');
    assert.equal(
      errorCode(await pack('tenanted', 't.oimg', '--security-version', '-1')),
      'CLI_OPTION_INVALID',
    );
    assert.equal(
      errorCode(await pack('tenanted', 't.oimg', '--security-version', '4294967296')),
      'CLI_OPTION_INVALID',
    );
    assert.equal(errorCode(await pack('tenanted', 't.oimg', '--tenant', 'ACME')), 'CLI_OPTION_INVALID');
    editManifest('tenanted', (_, capabilities) => (capabilities['DeviceAuthentication'] = TENANT));
    const stillNoTenant = await orbis(
      'app',
      'pack',
      'tenanted',
      '--key',
      'dev.key',
      '--out',
      't.oimg',
      '--json',
    );
    assert.equal(errorCode(stillNoTenant), 'CLI_USAGE_INVALID');
    const packed = await pack('tenanted', 't.oimg');
    assert.equal(packed.status, 0, packed.stdout + packed.stderr);
    assert.equal(json(packed)['tenantId'], TENANT);
    assert.equal(errorCode(await pack('tenanted', 't.oimg')), 'CLI_FILE_EXISTS');
  });

  it('refuses to pack an app that was not built', async () => {
    assert.equal((await orbis('app', 'new', 'unbuilt')).status, 0);
    const run = await pack('unbuilt', 'unbuilt.oimg');
    assert.equal(errorCode(run), 'CLI_FILE_UNREADABLE');
    assert.match((json(run)['error'] as { message: string }).message, /orbis app build/);
  });
});
