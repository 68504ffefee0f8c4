import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { connect, createServer, type Server } from 'node:tls';
import { generateSoftwareSigner, isValidSignature } from '@orbis/crypto';
import {
  constantRandom,
  cryptoRandom,
  extensionOf,
  opensslCertificateText,
  readCertificate,
  toPem,
} from '@orbis/testkit';
import { parseCertificate } from '@orbis/verify';
import { DAY_MS, fixtureCa, NOW } from '../fixtures.test-helpers.ts';
import { fixtureChain, opensslVerifyChain, type FixtureChain } from './chain.test-helpers.ts';
import { issueServerCertificate, type IssueServerCertificateOptions } from './issue-server-certificate.ts';
import { checkDnsName, ipAddressOctets } from './server-names.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

async function serverCertificate(
  chain: FixtureChain,
  overrides: Partial<IssueServerCertificateOptions> = {},
) {
  const key = generateSoftwareSigner();
  const issued = await issueServerCertificate({
    issuer: chain.intermediate,
    issuerSigner: chain.intermediateKey.signer,
    subjectKey: key.signer.publicKey,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
    random: cryptoRandom,
    notBefore: NOW - DAY_MS,
    notAfter: NOW + 90 * DAY_MS,
    ...overrides,
  });
  return { issued, key };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** One TLS handshake as Node's client makes it; resolves with the error it ends in, if any. */
function handshake(port: number, ca: string, servername: string): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername });
    socket.once('secureConnect', () => {
      socket.end();
      resolve(undefined);
    });
    socket.once('error', (error: Error) => resolve(error));
  });
}

describe('issueServerCertificate', () => {
  it('passes openssl verify -x509_strict -purpose sslserver through root → intermediate → leaf', async () => {
    const chain = await fixtureChain();
    const { issued } = await serverCertificate(chain);
    const result = opensslVerifyChain({
      root: chain.root.der,
      untrusted: [chain.intermediate.der],
      leaf: issued.der,
      purpose: 'sslserver',
      at: NOW,
    });
    assert.equal(result.verified, true, result.output);
    // Without the intermediate there is no path; a client-auth purpose is refused.
    assert.equal(
      opensslVerifyChain({
        root: chain.root.der,
        untrusted: [],
        leaf: issued.der,
        purpose: 'sslserver',
        at: NOW,
      }).verified,
      false,
    );
    assert.equal(
      opensslVerifyChain({
        root: chain.root.der,
        untrusted: [chain.intermediate.der],
        leaf: issued.der,
        purpose: 'sslclient',
        at: NOW,
      }).verified,
      false,
    );
  });

  it('writes the TLS server profile that openssl reads', async () => {
    const chain = await fixtureChain();
    const { issued } = await serverCertificate(chain, { dnsNames: ['localhost', 'orbis.example'] });
    const text = opensslCertificateText(issued.der);
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\n/);
    assert.match(text, /X509v3 Extended Key Usage: \s+TLS Web Server Authentication\n/);
    assert.match(
      text,
      /X509v3 Subject Alternative Name: \s+DNS:localhost, DNS:orbis.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1\n/,
    );
    assert.match(text, /X509v3 Authority Key Identifier: \n/);
    assert.match(text, /X509v3 Subject Key Identifier: \n/);
    assert.match(text, /Subject: CN ?= ?Orbis service\n/);
    assert.doesNotMatch(text, /Basic Constraints|CRL Distribution|Authority Information Access/);
  });

  it('is read by packages/verify as a leaf with the issuer key identifier and signature of the intermediate', async () => {
    const chain = await fixtureChain();
    const { issued, key } = await serverCertificate(chain);
    const parsed = parseCertificate(issued.der);
    assert.equal(parsed.basicConstraints, undefined);
    assert.deepEqual(parsed.keyUsage, ['digitalSignature']);
    assert.deepEqual(parsed.extKeyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.deepEqual(parsed.subjectAltName, { uris: [], otherCount: 3 });
    assert.equal(hex(parsed.authorityKeyIdentifier!), hex(chain.intermediate.subjectKeyIdentifier));
    assert.equal(parsed.publicKey.keyId, key.signer.publicKey.keyId);
    assert.equal(parsed.notBefore, NOW - DAY_MS);
    assert.equal(parsed.notAfter, NOW + 90 * DAY_MS);
    assert.equal(parsed.serialNumber, issued.serialNumber);
    assert.equal(
      isValidSignature(chain.intermediate.publicKey, parsed.tbs, parsed.signatureValue, 'der'),
      true,
    );
    assert.equal(hex(readCertificate(issued.der).issuer), hex(chain.intermediate.subjectName));
    const ski = extensionOf(readCertificate(issued.der), '2.5.29.14');
    assert.equal(ski.critical, false);
  });

  it("is accepted by Node's TLS client that trusts only the root, for the names it carries", async () => {
    // A real handshake checks validity against the real clock.
    const now = Date.now();
    const chain = await fixtureChain(now);
    const { issued, key } = await serverCertificate(chain, {
      notBefore: now - DAY_MS,
      notAfter: now + 90 * DAY_MS,
    });
    const privateKey = createPrivateKey({
      key: Buffer.from(key.exportPkcs8()),
      format: 'der',
      type: 'pkcs8',
    });
    const server = createServer(
      {
        key: privateKey.export({ format: 'pem', type: 'pkcs8' }),
        cert: toPem(issued.der) + toPem(chain.intermediate.der),
      },
      (socket) => socket.end(),
    );
    const port = await listen(server);
    try {
      const ca = toPem(chain.root.der);
      assert.equal(await handshake(port, ca, 'localhost'), undefined);
      const wrongName = await handshake(port, ca, 'orbis.example');
      assert.equal((wrongName as NodeJS.ErrnoException | undefined)?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
      const otherRoot = toPem((await fixtureChain(now)).root.der);
      const untrusted = await handshake(port, otherRoot, 'localhost');
      assert.equal(
        (untrusted as NodeJS.ErrnoException | undefined)?.code,
        'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('draws a positive 16-byte serial and keeps the validity it was given, floored to seconds', async () => {
    const chain = await fixtureChain();
    const { issued } = await serverCertificate(chain, {
      random: constantRandom(0xff),
      notBefore: NOW + 999,
      notAfter: NOW + DAY_MS + 999,
    });
    assert.equal(issued.serialNumber, '7f' + 'ff'.repeat(15));
    assert.equal(issued.notBefore, NOW);
    assert.equal(issued.notAfter, NOW + DAY_MS);
  });

  it('refuses names a SAN cannot carry in its one canonical form', async () => {
    const chain = await fixtureChain();
    for (const dnsNames of [
      ['*.orbis.example'],
      ['Localhost'],
      ['orbis.example.'],
      ['-orbis.example'],
      ['orbis..example'],
      ['127.0.0.1'],
      [`${'a'.repeat(64)}.example`],
      [''],
      [],
    ]) {
      await assert.rejects(serverCertificate(chain, { dnsNames, ipAddresses: [] }), {
        code: 'CA_ENCODING_INVALID',
      });
    }
    for (const address of [
      '127.0.0.01',
      '256.0.0.1',
      '1.2.3',
      '::1%lo',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      'fe80::g',
    ]) {
      await assert.rejects(serverCertificate(chain, { ipAddresses: [address] }), {
        code: 'CA_ENCODING_INVALID',
      });
    }
    const many = Array.from({ length: 33 }, (_, index) => `host${index}.example`);
    await assert.rejects(serverCertificate(chain, { dnsNames: many, ipAddresses: [] }), {
      code: 'CA_ENCODING_INVALID',
    });
  });

  it('reads IP addresses into their network-order octets', () => {
    assert.equal(hex(ipAddressOctets('192.0.2.1')), 'c0000201');
    assert.equal(hex(ipAddressOctets('::')), '0'.repeat(32));
    assert.equal(hex(ipAddressOctets('2001:db8::1')), '20010db8' + '0'.repeat(22) + '01');
    assert.equal(hex(ipAddressOctets('::ffff:192.0.2.1')), '0'.repeat(20) + 'ffffc0000201');
    assert.equal(hex(ipAddressOctets('1:2:3:4:5:6:7:8')), '00010002000300040005000600070008');
    assert.throws(() => ipAddressOctets('1:2:3:4:5:6:7::8'), { code: 'CA_ENCODING_INVALID' });
    assert.equal(checkDnsName('xn--bcher-kva.example'), 'xn--bcher-kva.example');
  });

  it('refuses a validity past 398 days or beyond the issuer, a foreign issuer and mismatched keys', async () => {
    const chain = await fixtureChain();
    await assert.rejects(serverCertificate(chain, { notAfter: NOW - DAY_MS + 399 * DAY_MS }), {
      code: 'CA_VALIDITY_INVALID',
    });
    const shortLived = await fixtureCa(0);
    await assert.rejects(
      serverCertificate(chain, {
        issuer: shortLived.caCertificate,
        issuerSigner: shortLived.signer,
        notAfter: shortLived.caCertificate.notAfter + 1000,
      }),
      { code: 'CA_VALIDITY_INVALID' },
    );
    await assert.rejects(serverCertificate(chain, { issuerSigner: chain.rootSigner }), {
      code: 'CA_SIGNER_MISMATCH',
    });
    await assert.rejects(serverCertificate(chain, { subjectKey: chain.intermediate.publicKey }), {
      code: 'CA_CERTIFICATE_KEY_INVALID',
    });
    await assert.rejects(
      serverCertificate(chain, {
        subjectKey: { kind: 'nope' } as unknown as IssueServerCertificateOptions['subjectKey'],
      }),
      { code: 'CA_CERTIFICATE_KEY_INVALID' },
    );
    await assert.rejects(serverCertificate(chain, { issuer: { ...chain.intermediate } }), {
      code: 'CA_ISSUER_INVALID',
    });
  });
});
