/**
 * Benchmarks of the trusted core: what Orbis adds on top of the raw node:crypto operations it
 * is built on. Run with `npm run bench`; results go in docs/benchmarks.md.
 */
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { availableParallelism, cpus } from 'node:os';
import { packImage } from '@orbis/ca';
import { canonicalizeJson, createSoftwareSigner, parsePublicKeySpki } from '@orbis/crypto';
import { sampleAppHeader } from '@orbis/testkit';
import { verifyImage } from '@orbis/verify';
import { compare } from './measure.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const signer = createSoftwareSigner(privateKey);
const spki = publicKey.export({ format: 'der', type: 'spki' });
const header = sampleAppHeader;

async function imageCases(payloadBytes: number, label: string) {
  const payload = new Uint8Array(payloadBytes).fill(0x5a);
  const image = await packImage({ header, payload, signers: [signer] });
  const signature = sign('sha256', image, { key: privateKey, dsaEncoding: 'der' });
  return compare(
    {
      name: `raw SHA-256 + P-256 verify of ${label}`,
      run: () => verify('sha256', image, publicKey, signature),
    },
    [
      {
        name: `verifyImage, ${label} package`,
        run: () => verifyImage(image, { trustedKeys: [signer.publicKey] }),
      },
    ],
  );
}

const capability = {
  deviceId: 'ab'.repeat(32),
  tenantId: header.tenantId,
  capability: 'appDevelopment',
  issuedAt: 1_795_000_000,
  expiresAt: 1_795_086_400,
  epoch: 3,
};
const message = new Uint8Array(64).fill(1);

const sections: [string, string[]][] = [
  ['Image packages: verification cost over the raw signature check', await imageCases(1024, '1 KiB')],
  ['Image packages, large payload', await imageCases(1024 * 1024, '1 MiB')],
  [
    'Signing through the Signer handle',
    await compare(
      { name: 'raw node:crypto P-256 sign (DER)', run: () => sign('sha256', message, privateKey) },
      [
        { name: 'Signer.sign (der)', run: () => signer.sign(message, 'der') },
        {
          name: 'raw node:crypto P-256 sign (P1363)',
          run: () => sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
        },
        { name: 'Signer.sign (p1363)', run: () => signer.sign(message, 'p1363') },
      ],
    ),
  ],
  [
    'Strict key parsing',
    await compare(
      {
        name: 'raw createPublicKey(SPKI DER)',
        run: () => createPublicKey({ key: spki, format: 'der', type: 'spki' }),
      },
      [{ name: 'parsePublicKeySpki (canonical check + key ID)', run: () => parsePublicKeySpki(spki) }],
    ),
  ],
  [
    'Canonical JSON (a device capability object)',
    await compare({ name: 'JSON.stringify', run: () => JSON.stringify(capability) }, [
      { name: 'canonicalizeJson (RFC 8785)', run: () => canonicalizeJson(capability) },
    ]),
  ],
];

process.stderr.write('\n');
console.log(
  `Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), median of rounds\n`,
);
for (const [title, rows] of sections) {
  console.log(
    `### ${title}\n\n| case | ops/s | ratio to baseline |\n| --- | ---: | ---: |\n${rows.join('\n')}\n`,
  );
}
