import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
// @ts-expect-error -- a plain ES module shared with eslint.config.js; it has no type declarations.
import { TRUSTED_CORE_FILES, trustedCoreRules } from '../eslint/trusted-core.js';

/**
 * The trusted core (packages/crypto, verify, ca) may not reach the network, the file system, a
 * database, the clock or a random source. These tests push each forbidden construct through
 * the same rules eslint.config.js applies, and check the real config applies them there.
 */

const root = new URL('..', import.meta.url).pathname;

const linter = new ESLint({
  cwd: root,
  overrideConfigFile: true,
  overrideConfig: [
    { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
    { files: TRUSTED_CORE_FILES as string[], rules: trustedCoreRules as Linter.RulesRecord },
  ],
});

async function problems(source: string, file = 'packages/crypto/src/probe.ts'): Promise<string[]> {
  const [result] = await linter.lintText(source, { filePath: `${root}${file}` });
  return (result?.messages ?? []).map((message) => `${message.ruleId ?? 'parse'}: ${message.message}`);
}

const forbidden: Record<string, string> = {
  'reads a file': "import { readFileSync } from 'node:fs';",
  'reads a file through the bare module name': "import fs from 'fs/promises';",
  'opens a socket': "import { connect } from 'node:net';",
  'opens a TLS connection': "import tls from 'node:tls';",
  'makes an HTTP request': "import { request } from 'node:https';",
  'makes a request with fetch': "export const r = fetch('https://example.com');",
  'uses undici': "import { request } from 'undici';",
  'resolves DNS': "import { lookup } from 'node:dns';",
  'starts a process': "import { spawn } from 'node:child_process';",
  'opens SQLite': "import { DatabaseSync } from 'node:sqlite';",
  'opens PostgreSQL': "import pg from 'pg';",
  'builds queries with kysely': "import { Kysely } from 'kysely';",
  'reads the environment': 'export const env = process.env;',
  'reads the clock with Date.now': 'export const now = Date.now();',
  'reads the clock with new Date()': 'export const now = new Date();',
  'reads the clock with Date()': 'export const now = Date();',
  'reads the clock with performance.now': 'export const now = performance.now();',
  'schedules a timer': 'setTimeout(() => 0, 1);',
  'draws Math.random': 'export const r = Math.random();',
  'imports randomBytes': "import { randomBytes } from 'node:crypto';",
  'imports randomUUID': "import { randomUUID } from 'node:crypto';",
  'calls crypto.randomBytes through a namespace':
    "import * as c from 'node:crypto';\nexport const r = c.randomBytes(16);",
  'calls the Web Crypto random source': 'export const r = crypto.getRandomValues(new Uint8Array(8));',
  'loads code at run time': "export const m = await import('node:fs');",
};

describe('the trusted-core boundary lint', () => {
  for (const [what, source] of Object.entries(forbidden)) {
    it(`fails when trusted-core code ${what}`, async () => {
      assert.notDeepEqual(await problems(source), [], source);
    });
  }

  it('allows hashing, verification and key generation inside OpenSSL', async () => {
    const source = [
      "import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';",
      "export const k = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });",
      "export const h = createHash('sha256');",
      'export const f = [sign, verify];',
      'export const d = new Date(0);',
    ].join('\n');
    assert.deepEqual(await problems(source), []);
  });

  it('does not restrict packages outside the trusted core', async () => {
    assert.deepEqual(
      await problems("import { readFileSync } from 'node:fs';", 'packages/service/src/probe.ts'),
      [],
    );
  });

  it('is what eslint.config.js applies to crypto, verify and ca sources, but not to their tests', async () => {
    const project = new ESLint({ cwd: root });
    for (const name of ['crypto', 'verify', 'ca']) {
      const config = (await project.calculateConfigForFile(`packages/${name}/src/any.ts`)) as {
        rules: Record<string, unknown>;
      };
      for (const rule of Object.keys(trustedCoreRules as object))
        assert.ok(config.rules[rule], `${name}: ${rule}`);
      const testConfig = (await project.calculateConfigForFile(`packages/${name}/src/any.test.ts`)) as {
        rules: Record<string, unknown>;
      };
      assert.equal(testConfig.rules['no-restricted-imports'], undefined);
    }
  });
});
