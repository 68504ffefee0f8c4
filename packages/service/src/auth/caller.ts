import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '@orbis/crypto';
import type { Database } from '../db/schema.ts';
import { ServiceError } from '../errors.ts';
import { findActiveTokenByHash, touchToken } from '../tokens/tokens.repo.ts';
import { findMembership } from '../users/users.repo.ts';
import { findUserById } from '../users/users.repo.ts';
import { roleAllows, type Action, type Role } from './roles.ts';
import { bearerToken, hashToken } from './tokens.ts';

/**
 * Who is calling: a person's session (acting in every tenant they belong to) or a tool's API
 * token (one tenant, one role). Every query the service makes is scoped through this.
 */
export interface Caller {
  readonly kind: 'session' | 'api';
  readonly tokenId: string;
  readonly userId: string | null;
  readonly isPlatformOperator: boolean;
  /** For the audit log: `user:<id>` or `api-token:<id>`. */
  readonly actor: string;
  /** The API token's tenant and role; undefined for sessions. */
  readonly apiScope?: { readonly tenantId: string; readonly role: Role };
}

export interface AccessDeps {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
}

/** The caller behind the request's bearer token; AUTH_REQUIRED when there is none that is valid. */
export async function authenticate(request: FastifyRequest, deps: AccessDeps): Promise<Caller> {
  const secret = bearerToken(request.headers.authorization);
  if (secret === undefined) throw new ServiceError('AUTH_REQUIRED', 'send Authorization: Bearer <token>');
  const now = deps.clock.now();
  const token = await findActiveTokenByHash(deps.db, hashToken(secret), now);
  if (token === undefined)
    throw new ServiceError('AUTH_REQUIRED', 'the token is unknown, expired or revoked');
  await touchToken(deps.db, token.id, now);
  if (token.kind === 'api') {
    return {
      kind: 'api',
      tokenId: token.id,
      userId: token.userId,
      isPlatformOperator: false,
      actor: `api-token:${token.id}`,
      apiScope: { tenantId: token.tenantId, role: token.role },
    };
  }
  const user = await findUserById(deps.db, token.userId);
  if (user === undefined) throw new ServiceError('AUTH_REQUIRED', 'the token’s user no longer exists');
  return {
    kind: 'session',
    tokenId: token.id,
    userId: user.id,
    isPlatformOperator: user.isPlatformOperator,
    actor: `user:${user.id}`,
  };
}

/** The caller's role in a tenant, if any. */
export async function roleInTenant(
  caller: Caller,
  tenantId: string,
  deps: AccessDeps,
): Promise<Role | undefined> {
  if (caller.apiScope !== undefined)
    return caller.apiScope.tenantId === tenantId ? caller.apiScope.role : undefined;
  if (caller.userId === null) return undefined;
  return (await findMembership(deps.db, { userId: caller.userId, tenantId }))?.role;
}

/**
 * Authorizes an action in a tenant. A caller with no role there gets NOT_FOUND, the same answer
 * as for a tenant that does not exist, so tenants cannot be discovered; a role that does not
 * allow the action gets AUTH_FORBIDDEN.
 */
export async function authorizeTenant(
  caller: Caller,
  tenantId: string,
  action: Action,
  deps: AccessDeps,
): Promise<Role> {
  const role = await roleInTenant(caller, tenantId, deps);
  if (role === undefined) throw new ServiceError('NOT_FOUND', 'no such tenant');
  if (!roleAllows(role, action)) {
    throw new ServiceError('AUTH_FORBIDDEN', `a ${role} cannot ${action} in this tenant`);
  }
  return role;
}

/** Platform-wide actions (tenants, manufacturers, OS releases) need a platform operator's session. */
export function authorizePlatform(caller: Caller): string {
  if (!caller.isPlatformOperator || caller.userId === null) {
    throw new ServiceError('AUTH_FORBIDDEN', 'only a platform operator can do this');
  }
  return caller.userId;
}
