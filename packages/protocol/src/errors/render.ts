import { ERROR_CATALOGUE } from './catalogue.ts';

const AREA_TITLES: Record<string, string> = {
  CRYPTO: 'Keys, signatures and encodings (packages/crypto)',
  IMAGE: 'Image packages ([format](formats/image-package.md))',
  AUTH: 'People and access',
  TENANT: 'Tenants',
  USER: 'Users and memberships',
  TOKEN: 'API tokens',
  KEYSTORE: 'Key custody',
  DB: 'Storage',
  AUDIT: 'Audit log',
  REGISTRY: 'Manufacturing registry',
  CLAIM: 'Claiming devices',
  CA: 'Certificate authority (packages/ca)',
  ATTESTATION: 'Attestation evidence and nonces (packages/verify)',
  CERT: 'Certificates and chains (packages/verify)',
  APPRAISAL: 'Appraisal of evidence (packages/verify)',
  UPDATES: 'Security renewal: TUF metadata (updates)',
  CLI: 'The `orbis` command-line tool (exit status 1; the HTTP status is not used)',
  APP: 'Apps: manifests, app payloads and peripheral ownership ([apps](apps.md), [format](formats/app-package.md))',
  ROT: 'The root of trust (packages/device)',
  BOOT: 'Secure and measured boot (packages/device)',
  AGENT: 'The device agent: attestation client and device directories (packages/device)',
};

/** The section a code is listed under: its area prefix, or "Requests" for the general codes. */
function areaOf(code: string): string {
  return AREA_TITLES[code.split('_')[0] ?? ''] ?? 'Requests';
}

/** docs/errors.md, generated from ERROR_CATALOGUE so the two cannot drift apart. */
export function renderErrorCatalogue(): string {
  const sections = new Map<string, string[]>();
  for (const [code, { status, summary }] of Object.entries(ERROR_CATALOGUE)) {
    const rows = sections.get(areaOf(code)) ?? [];
    rows.push(`| \`${code}\` | ${status} | ${summary} |`);
    sections.set(areaOf(code), rows);
  }
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from packages/protocol/src/errors/catalogue.ts by `npm run docs:errors`; do not edit. -->',
    '',
    'Every error Orbis returns over HTTP is a JSON body `{code, message, requestId}`. The `code` is stable and part of the API: branch on it, never on `message`. Codes are only ever added, never renamed or reused. Library callers see the same codes on the `code` property of the error classes (`CryptoError`, `ImageError`).',
    '',
  ];
  for (const [title, rows] of sections) {
    lines.push(`## ${title}`, '', '| code | HTTP status | meaning |', '| --- | --- | --- |', ...rows, '');
  }
  return lines.join('\n');
}
