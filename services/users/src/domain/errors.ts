/** Why a domain operation refused; routes map each kind to its HTTP problem. */
export type DomainErrorKind = 'invalid' | 'conflict' | 'invalid_credentials' | 'invalid_token' | 'not_found';

export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    /** The request field at fault, when one is. */
    readonly field?: string,
  ) {
    super(message);
  }
}

export const invalid = (field: string, message: string) => new DomainError('invalid', message, field);
export const emailTaken = (field = 'email') =>
  new DomainError('conflict', 'an account with this email already exists', field);
/** One answer for an unknown account, a deleted one and a wrong password. */
export const invalidCredentials = () => new DomainError('invalid_credentials', 'invalid email or password');
export const invalidToken = (message = 'refresh token is invalid or expired') =>
  new DomainError('invalid_token', message, 'refreshToken');
