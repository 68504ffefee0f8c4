import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { appendAuditEvent } from '../audit/audit.repo.ts';
import { authenticate, authorizeTenant } from '../auth/caller.ts';
import { ROLES } from '../auth/roles.ts';
import { generateToken, hashToken } from '../auth/tokens.ts';
import { withTransaction } from '../db/backend.ts';
import { ServiceError } from '../errors.ts';
import { ERROR_RESPONSES, PageQuery, pageOf, TenantParams } from '../http/common-schemas.ts';
import type { RouteContext } from '../http/route-context.ts';
import { insertToken, listTenantTokens, MAX_TOKEN_PAGE, revokeToken, type ApiToken } from './tokens.repo.ts';

const TokenView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    role: Type.String(),
    createdAt: Type.Integer(),
    expiresAt: Type.Integer(),
    lastUsedAt: Type.Union([Type.Integer(), Type.Null()]),
  },
  { additionalProperties: false },
);
const CreatedTokenView = Type.Object(
  { ...TokenView.properties, token: Type.String() },
  { additionalProperties: false },
);
const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\x00-\\x1f]+$' }),
    role: Type.Union(ROLES.map((role) => Type.Literal(role))),
    expiresInSeconds: Type.Integer({ minimum: 60 }),
  },
  { additionalProperties: false },
);
const TokenParams = Type.Object(
  { tenantId: TenantParams.properties.tenantId, tokenId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

function view(token: ApiToken) {
  const { id, name, role, createdAt, expiresAt, lastUsedAt } = token;
  return { id, name, role, createdAt, expiresAt, lastUsedAt };
}

/**
 * API tokens for automation: one tenant, one role, an expiry, stored hashed and shown once.
 * Only Administrators make or revoke them, so no token outranks its maker.
 */
export function registerApiTokenRoutes(app: FastifyInstance, context: RouteContext): void {
  app.post(
    '/api/v1/tenants/:tenantId/api-tokens',
    {
      schema: {
        tags: ['access'],
        params: TenantParams,
        body: CreateTokenBody,
        response: { 201: CreatedTokenView, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const caller = await authenticate(request, context);
      const { tenantId } = request.params as Type.Static<typeof TenantParams>;
      await authorizeTenant(caller, tenantId, 'administer', context);
      const body = request.body as Type.Static<typeof CreateTokenBody>;
      if (body.expiresInSeconds > context.config.apiTokenMaxLifetimeSeconds) {
        throw new ServiceError(
          'REQUEST_INVALID',
          `API tokens live at most ${context.config.apiTokenMaxLifetimeSeconds} seconds`,
        );
      }
      const secret = generateToken('api');
      const now = context.clock.now();
      const token = await withTransaction(context.db, async (trx) => {
        const created = await insertToken(trx, {
          id: randomUUID(),
          kind: 'api',
          tenantId,
          role: body.role,
          userId: caller.userId,
          name: body.name,
          createdAt: now,
          expiresAt: now + body.expiresInSeconds * 1000,
          tokenHash: hashToken(secret),
        });
        await appendAuditEvent(trx, {
          tenantId,
          at: now,
          actor: caller.actor,
          action: 'api-token.create',
          target: `api-token:${created.id}`,
          source: request.ip,
          details: { name: body.name, role: body.role, expiresAt: created.expiresAt },
        });
        return created as ApiToken;
      });
      return reply.status(201).send({ ...view(token), token: secret });
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId/api-tokens',
    {
      schema: {
        tags: ['access'],
        params: TenantParams,
        querystring: PageQuery,
        response: { 200: Type.Object({ tokens: Type.Array(TokenView) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const caller = await authenticate(request, context);
      const { tenantId } = request.params as Type.Static<typeof TenantParams>;
      await authorizeTenant(caller, tenantId, 'administer', context);
      const page = pageOf(request.query as Type.Static<typeof PageQuery>, MAX_TOKEN_PAGE);
      const tokens = await listTenantTokens(context.db, tenantId, {
        now: context.clock.now(),
        limit: page.limit,
        ...(page.after === undefined ? {} : { afterId: page.after }),
      });
      return { tokens: tokens.map(view) };
    },
  );

  app.delete(
    '/api/v1/tenants/:tenantId/api-tokens/:tokenId',
    { schema: { tags: ['access'], params: TokenParams, response: { 204: Type.Null(), ...ERROR_RESPONSES } } },
    async (request, reply) => {
      const caller = await authenticate(request, context);
      const { tenantId, tokenId } = request.params as Type.Static<typeof TokenParams>;
      await authorizeTenant(caller, tenantId, 'delete', context);
      const now = context.clock.now();
      await withTransaction(context.db, async (trx) => {
        if (!(await revokeToken(trx, tokenId, now, { tenantId }))) {
          throw new ServiceError('NOT_FOUND', 'no such active token in this tenant');
        }
        await appendAuditEvent(trx, {
          tenantId,
          at: now,
          actor: caller.actor,
          action: 'api-token.revoke',
          target: `api-token:${tokenId}`,
          source: request.ip,
          details: {},
        });
      });
      return reply.status(204).send();
    },
  );
}
