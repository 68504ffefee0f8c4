import { formatTable, printJson, type Output } from '../output.ts';

/**
 * What `npm start` shows until the service exists: which parts of Orbis are built and how to
 * try them. Each issue that builds a part moves it to "built"; the service-core issue makes
 * `npm start` start the service, a simulated fleet and the portal instead.
 */
const PARTS = [
  { part: 'crypto core', state: 'built', where: 'packages/crypto', issue: 2 },
  {
    part: 'wire contract and error codes',
    state: 'built',
    where: 'packages/protocol, docs/errors.md',
    issue: 2,
  },
  { part: 'image packages', state: 'built', where: 'packages/verify, packages/ca, `orbis image`', issue: 2 },
  { part: 'security service and attestation', state: 'planned', where: 'packages/service', issue: 3 },
  { part: 'device runtime and root of trust', state: 'planned', where: 'packages/device', issue: 4 },
  { part: 'apps and the sandbox', state: 'planned', where: 'packages/device, examples/', issue: 5 },
  {
    part: 'security renewal (updates)',
    state: 'planned',
    where: 'packages/service, packages/device',
    issue: 6,
  },
  {
    part: 'failure reports and threats',
    state: 'planned',
    where: 'packages/service, packages/device',
    issue: 7,
  },
] as const;

export function statusCommand(options: { json: boolean }, out: Output): void {
  if (options.json) {
    printJson(out, { parts: PARTS });
    return;
  }
  out.write('Orbis: the service, the simulated fleet and the portal are not built yet.\n\n');
  out.write(
    formatTable(
      ['part', 'state', 'where', 'issue'],
      PARTS.map((p) => [p.part, p.state, p.where, `#${p.issue}`]),
    ),
  );
  out.write(
    [
      '',
      'Try what is built:',
      '  npm run orbis -- keys generate --out dev.key',
      '  npm run orbis -- image pack --header header.json --payload app.js --key dev.key --out app.oimg',
      '  npm run orbis -- image verify app.oimg --key dev.key.pub',
      'Tests: npm test   Docs: docs/architecture.md',
      '',
    ].join('\n'),
  );
}
