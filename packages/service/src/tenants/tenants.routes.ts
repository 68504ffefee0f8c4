import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { appendAuditEvent, PLATFORM_AUDIT_CHAIN } from '../audit/audit.repo.ts';
import { authenticate, authorizePlatform, authorizeTenant } from '../auth/caller.ts';
import { withTransaction } from '../db/backend.ts';
import { ERROR_RESPONSES, TenantParams } from '../http/common-schemas.ts';
import type { RouteContext } from '../http/route-context.ts';
import type { ServicePki } from '../pki/service-pki.ts';
import { insertMembership, listUserMemberships } from '../users/users.repo.ts';
import { createDefaultProduct } from '../groups/groups.repo.ts';
import { getTenant, insertTenant } from './tenants.repo.ts';

const TenantView = Type.Object(
  { id: Type.String(), name: Type.String(), createdAt: Type.Integer(), role: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
const CreateTenantBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\x00-\\x1f]+$' }) },
  { additionalProperties: false },
);

/** Tenants: created by a platform operator (who becomes its first Administrator), seen by members. */
export function registerTenantRoutes(
  app: FastifyInstance,
  context: RouteContext,
  /** Creates each new tenant's CA in the creation transaction; absent in tests without a PKI. */
  pki?: Pick<ServicePki, 'createTenantCa'>,
): void {
  app.post(
    '/api/v1/tenants',
    {
      schema: {
        tags: ['tenants'],
        body: CreateTenantBody,
        response: { 201: TenantView, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const caller = await authenticate(request, context);
      const operatorId = authorizePlatform(caller);
      const { name } = request.body as Type.Static<typeof CreateTenantBody>;
      const now = context.clock.now();
      const tenant = await withTransaction(context.db, async (trx) => {
        const created = await insertTenant(trx, { id: randomUUID(), name, createdAt: now });
        await createDefaultProduct(trx, created.id, now);
        await insertMembership(trx, {
          userId: operatorId,
          tenantId: created.id,
          role: 'Administrator',
          createdAt: now,
        });
        const event = { at: now, actor: caller.actor, target: `tenant:${created.id}`, source: request.ip };
        await appendAuditEvent(trx, {
          ...event,
          tenantId: PLATFORM_AUDIT_CHAIN,
          action: 'tenant.create',
          details: { name },
        });
        await appendAuditEvent(trx, {
          ...event,
          tenantId: created.id,
          action: 'tenant.create',
          details: { name },
        });
        // The tenant's own self-signed CA, committed with the tenant or not at all.
        await pki?.createTenantCa(trx, created.id, now);
        return created;
      });
      return reply.status(201).send({ ...tenant, role: 'Administrator' });
    },
  );

  app.get(
    '/api/v1/tenants',
    {
      schema: {
        tags: ['tenants'],
        response: {
          200: Type.Object({ tenants: Type.Array(TenantView) }, { additionalProperties: false }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const caller = await authenticate(request, context);
      if (caller.apiScope !== undefined) {
        const tenant = await getTenant(context.db, caller.apiScope.tenantId);
        return { tenants: [{ ...tenant, role: caller.apiScope.role }] };
      }
      const memberships = await listUserMemberships(context.db, caller.userId ?? '', { limit: 1000 });
      const tenants = await Promise.all(
        memberships.map(async (membership) => ({
          ...(await getTenant(context.db, membership.tenantId)),
          role: membership.role,
        })),
      );
      return { tenants };
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId',
    {
      schema: { tags: ['tenants'], params: TenantParams, response: { 200: TenantView, ...ERROR_RESPONSES } },
    },
    async (request) => {
      const caller = await authenticate(request, context);
      const { tenantId } = request.params as Type.Static<typeof TenantParams>;
      const role = await authorizeTenant(caller, tenantId, 'read', context);
      return { ...(await getTenant(context.db, tenantId)), role };
    },
  );
}
