import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { ErrorEnvelope } from '@orbis/protocol';
import { appendAuditEvent, PLATFORM_AUDIT_CHAIN } from '../audit/audit.repo.ts';
import type { RouteContext } from '../http/route-context.ts';
import { ServiceError } from '../errors.ts';
import { insertToken, revokeToken } from '../tokens/tokens.repo.ts';
import { findUserCredentials, type User } from '../users/users.repo.ts';
import { LoginBody, SessionView, SetupBody } from './auth.schemas.ts';
import { authenticate } from './caller.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { completeSetup } from './setup.ts';
import { generateToken, hashToken } from './tokens.ts';

const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope, 409: ErrorEnvelope, 413: ErrorEnvelope };

/** A password hash to compare against when the email is unknown, so timing does not tell. */
let decoyHash: Promise<string> | undefined;
/** Made on the first login, not when the module loads (the CLI imports it without logging in). */
function decoy(): Promise<string> {
  decoyHash ??= hashPassword('decoy password that matches nothing');
  return decoyHash;
}

async function startSession(context: RouteContext, user: User) {
  const token = generateToken('session');
  const now = context.clock.now();
  const expiresAt = now + context.config.sessionLifetimeSeconds * 1000;
  await insertToken(context.db, {
    id: randomUUID(),
    kind: 'session',
    userId: user.id,
    name: 'login',
    createdAt: now,
    expiresAt,
    tokenHash: hashToken(token),
  });
  return {
    token,
    expiresAt,
    user: { id: user.id, email: user.email, isPlatformOperator: user.isPlatformOperator },
  };
}

function sourceOf(request: FastifyRequest): string {
  return request.ip;
}

/** First-time setup, password login and logout. */
export function registerAuthRoutes(app: FastifyInstance, context: RouteContext): void {
  app.post(
    '/api/v1/setup',
    { schema: { tags: ['access'], body: SetupBody, response: { 201: SessionView, ...errors } } },
    async (request, reply) => {
      const body = request.body as Type.Static<typeof SetupBody>;
      const now = context.clock.now();
      const user = await completeSetup(context.db, { ...body, now });
      await appendAuditEvent(context.db, {
        tenantId: PLATFORM_AUDIT_CHAIN,
        at: now,
        actor: `user:${user.id}`,
        action: 'platform.setup',
        target: `user:${user.id}`,
        source: sourceOf(request),
        details: { email: user.email },
      });
      return reply.status(201).send(await startSession(context, user));
    },
  );

  app.post(
    '/api/v1/sessions',
    { schema: { tags: ['access'], body: LoginBody, response: { 201: SessionView, ...errors } } },
    async (request, reply) => {
      const body = request.body as Type.Static<typeof LoginBody>;
      const credentials = await findUserCredentials(context.db, body.email);
      const valid = await verifyPassword(credentials?.passwordHash ?? (await decoy()), body.password);
      if (credentials === undefined || !valid) {
        throw new ServiceError('AUTH_LOGIN_FAILED', 'email address or password is wrong');
      }
      return reply.status(201).send(await startSession(context, credentials.user));
    },
  );

  app.delete(
    '/api/v1/sessions/current',
    { schema: { tags: ['access'], response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      const caller = await authenticate(request, context);
      await revokeToken(context.db, caller.tokenId, context.clock.now());
      return reply.status(204).send();
    },
  );
}
