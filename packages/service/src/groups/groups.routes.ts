import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { DeviceId, SecurityVersion, Uuid } from '@orbis/protocol';
import { appendAuditEvent } from '../audit/audit.repo.ts';
import { authenticate, authorizeTenant } from '../auth/caller.ts';
import { withTransaction } from '../db/backend.ts';
import { ServiceError } from '../errors.ts';
import { ERROR_RESPONSES, TenantParams } from '../http/common-schemas.ts';
import type { RouteContext } from '../http/route-context.ts';
import { findTenantDevice } from '../registry/registry.repo.ts';
import {
  findTenantGroup,
  listTenantGroups,
  setDevicesGroup,
  setGroupMinimumOsSecurityVersion,
} from './groups.repo.ts';

const GroupView = Type.Object(
  {
    id: Type.String(),
    productId: Type.String(),
    name: Type.String(),
    osFeed: Type.String(),
    updatePolicy: Type.String(),
    minOsSecurityVersion: Type.Union([Type.Integer(), Type.Null()]),
  },
  { additionalProperties: false },
);
const GroupParams = Type.Object({ tenantId: Uuid, groupId: Uuid }, { additionalProperties: false });
const DeviceParams = Type.Object({ tenantId: Uuid, deviceId: DeviceId }, { additionalProperties: false });
const MinimumBody = Type.Object(
  { minimumOsSecurityVersion: Type.Union([SecurityVersion, Type.Null()]) },
  { additionalProperties: false },
);
const AssignBody = Type.Object({ groupId: Uuid }, { additionalProperties: false });

function view(group: Awaited<ReturnType<typeof listTenantGroups>>[number]): Type.Static<typeof GroupView> {
  const { id, productId, name, osFeed, updatePolicy, minOsSecurityVersion } = group;
  return { id, productId, name, osFeed, updatePolicy, minOsSecurityVersion };
}

/** Device groups: list them, raise a group's minimum OS security version, move a device. */
export function registerGroupRoutes(app: FastifyInstance, context: RouteContext): void {
  app.get(
    '/api/v1/tenants/:tenantId/groups',
    {
      schema: {
        tags: ['groups'],
        params: TenantParams,
        response: { 200: Type.Object({ groups: Type.Array(GroupView) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const caller = await authenticate(request, context);
      const { tenantId } = request.params as Type.Static<typeof TenantParams>;
      await authorizeTenant(caller, tenantId, 'read', context);
      return { groups: (await listTenantGroups(context.db, tenantId)).map(view) };
    },
  );

  app.put(
    '/api/v1/tenants/:tenantId/groups/:groupId/minimum-os-security-version',
    {
      schema: {
        tags: ['groups'],
        params: GroupParams,
        body: MinimumBody,
        response: { 200: GroupView, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const caller = await authenticate(request, context);
      const { tenantId, groupId } = request.params as Type.Static<typeof GroupParams>;
      await authorizeTenant(caller, tenantId, 'change', context);
      const { minimumOsSecurityVersion } = request.body as Type.Static<typeof MinimumBody>;
      const now = context.clock.now();
      return withTransaction(context.db, async (trx) => {
        const group = await setGroupMinimumOsSecurityVersion(
          trx,
          tenantId,
          groupId,
          minimumOsSecurityVersion,
        );
        await appendAuditEvent(trx, {
          tenantId,
          at: now,
          actor: caller.actor,
          action: 'group.minimum-os',
          target: `group:${groupId}`,
          source: request.ip,
          details: { minimumOsSecurityVersion },
        });
        return view(group);
      });
    },
  );

  app.put(
    '/api/v1/tenants/:tenantId/devices/:deviceId/group',
    {
      schema: {
        tags: ['groups'],
        params: DeviceParams,
        body: AssignBody,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const caller = await authenticate(request, context);
      const { tenantId, deviceId } = request.params as Type.Static<typeof DeviceParams>;
      await authorizeTenant(caller, tenantId, 'change', context);
      const { groupId } = request.body as Type.Static<typeof AssignBody>;
      const now = context.clock.now();
      await withTransaction(context.db, async (trx) => {
        if ((await findTenantDevice(trx, { tenantId, deviceId })) === undefined) {
          throw new ServiceError('NOT_FOUND', 'no such device in this tenant');
        }
        if ((await findTenantGroup(trx, tenantId, groupId)) === undefined) {
          throw new ServiceError('GROUP_NOT_FOUND', 'no such group in this tenant');
        }
        await setDevicesGroup(trx, tenantId, [deviceId], groupId);
        await appendAuditEvent(trx, {
          tenantId,
          at: now,
          actor: caller.actor,
          action: 'device.group',
          target: `device:${deviceId}`,
          source: request.ip,
          details: { groupId },
        });
      });
      return reply.status(204).send();
    },
  );
}
