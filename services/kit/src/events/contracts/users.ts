import { z } from 'zod';
import { defineAggregate, defineEvent } from './contract.ts';
import { id, timestamp } from './fields.ts';

export const users = defineAggregate('User', 'users.events');

const role = z.enum(['customer', 'admin']);

export const UserRegistered = defineEvent({
  aggregate: users,
  type: 'UserRegistered',
  version: 1,
  data: z.object({
    userId: id,
    email: z.email(),
    displayName: z.string().min(1).max(200),
    role,
    registeredAt: timestamp,
  }),
});

export const UserUpdated = defineEvent({
  aggregate: users,
  type: 'UserUpdated',
  version: 1,
  data: z.object({
    userId: id,
    changes: z.object({
      email: z.email().optional(),
      displayName: z.string().min(1).max(200).optional(),
      role: role.optional(),
    }),
  }),
});

export const UserDeleted = defineEvent({
  aggregate: users,
  type: 'UserDeleted',
  version: 1,
  data: z.object({ userId: id }),
});

export const userEvents = [UserRegistered, UserUpdated, UserDeleted] as const;
