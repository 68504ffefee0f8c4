import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { appendAuditEvent } from '../audit/audit.repo.ts';
import { Email, Password } from '../auth/auth.schemas.ts';
import { authenticate, authorizeTenant } from '../auth/caller.ts';
import { hashPassword } from '../auth/passwords.ts';
import { ROLES } from '../auth/roles.ts';
import { withTransaction } from '../db/backend.ts';
import { ServiceError } from '../errors.ts';
import { ERROR_RESPONSES, PageQuery, pageOf, TenantParams } from '../http/common-schemas.ts';
import type { RouteContext } from '../http/route-context.ts';
import {
  countTenantAdministrators,
  deleteMembership,
  findMembership,
  findUserByEmail,
  findUserById,
  insertMembership,
  insertUser,
  listTenantMembers,
  MAX_MEMBERSHIP_PAGE,
  setMembershipRole,
} from './users.repo.ts';

const Role = Type.Union(ROLES.map((role) => Type.Literal(role)));
const MemberView = Type.Object(
  { userId: Type.String(), email: Type.String(), role: Type.String(), createdAt: Type.Integer() },
  { additionalProperties: false },
);
const AddMemberBody = Type.Object(
  {
    email: Email,
    role: Role,
    /** Needed only when the address has no account yet; the person changes it later. */
    initialPassword: Type.Optional(Password),
  },
  { additionalProperties: false },
);
const MemberParams = Type.Object(
  { tenantId: TenantParams.properties.tenantId, userId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
const RoleBody = Type.Object({ role: Role }, { additionalProperties: false });

/** People in a tenant and their roles; only Administrators change them. */
export function registerMemberRoutes(app: FastifyInstance, context: RouteContext): void {
  app.get(
    '/api/v1/tenants/:tenantId/members',
    {
      schema: {
        tags: ['access'],
        params: TenantParams,
        querystring: PageQuery,
        response: { 200: Type.Object({ members: Type.Array(MemberView) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const caller = await authenticate(request, context);
      const { tenantId } = request.params as Type.Static<typeof TenantParams>;
      await authorizeTenant(caller, tenantId, 'read', context);
      const page = pageOf(request.query as Type.Static<typeof PageQuery>, MAX_MEMBERSHIP_PAGE);
      const members = await listTenantMembers(context.db, tenantId, {
        limit: page.limit,
        ...(page.after === undefined ? {} : { afterUserId: page.after }),
      });
      return { members };
    },
  );

  app.post(
    '/api/v1/tenants/:tenantId/members',
    {
      schema: {
        tags: ['access'],
        params: TenantParams,
        body: AddMemberBody,
        response: { 201: MemberView, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const caller = await authenticate(request, context);
      const { tenantId } = request.params as Type.Static<typeof TenantParams>;
      await authorizeTenant(caller, tenantId, 'administer', context);
      const body = request.body as Type.Static<typeof AddMemberBody>;
      const now = context.clock.now();
      const passwordHash =
        body.initialPassword === undefined ? undefined : await hashPassword(body.initialPassword);
      const member = await withTransaction(context.db, async (trx) => {
        let user = await findUserByEmail(trx, body.email);
        if (user === undefined) {
          if (passwordHash === undefined) {
            throw new ServiceError(
              'USER_NOT_FOUND',
              'no account has that address: give an initialPassword to create one',
            );
          }
          user = await insertUser(trx, {
            id: randomUUID(),
            email: body.email,
            passwordHash,
            isPlatformOperator: false,
            createdAt: now,
          });
        }
        const membership = await insertMembership(trx, {
          userId: user.id,
          tenantId,
          role: body.role,
          createdAt: now,
        });
        await appendAuditEvent(trx, {
          tenantId,
          at: now,
          actor: caller.actor,
          action: 'member.add',
          target: `user:${user.id}`,
          source: request.ip,
          details: { email: user.email, role: body.role },
        });
        return { ...membership, email: user.email };
      });
      return reply.status(201).send(member);
    },
  );

  app.put(
    '/api/v1/tenants/:tenantId/members/:userId/role',
    {
      schema: {
        tags: ['access'],
        params: MemberParams,
        body: RoleBody,
        response: { 200: MemberView, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const caller = await authenticate(request, context);
      const { tenantId, userId } = request.params as Type.Static<typeof MemberParams>;
      await authorizeTenant(caller, tenantId, 'administer', context);
      const { role } = request.body as Type.Static<typeof RoleBody>;
      const now = context.clock.now();
      return withTransaction(context.db, async (trx) => {
        const current = await findMembership(trx, { userId, tenantId });
        if (current === undefined)
          throw new ServiceError('USER_MEMBERSHIP_NOT_FOUND', 'not a member of this tenant');
        if (
          current.role === 'Administrator' &&
          role !== 'Administrator' &&
          (await countTenantAdministrators(trx, tenantId)) <= 1
        ) {
          throw new ServiceError('TENANT_LAST_ADMINISTRATOR', 'a tenant keeps at least one Administrator');
        }
        const updated = await setMembershipRole(trx, { userId, tenantId }, role);
        await appendAuditEvent(trx, {
          tenantId,
          at: now,
          actor: caller.actor,
          action: 'member.role',
          target: `user:${userId}`,
          source: request.ip,
          details: { from: current.role, to: role },
        });
        const user = await findUserById(trx, userId);
        return { ...updated, email: user?.email ?? '' };
      });
    },
  );

  app.delete(
    '/api/v1/tenants/:tenantId/members/:userId',
    {
      schema: { tags: ['access'], params: MemberParams, response: { 204: Type.Null(), ...ERROR_RESPONSES } },
    },
    async (request, reply) => {
      const caller = await authenticate(request, context);
      const { tenantId, userId } = request.params as Type.Static<typeof MemberParams>;
      await authorizeTenant(caller, tenantId, 'delete', context);
      const now = context.clock.now();
      await withTransaction(context.db, async (trx) => {
        const current = await findMembership(trx, { userId, tenantId });
        if (current === undefined)
          throw new ServiceError('USER_MEMBERSHIP_NOT_FOUND', 'not a member of this tenant');
        if (current.role === 'Administrator' && (await countTenantAdministrators(trx, tenantId)) <= 1) {
          throw new ServiceError('TENANT_LAST_ADMINISTRATOR', 'a tenant keeps at least one Administrator');
        }
        await deleteMembership(trx, { userId, tenantId });
        await appendAuditEvent(trx, {
          tenantId,
          at: now,
          actor: caller.actor,
          action: 'member.remove',
          target: `user:${userId}`,
          source: request.ip,
          details: { role: current.role },
        });
      });
      return reply.status(204).send();
    },
  );
}
