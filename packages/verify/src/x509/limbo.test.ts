import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CertificateError } from '../errors.ts';
import { verifyIssuedByAnchor } from './issued-by-anchor.ts';
import { parseCertificate, type ParsedCertificate } from './parse-certificate.ts';

/**
 * Conformance against x509-limbo (C2SP, Apache-2.0), read from the shared vectors beside the
 * repository. limbo-conformance.json says which cases are out of scope for an anchor → leaf,
 * P-256-only verifier and why, and which outcomes deliberately differ.
 */

interface LimboCase {
  readonly id: string;
  readonly trusted_certs: readonly string[];
  readonly untrusted_intermediates: readonly string[];
  readonly peer_certificate: string;
  readonly validation_time: string | null;
  readonly expected_result: 'SUCCESS' | 'FAILURE';
}

interface Conformance {
  readonly outOfScope: readonly {
    readonly topic: string;
    readonly reason: string;
    readonly cases: readonly string[];
  }[];
  readonly deviations: readonly { readonly case: string; readonly reason: string }[];
}

const limbo = JSON.parse(
  readFileSync(new URL('../../../../../shared/vectors/x509-limbo/limbo.json', import.meta.url), 'utf8'),
) as { testcases: LimboCase[] };
const conformance = JSON.parse(
  readFileSync(new URL('./limbo-conformance.json', import.meta.url), 'utf8'),
) as Conformance;

const outOfScope = new Set(conformance.outOfScope.flatMap((group) => group.cases));
const deviations = new Set(conformance.deviations.map((deviation) => deviation.case));

function derOf(pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, ''), 'base64'));
}

/** Parses, and lets nothing but a CertificateError escape. */
function parseStrictly(pem: string): ParsedCertificate | CertificateError {
  try {
    return parseCertificate(derOf(pem));
  } catch (error) {
    assert.ok(error instanceof CertificateError, `not a CertificateError: ${String(error)}`);
    return error;
  }
}

/**
 * The anchor step as the device listener runs it: trusted certificates that do not parse are
 * dropped (a service refuses to load them), then the leaf must be issued directly by one of
 * the rest and be valid at the validation time.
 */
function anchorStep(testCase: LimboCase): 'SUCCESS' | 'FAILURE' {
  const leaf = parseStrictly(testCase.peer_certificate);
  if (leaf instanceof CertificateError) return 'FAILURE';
  const anchors = testCase.trusted_certs
    .map(parseStrictly)
    .filter((anchor): anchor is ParsedCertificate => !(anchor instanceof CertificateError));
  // No validation time means "now" to limbo; its certificates run from 1970 to 2969, so a
  // fixed instant keeps the test deterministic.
  const now = Date.parse(testCase.validation_time ?? '2026-01-01T00:00:00Z');
  try {
    verifyIssuedByAnchor(leaf, anchors, now);
    return 'SUCCESS';
  } catch (error) {
    assert.ok(error instanceof CertificateError, `not a CertificateError: ${String(error)}`);
    return 'FAILURE';
  }
}

describe('x509-limbo conformance', () => {
  it('classifies every limbo case, and names no case limbo lacks', () => {
    const ids = new Set(limbo.testcases.map((testCase) => testCase.id));
    for (const id of [...outOfScope, ...deviations]) assert.ok(ids.has(id), `${id} is not in limbo.json`);
    for (const id of deviations) assert.ok(!outOfScope.has(id), `${id} is listed twice`);
    for (const testCase of limbo.testcases) {
      if (outOfScope.has(testCase.id)) continue;
      assert.equal(
        testCase.untrusted_intermediates.length,
        0,
        `${testCase.id} needs an intermediate: classify it`,
      );
    }
  });

  it('parses every certificate in every case or refuses it with a CertificateError', () => {
    let certificates = 0;
    for (const testCase of limbo.testcases) {
      for (const pem of [
        ...testCase.trusted_certs,
        ...testCase.untrusted_intermediates,
        testCase.peer_certificate,
      ]) {
        parseStrictly(pem);
        certificates += 1;
      }
    }
    assert.ok(certificates > 900, `only ${certificates} certificates read`);
  });

  it('reaches the expected result on every anchor → leaf case in scope', () => {
    const disagreements = limbo.testcases
      .filter((testCase) => !outOfScope.has(testCase.id) && !deviations.has(testCase.id))
      .filter((testCase) => anchorStep(testCase) !== testCase.expected_result)
      .map((testCase) => testCase.id);
    assert.deepEqual(disagreements, []);
  });

  it('still differs on each documented deviation (so the list stays true)', () => {
    for (const testCase of limbo.testcases.filter((candidate) => deviations.has(candidate.id))) {
      assert.notEqual(
        anchorStep(testCase),
        testCase.expected_result,
        `${testCase.id} now agrees: remove the deviation`,
      );
    }
  });
});
