// The trusted core (packages/crypto, packages/verify, packages/ca) decides what Orbis trusts.
// It must be auditable without reading any I/O code, so it may not reach the network, the
// file system, a database, the clock or a random source except through injected interfaces
// (Clock, Random, Signer). Key generation inside OpenSSL is the one accepted exception.
// tests/trusted-core-boundary.test.ts feeds each forbidden construct through these rules.

export const TRUSTED_CORE_FILES = [
  'packages/crypto/src/**/*.ts',
  'packages/verify/src/**/*.ts',
  'packages/ca/src/**/*.ts',
];

const IO_MODULES = [
  'fs',
  'fs/promises',
  'net',
  'tls',
  'http',
  'https',
  'http2',
  'dgram',
  'dns',
  'dns/promises',
  'child_process',
  'cluster',
  'worker_threads',
  'sqlite',
  'readline',
  'inspector',
  'os',
  'process',
  'timers',
  'timers/promises',
  'perf_hooks',
];

const IO_PACKAGES = [
  'pg',
  'postgres',
  'kysely',
  'undici',
  'fastify',
  'mqtt',
  'aedes',
  'ws',
  'axios',
  'node-fetch',
  'better-sqlite3',
  'pkcs11js',
];

const message = 'the trusted core does no I/O: take it through an injected interface';

export const trustedCoreRules = {
  'no-restricted-imports': [
    'error',
    {
      paths: [
        ...IO_MODULES.flatMap((name) => [
          { name, message },
          { name: `node:${name}`, message },
        ]),
        ...IO_PACKAGES.map((name) => ({ name, message })),
        {
          name: 'node:crypto',
          importNames: [
            'randomBytes',
            'randomFill',
            'randomFillSync',
            'randomInt',
            'randomUUID',
            'getRandomValues',
            'webcrypto',
          ],
          message: 'the trusted core takes randomness from an injected Random',
        },
        {
          name: 'crypto',
          message: 'import node:crypto, and take randomness from an injected Random',
        },
      ],
    },
  ],
  'no-restricted-globals': [
    'error',
    { name: 'fetch', message },
    { name: 'XMLHttpRequest', message },
    { name: 'WebSocket', message },
    { name: 'process', message },
    { name: 'performance', message: 'the trusted core takes time from an injected Clock' },
    { name: 'setTimeout', message: 'the trusted core takes time from an injected Clock' },
    { name: 'setInterval', message: 'the trusted core takes time from an injected Clock' },
    { name: 'crypto', message: 'import node:crypto; randomness comes from an injected Random' },
    { name: 'require', message },
  ],
  'no-restricted-syntax': [
    'error',
    {
      selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
      message: 'the trusted core takes time from an injected Clock',
    },
    {
      selector: "NewExpression[callee.name='Date'][arguments.length=0]",
      message: 'the trusted core takes time from an injected Clock',
    },
    {
      selector: "CallExpression[callee.name='Date']",
      message: 'the trusted core takes time from an injected Clock',
    },
    {
      selector: "MemberExpression[object.name='Math'][property.name='random']",
      message: 'the trusted core takes randomness from an injected Random',
    },
    {
      selector:
        'MemberExpression[property.name=/^(randomBytes|randomFill|randomFillSync|randomInt|randomUUID|getRandomValues)$/]',
      message: 'the trusted core takes randomness from an injected Random',
    },
    {
      selector: 'ImportExpression',
      message: 'the trusted core loads no code at run time',
    },
  ],
};
