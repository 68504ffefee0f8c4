import { writeNewKeyPair } from '../key-files.ts';
import { printJson, type Output } from '../output.ts';

/** `orbis keys generate`: a developer signing key (P-256, PKCS#8 PEM, mode 0600) and its public key. */
export async function generateKeyCommand(
  options: { out: string; json: boolean },
  out: Output,
): Promise<void> {
  const publicKey = await writeNewKeyPair(options.out);
  const result = { privateKey: options.out, publicKey: `${options.out}.pub`, keyId: publicKey.keyId };
  if (options.json) printJson(out, result);
  else out.write(`wrote ${result.privateKey} and ${result.publicKey}\nkey ID ${result.keyId}\n`);
}
