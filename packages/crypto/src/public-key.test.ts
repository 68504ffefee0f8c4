import assert from 'node:assert/strict';
import { createECDH, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { openssl } from '@orbis/testkit';
import { sha256 } from './digest.ts';
import { encodeBase64Url, encodeHex } from './encoding.ts';
import {
  isP256Point,
  P256_SPKI_BYTES,
  parsePublicKeyJwk,
  parsePublicKeyRaw,
  parsePublicKeySpki,
  publicKeyFromKeyObject,
  publicKeyToJwk,
  publicKeyToRaw,
} from './public-key.ts';

const nonCanonical = { code: 'CRYPTO_KEY_NONCANONICAL' };
const invalidKey = { code: 'CRYPTO_KEY_INVALID' };

function flipLastBit(bytes: Uint8Array): void {
  bytes[bytes.byteLength - 1] = (bytes.at(-1) ?? 0) ^ 1;
}

function newKeyPair() {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function spkiOf(pair = newKeyPair()): Uint8Array {
  return new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' }));
}

/** Re-encodes a PEM private key's public half with the openssl command-line tool. */
function opensslPublicDer(pair: ReturnType<typeof newKeyPair>, ...flags: string[]): Uint8Array {
  const pem = pair.privateKey.export({ format: 'pem', type: 'sec1' });
  return openssl(['ec', '-pubout', '-outform', 'DER', ...flags], pem);
}

describe('parsePublicKeySpki', () => {
  it('accepts the canonical 91-byte encoding and names the key by SHA-256 of it', () => {
    const spki = spkiOf();
    const key = parsePublicKeySpki(spki);
    assert.equal(key.spki.byteLength, P256_SPKI_BYTES);
    assert.deepEqual(key.spki, spki);
    assert.equal(key.keyId, encodeHex(sha256(spki)));
    assert.ok(Object.isFrozen(key));
  });

  it('keeps its own copy, so later changes to the input cannot change the key', () => {
    const spki = spkiOf();
    const key = parsePublicKeySpki(spki);
    const keyId = key.keyId;
    flipLastBit(spki);
    assert.equal(encodeHex(sha256(key.spki)), keyId);
  });

  it('agrees with openssl on the canonical encoding', () => {
    const pair = newKeyPair();
    assert.deepEqual(parsePublicKeySpki(opensslPublicDer(pair)).spki, spkiOf(pair));
  });

  it('refuses a compressed-point encoding of a key rather than giving it a second device ID', () => {
    const compressed = opensslPublicDer(newKeyPair(), '-conv_form', 'compressed');
    assert.equal(compressed.byteLength, 59);
    assert.throws(() => parsePublicKeySpki(compressed), nonCanonical);
  });

  it('refuses an explicit-parameters encoding of a key rather than giving it a second device ID', () => {
    const explicit = opensslPublicDer(newKeyPair(), '-param_enc', 'explicit');
    assert.ok(explicit.byteLength > P256_SPKI_BYTES);
    assert.throws(() => parsePublicKeySpki(explicit), nonCanonical);
  });

  it('refuses a key on another curve', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    assert.throws(() => parsePublicKeySpki(publicKey.export({ format: 'der', type: 'spki' })), invalidKey);
  });

  it('refuses an RSA key and bytes that are not a key at all', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assert.throws(() => parsePublicKeySpki(publicKey.export({ format: 'der', type: 'spki' })), invalidKey);
    assert.throws(() => parsePublicKeySpki(Uint8Array.of(0x30, 0x00)), invalidKey);
  });

  it('refuses a canonical-looking encoding whose point is not on the curve', () => {
    const spki = spkiOf();
    flipLastBit(spki);
    assert.throws(() => parsePublicKeySpki(spki), invalidKey);
  });
});

describe('raw and JWK forms', () => {
  it('round-trips SPKI → raw → SPKI and SPKI → JWK → SPKI', () => {
    const key = parsePublicKeySpki(spkiOf());
    assert.equal(parsePublicKeyRaw(publicKeyToRaw(key)).keyId, key.keyId);
    assert.equal(parsePublicKeyJwk(publicKeyToJwk(key)).keyId, key.keyId);
  });

  it('writes the same JWK and raw point as node:crypto', () => {
    const pair = newKeyPair();
    const key = parsePublicKeySpki(spkiOf(pair));
    const jwk = pair.publicKey.export({ format: 'jwk' });
    assert.deepEqual(publicKeyToJwk(key), { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y });
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(pair.privateKey.export({ format: 'jwk' }).d ?? '', 'base64url'));
    assert.deepEqual(publicKeyToRaw(key), new Uint8Array(ecdh.getPublicKey().subarray(1)));
  });

  it('refuses a raw key of the wrong length or off the curve', () => {
    assert.throws(() => parsePublicKeyRaw(new Uint8Array(65)), invalidKey);
    assert.throws(() => parsePublicKeyRaw(new Uint8Array(64)), invalidKey);
  });

  it('refuses a JWK carrying a private key or any other member', () => {
    const pair = newKeyPair();
    const jwk = pair.privateKey.export({ format: 'jwk' });
    assert.throws(() => parsePublicKeyJwk(jwk), nonCanonical);
    const { kty, crv, x, y } = jwk;
    assert.throws(() => parsePublicKeyJwk({ kty, crv, x, y, kid: 'k1' }), nonCanonical);
    assert.throws(() => parsePublicKeyJwk({ kty, crv, x }), nonCanonical);
  });

  it('refuses a JWK of another type or curve, and values that are not JWKs', () => {
    const { kty, crv, x, y } = newKeyPair().publicKey.export({ format: 'jwk' });
    assert.throws(() => parsePublicKeyJwk({ kty: 'OKP', crv, x, y }), invalidKey);
    assert.throws(() => parsePublicKeyJwk({ kty, crv: 'P-384', x, y }), invalidKey);
    assert.throws(() => parsePublicKeyJwk({ kty, crv, x: 1, y }), invalidKey);
    assert.throws(() => parsePublicKeyJwk({ kty, crv, x, y: null }), invalidKey);
    for (const value of [null, 'jwk', [kty, crv, x, y]])
      assert.throws(() => parsePublicKeyJwk(value), invalidKey);
  });

  it('refuses JWK coordinates that are not canonical base64url or not 32 bytes', () => {
    const { kty, crv, x, y } = newKeyPair().publicKey.export({ format: 'jwk' });
    assert.ok(x !== undefined && y !== undefined);
    assert.throws(() => parsePublicKeyJwk({ kty, crv, x: `${x}=`, y }), invalidKey);
    const padded = encodeBase64Url(Uint8Array.from([0, ...Buffer.from(y, 'base64url')]));
    assert.throws(() => parsePublicKeyJwk({ kty, crv, x, y: padded }), nonCanonical);
  });
});

describe('publicKeyFromKeyObject', () => {
  it('takes a public or a private P-256 key object to the same canonical key', () => {
    const pair = newKeyPair();
    assert.equal(publicKeyFromKeyObject(pair.privateKey).keyId, publicKeyFromKeyObject(pair.publicKey).keyId);
  });

  it('refuses key objects of other types', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey;
    const ed25519 = generateKeyPairSync('ed25519').publicKey;
    assert.throws(() => publicKeyFromKeyObject(p384), invalidKey);
    assert.throws(() => publicKeyFromKeyObject(ed25519), invalidKey);
  });
});

/** Whether OpenSSL accepts x ‖ y as a P-256 public key (it validates the point while decoding). */
function opensslAccepts(xy: Uint8Array): boolean {
  const spki = Buffer.concat([
    Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex'),
    xy,
  ]);
  try {
    createPublicKey({ key: spki, format: 'der', type: 'spki' });
    return true;
  } catch {
    return false;
  }
}

const P256_P_BYTES = Buffer.from('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff', 'hex');

describe('isP256Point (the on-curve check that spares a key object per certificate key)', () => {
  it('agrees with OpenSSL on 500 real public keys and 500 random coordinate pairs', () => {
    for (let index = 0; index < 500; index += 1) {
      const real = publicKeyToRaw(parsePublicKeySpki(spkiOf()));
      assert.equal(isP256Point(real), true);
      assert.equal(opensslAccepts(real), true);
      const random = new Uint8Array(randomBytes(64));
      assert.equal(isP256Point(random), opensslAccepts(random));
    }
  });

  it('refuses a real key with one coordinate bit flipped, as OpenSSL does', () => {
    for (let bit = 0; bit < 512; bit += 37) {
      const xy = publicKeyToRaw(parsePublicKeySpki(spkiOf()));
      xy[bit >> 3] = (xy[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      assert.equal(isP256Point(xy), false);
      assert.equal(opensslAccepts(xy), false);
    }
  });

  it('refuses coordinates that are not field elements (x ≥ p), even when they reduce to a point', () => {
    const p = BigInt(`0x${P256_P_BYTES.toString('hex')}`);
    const b = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
    const power = (base: bigint, exponent: bigint): bigint => {
      let result = 1n;
      for (let acc = base % p, e = exponent; e > 0n; e >>= 1n, acc = (acc * acc) % p) {
        if (e & 1n) result = (result * acc) % p;
      }
      return result;
    };
    const hex = (value: bigint) => Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
    // The smallest x on the curve: then x + p still fits in 32 bytes. p ≡ 3 (mod 4), so a
    // square root of r is r^((p+1)/4) when r is a square.
    let x = 0n;
    let y = 0n;
    for (; ; x += 1n) {
      const right = (((x * x * x - 3n * x + b) % p) + p) % p;
      y = power(right, (p + 1n) / 4n);
      if ((y * y) % p === right) break;
    }
    const onCurve = Uint8Array.from(Buffer.concat([hex(x), hex(y)]));
    assert.equal(isP256Point(onCurve), true);
    assert.equal(opensslAccepts(onCurve), true);
    const lifted = Uint8Array.from(Buffer.concat([hex(x + p), hex(y)]));
    assert.equal(isP256Point(lifted), false);
    assert.equal(opensslAccepts(lifted), false);
    const liftedY = Uint8Array.from(Buffer.concat([hex(x), hex(y + p < 2n ** 256n ? y + p : p)]));
    assert.equal(isP256Point(liftedY), false);
    assert.equal(opensslAccepts(liftedY), false);
  });

  it('refuses the all-zero encoding and inputs that are not 64 bytes', () => {
    assert.equal(isP256Point(new Uint8Array(64)), false);
    assert.equal(isP256Point(new Uint8Array(63)), false);
    assert.equal(opensslAccepts(new Uint8Array(64)), false);
  });

  it('builds the key object on first use and keeps it', () => {
    const key = parsePublicKeySpki(spkiOf());
    const first = key.keyObject;
    assert.equal(key.keyObject, first);
    assert.equal(first.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });
});
