export {
  openssl,
  opensslVerifies,
  opensslCertificateText,
  opensslVerifyCertificate,
  toPem,
  opensslSelfSigned,
  type OpensslVerifyOptions,
  type OpensslSelfSignedOptions,
} from './openssl.ts';
export {
  SAMPLE_TENANT_ID,
  SAMPLE_OTHER_TENANT_ID,
  SAMPLE_PRODUCT_ID,
  SAMPLE_GROUP_ID,
  sampleAppHeader,
  sampleOsHeader,
} from './samples.ts';
export { readDer, child, decodeOid, derText, type DerNode } from './der.ts';
export { readCertificate, extensionOf, type CertificateView, type ExtensionView } from './x509.ts';
export { cryptoRandom, constantRandom, shortRandom, type TestRandom } from './random.ts';
export {
  createTestDeviceKeys,
  testDeviceId,
  testUeid,
  testPublicJwk,
  sampleAttestationClaims,
  base64UrlOf,
  signJwsSegments,
  signTestEvidence,
  type TestDeviceKeys,
  type SampleClaimsOptions,
} from './evidence.ts';
export {
  issueTestCertificate,
  createTestTenantCa,
  issueTestDeviceCertificate,
  deviceCertificateExtensions,
  groupAssignmentDer,
  type TestCertificate,
  type TestExtensions,
  type IssueTestCertificateOptions,
  type TestTenantCaOptions,
  type TestDeviceCertificateOptions,
} from './test-certificates.ts';
