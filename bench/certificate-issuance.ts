/**
 * Certificate issuance in packages/ca against the raw node:crypto P-256 DER signature it is
 * built on, measured in the same run. Run with
 * `node_modules/.bin/node bench/certificate-issuance.ts`; results go in docs/benchmarks.md.
 */
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { availableParallelism, cpus } from 'node:os';
import {
  createCaCertificate,
  createDeviceCertificateIssuer,
  issueDeviceCertificate,
  parseCaCertificate,
  type DeviceCertificateRequest,
} from '@orbis/ca';
import {
  createSoftwareSigner,
  deviceIdFromPublicKey,
  generateSoftwareSigner,
  type Random,
} from '@orbis/crypto';
import { readCertificate, SAMPLE_GROUP_ID, SAMPLE_PRODUCT_ID, SAMPLE_TENANT_ID } from '@orbis/testkit';
import { compare } from './measure.ts';

// What the service would inject: node:crypto's CSPRNG, one call per draw, no pooling.
const random: Random = { bytes: (length) => randomBytes(length) };

/** The same CSPRNG drawn 4 KiB at a time: how much of issuance is the per-call cost of randomBytes. */
function pooledRandom(): Random {
  let pool = randomBytes(4096);
  let offset = 0;
  return {
    bytes(length) {
      if (offset + length > pool.byteLength) {
        pool = randomBytes(4096);
        offset = 0;
      }
      offset += length;
      return pool.subarray(offset - length, offset);
    },
  };
}
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const signer = createSoftwareSigner(privateKey);

const now = Date.UTC(2026, 10, 22, 12);
const DAY_MS = 24 * 60 * 60 * 1000;
const caOptions = { signer, random, notBefore: now - DAY_MS, notAfter: now + 730 * DAY_MS };
const caCertificate = await createCaCertificate(caOptions);
const scope = { kind: 'tenant', tenantId: SAMPLE_TENANT_ID } as const;
const issuer = createDeviceCertificateIssuer({ caCertificate, signer, random, scope });
const pooledIssuer = createDeviceCertificateIssuer({ caCertificate, signer, random: pooledRandom(), scope });
const request: DeviceCertificateRequest = {
  deviceId: deviceIdFromPublicKey(generateSoftwareSigner().signer.publicKey),
  tenantId: SAMPLE_TENANT_ID,
  productId: SAMPLE_PRODUCT_ID,
  groupId: SAMPLE_GROUP_ID,
  resultClass: 'trusted',
  certificateKey: generateSoftwareSigner().signer.publicKey,
  notBefore: now - 5 * 60 * 1000,
  notAfter: now + DAY_MS,
};

// The baseline signs a message as long as a real TBSCertificate, so hashing costs the same.
const sample = await issuer.issue(request);
const tbsLength = readCertificate(sample.der).tbs.byteLength;
const message = new Uint8Array(tbsLength).fill(0x5a);
const caSignature = sign('sha256', caCertificate.der, privateKey);
const baseline = {
  name: `raw node:crypto P-256 sign (DER), ${tbsLength} bytes`,
  run: () => sign('sha256', message, privateKey),
};

const sections: [string, string[]][] = [
  [
    'Device certificates',
    await compare(baseline, [
      { name: 'Signer.sign (der), same bytes', run: () => signer.sign(message, 'der') },
      {
        name: 'issuer.issue (createDeviceCertificateIssuer, per-CA parts cached)',
        run: () => issuer.issue(request),
      },
      {
        name: 'issuer.issue with a pooled Random (4 KiB refills)',
        run: () => pooledIssuer.issue(request),
      },
      {
        name: 'issueDeviceCertificate (one-shot: checks and encodes the CA each call)',
        run: () => issueDeviceCertificate({ caCertificate, signer, random, scope, request }),
      },
    ]),
  ],
  [
    'CA certificates',
    await compare(baseline, [
      {
        name: 'raw node:crypto P-256 verify (DER)',
        run: () => verify('sha256', caCertificate.der, publicKey, caSignature),
      },
      {
        name: 'parseCaCertificate (strict parse + self-signature check)',
        run: () => parseCaCertificate(caCertificate.der),
      },
      {
        name: 'createCaCertificate (sign, then read back with parseCaCertificate)',
        run: () => createCaCertificate(caOptions),
      },
    ]),
  ],
];

process.stderr.write('\n');
console.log(
  `Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), median of rounds; device certificate ${sample.der.byteLength} bytes, CA certificate ${caCertificate.der.byteLength} bytes\n`,
);
for (const [title, rows] of sections) {
  console.log(
    `### ${title}\n\n| case | ops/s | ratio to baseline |\n| --- | ---: | ---: |\n${rows.join('\n')}\n`,
  );
}
