export { openssl, opensslVerifies } from './openssl.ts';
