import { randomBytes, generateKeyPairSync } from 'node:crypto';
import { createSoftwareSigner, deviceIdFromPublicKey, generateSoftwareSigner } from '@orbis/crypto';
import { createCaCertificate, createDeviceCertificateIssuer } from '@orbis/ca';
const random = { bytes: (n: number) => randomBytes(n) };
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const signer = createSoftwareSigner(privateKey);
const now = Date.UTC(2026, 10, 22, 12, 0, 0);
const ca = await createCaCertificate({ signer, random, notBefore: now - 86400000, notAfter: now + 730 * 86400000 });
const tenantId = '7b1d9f42-6a3e-4c85-b0d2-19e4f7a6c3b8';
const issuer = createDeviceCertificateIssuer({ caCertificate: ca, signer, random, scope: { kind: 'tenant', tenantId } });
const request = { deviceId: deviceIdFromPublicKey(generateSoftwareSigner().signer.publicKey), tenantId, productId: '0f3c5a9e-2d41-4b7a-9c1e-5a7d2b8e6f10', groupId: 'c2a4e6f8-1b3d-4f5a-8c7e-9d0b1a2c3e4f', resultClass: 'trusted' as const, certificateKey: generateSoftwareSigner().signer.publicKey, notBefore: now - 300000, notAfter: now + 86400000 };
const t = performance.now(); let n = 0;
while (performance.now() - t < 5000) { await issuer.issue(request); n++; }
console.log(n / 5);
