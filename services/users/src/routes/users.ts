import { defineRoute, type Middleware, type Route } from '@souk/kit';
import type { Accounts } from '../domain/accounts.ts';
import { domain } from './problems.ts';
import { ProfilePatch, Registration, toView, UserView } from './schemas.ts';

export function userRoutes(accounts: Accounts, auth: Middleware[]): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/users',
      name: 'register',
      summary: 'Register a customer account',
      tags: ['users'],
      body: Registration,
      responses: {
        201: { description: 'Registered', body: UserView },
        409: { description: 'An account with this email exists' },
        422: { description: 'Invalid email, name or password (the field is named)' },
      },
      handler: async ({ body, reply }) => {
        const user = await domain(() => accounts.register(body));
        return reply(201, toView(user), { Location: '/users/me' });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/users/me',
      name: 'getMe',
      summary: 'The caller’s profile',
      tags: ['users'],
      use: auth,
      security: ['bearer'],
      responses: {
        200: { description: 'Profile', body: UserView },
        401: { description: 'No valid token' },
        404: { description: 'Account gone' },
      },
      handler: async ({ ctx, reply }) => {
        const user = await domain(() => accounts.profile(ctx.state.principal!.sub));
        ctx.set('Cache-Control', 'no-store');
        return reply(200, toView(user));
      },
    }),
    defineRoute({
      method: 'PATCH',
      path: '/users/me',
      name: 'updateMe',
      summary: 'Change name, email or password (the password needs the current one)',
      tags: ['users'],
      use: auth,
      security: ['bearer'],
      body: ProfilePatch,
      responses: {
        200: { description: 'Updated profile', body: UserView },
        401: { description: 'No valid token' },
        404: { description: 'Account gone' },
        409: { description: 'The new email belongs to another account' },
        422: { description: 'Invalid field, weak password or wrong current password' },
      },
      handler: async ({ ctx, body, reply }) => {
        const principal = ctx.state.principal!;
        const sid = typeof principal.claims['sid'] === 'string' ? principal.claims['sid'] : undefined;
        const user = await domain(() => accounts.update(principal.sub, sid, body));
        return reply(200, toView(user));
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/users/me',
      name: 'deleteMe',
      summary: 'Delete the account: anonymised, sessions ended, UserDeleted emitted',
      tags: ['users'],
      use: auth,
      security: ['bearer'],
      responses: {
        204: { description: 'Deleted' },
        401: { description: 'No valid token' },
        404: { description: 'Account gone' },
      },
      handler: async ({ ctx, reply }) => {
        await domain(() => accounts.delete(ctx.state.principal!.sub));
        return reply(204);
      },
    }),
  ];
}
