import { createPrivateKey } from 'node:crypto';

/**
 * A private key PEM as PKCS#8, which is all `importSigningKey` (jose) reads. Key generators often
 * write EC keys as SEC1 (`BEGIN EC PRIVATE KEY`, e.g. openssl ecparam, Helm's genPrivateKey "ecdsa");
 * those are converted, PKCS#8 passes through unchanged.
 */
export function toPkcs8Pem(pem: string): string {
  const trimmed = pem.trim();
  if (trimmed.startsWith('-----BEGIN PRIVATE KEY-----')) return trimmed;
  return createPrivateKey({ key: trimmed, format: 'pem' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}
