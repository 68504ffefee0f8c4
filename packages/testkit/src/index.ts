export { openssl, opensslVerifies } from './openssl.ts';
export { SAMPLE_TENANT_ID, sampleAppHeader, sampleOsHeader } from './samples.ts';
