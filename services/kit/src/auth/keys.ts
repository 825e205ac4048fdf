import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type JWK,
} from 'jose';
import { toPkcs8Pem } from './pem.ts';

export type SigningAlgorithm = 'EdDSA' | 'ES256';

/** A private key with what a verifier needs to pick the matching public key. */
export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
  /** The public half as a JWK (with kid, alg, use), ready for the JWKS document. */
  publicJwk: JWK;
}

async function describe(privateKey: CryptoKey, publicJwk: JWK, alg: SigningAlgorithm, kid?: string) {
  const { kty, crv, x, y } = publicJwk;
  const jwk: JWK = { kty, crv, x, ...(y ? { y } : {}) };
  const id = kid ?? (await calculateJwkThumbprint(jwk));
  return { kid: id, alg, privateKey, publicJwk: { ...jwk, kid: id, alg, use: 'sig' } } satisfies SigningKey;
}

/** A fresh key pair; the kid defaults to the public key's RFC 7638 thumbprint. */
export async function generateSigningKey(alg: SigningAlgorithm = 'EdDSA', kid?: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return describe(privateKey, await exportJWK(publicKey), alg, kid);
}

/** A key from configuration: a PEM (PKCS#8, or SEC1 for EC keys) or a private JWK (JSON). */
export async function importSigningKey(
  material: string,
  alg: SigningAlgorithm = 'EdDSA',
  kid?: string,
): Promise<SigningKey> {
  const trimmed = material.trim();
  let privateKey: CryptoKey;
  let jwk: JWK;
  if (trimmed.startsWith('{')) {
    const parsed = JSON.parse(trimmed) as JWK;
    privateKey = (await importJWK(parsed, alg, { extractable: true })) as CryptoKey;
    jwk = parsed;
  } else {
    privateKey = await importPKCS8(toPkcs8Pem(trimmed), alg, { extractable: true });
    jwk = await exportJWK(privateKey);
  }
  return describe(privateKey, jwk, alg, kid ?? jwk.kid);
}
