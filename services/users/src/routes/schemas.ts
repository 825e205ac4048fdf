import { z } from 'zod';
import type { User } from '../data/users.ts';
import { emailSchema } from '../domain/email.ts';

export const Role = z.enum(['customer', 'admin']);

export const UserView = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string(),
    role: Role,
    createdAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'User' });

export const toView = (user: User): z.input<typeof UserView> => ({
  id: user.id,
  email: user.email,
  name: user.displayName,
  role: user.role,
  createdAt: user.createdAt.toISOString(),
});

const name = z.string().trim().min(1).max(200);
/** The policy (length, not the email, not common) is the domain's; this only bounds the input. */
const password = z.string().max(1024);

export const Registration = z.object({ email: emailSchema, password, name }).meta({ id: 'Registration' });

export const ProfilePatch = z
  .object({
    name: name.optional(),
    email: emailSchema.optional(),
    password: password.optional(),
    currentPassword: password.optional(),
  })
  .meta({ id: 'ProfilePatch' });

export const Credentials = z
  .object({ email: z.string().min(1).max(320), password: z.string().min(1).max(1024) })
  .meta({ id: 'Credentials' });

export const RefreshRequest = z
  .object({ refreshToken: z.string().min(1).max(512) })
  .meta({ id: 'RefreshRequest' });

export const TokenPair = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresIn: z.int(),
    refreshToken: z.string(),
    refreshExpiresIn: z.int(),
  })
  .meta({ id: 'TokenPair' });

export const ValidateRequest = z
  .object({ token: z.string().min(1).max(8192) })
  .meta({ id: 'ValidateRequest' });

export const Introspection = z
  .union([
    z.object({
      active: z.literal(true),
      sub: z.string(),
      roles: z.array(Role.or(z.string())),
      exp: z.int(),
      jti: z.string(),
    }),
    z.object({ active: z.literal(false) }),
  ])
  .meta({ id: 'Introspection' });

export const Jwks = z
  .object({ keys: z.array(z.object({ kid: z.string(), kty: z.string() }).loose()) })
  .meta({ id: 'JWKS' });
