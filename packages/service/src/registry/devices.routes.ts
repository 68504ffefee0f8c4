import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { DeviceId } from '@orbis/protocol';
import { appendAuditEvent } from '../audit/audit.repo.ts';
import { authenticate, authorizeTenant } from '../auth/caller.ts';
import { chunked, withTransaction } from '../db/backend.ts';
import { ServiceError } from '../errors.ts';
import { ERROR_RESPONSES, PageQuery, pageOf, TenantParams } from '../http/common-schemas.ts';
import type { RouteContext } from '../http/route-context.ts';
import { findDefaultGroup, setDevicesGroup } from '../groups/groups.repo.ts';
import {
  claimDevices,
  findTenantDevice,
  listTenantDevices,
  MAX_CLAIM_BATCH_DEVICES,
  MAX_DEVICE_PAGE,
  setDeviceDisabled,
  type Device,
} from './registry.repo.ts';

/** Device IDs per audit event of a bulk claim: about 14 KiB, under MAX_AUDIT_EVENT_BYTES. */
const AUDIT_CLAIM_IDS_PER_EVENT = 200;

const DeviceView = Type.Object(
  {
    deviceId: Type.String(),
    model: Type.String(),
    claimedAt: Type.Union([Type.Integer(), Type.Null()]),
    disabled: Type.Boolean(),
    quarantined: Type.Boolean(),
    groupId: Type.Union([Type.String(), Type.Null()]),
    lastAttestedAt: Type.Union([Type.Integer(), Type.Null()]),
    /** The certificate of the last attestation: whether the device holds a valid one, and of which class. */
    certificate: Type.Union([
      Type.Object(
        {
          serial: Type.String(),
          resultClass: Type.Union([
            Type.Literal('trusted'),
            Type.Literal('development'),
            Type.Literal('update-only'),
          ]),
          notBefore: Type.Integer(),
          notAfter: Type.Integer(),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
  },
  { additionalProperties: false },
);
const DeviceParams = Type.Object(
  { tenantId: TenantParams.properties.tenantId, deviceId: DeviceId },
  { additionalProperties: false },
);
const ClaimBody = Type.Object(
  { deviceIds: Type.Array(DeviceId, { minItems: 1, maxItems: MAX_CLAIM_BATCH_DEVICES }) },
  { additionalProperties: false },
);

function view(device: Device): Type.Static<typeof DeviceView> {
  const { deviceId, model, claimedAt, disabled, quarantined, groupId, lastAttestedAt, certificate } = device;
  return { deviceId, model, claimedAt, disabled, quarantined, groupId, lastAttestedAt, certificate };
}

/** A tenant's devices: claiming (permanent, all or nothing in bulk), listing, disabling. */
export function registerDeviceRoutes(app: FastifyInstance, context: RouteContext): void {
  app.post(
    '/api/v1/tenants/:tenantId/devices/claims',
    {
      schema: {
        tags: ['devices'],
        params: TenantParams,
        body: ClaimBody,
        response: {
          201: Type.Object({ claimed: Type.Integer() }, { additionalProperties: false }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const caller = await authenticate(request, context);
      const { tenantId } = request.params as Type.Static<typeof TenantParams>;
      await authorizeTenant(caller, tenantId, 'administer', context);
      const { deviceIds } = request.body as Type.Static<typeof ClaimBody>;
      const now = context.clock.now();
      await withTransaction(context.db, async (trx) => {
        await claimDevices(trx, tenantId, deviceIds, now);
        // A claimed device joins the default product's Field Test group until someone moves it.
        await setDevicesGroup(trx, tenantId, deviceIds, (await findDefaultGroup(trx, tenantId)).id);
        // Every claimed ID is in the audit log; long lists are split so each event stays small.
        const batches = chunked(deviceIds, AUDIT_CLAIM_IDS_PER_EVENT);
        for (const [index, batch] of batches.entries()) {
          await appendAuditEvent(trx, {
            tenantId,
            at: now,
            actor: caller.actor,
            action: 'device.claim',
            target: batch.length === 1 ? `device:${batch[0] ?? ''}` : `devices:${batch.length}`,
            source: request.ip,
            details: { deviceIds: batch, part: index + 1, parts: batches.length },
          });
        }
      });
      return reply.status(201).send({ claimed: new Set(deviceIds).size });
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId/devices',
    {
      schema: {
        tags: ['devices'],
        params: TenantParams,
        querystring: PageQuery,
        response: { 200: Type.Object({ devices: Type.Array(DeviceView) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const caller = await authenticate(request, context);
      const { tenantId } = request.params as Type.Static<typeof TenantParams>;
      await authorizeTenant(caller, tenantId, 'read', context);
      const page = pageOf(request.query as Type.Static<typeof PageQuery>, MAX_DEVICE_PAGE);
      const devices = await listTenantDevices(context.db, tenantId, {
        limit: page.limit,
        ...(page.after === undefined ? {} : { afterDeviceId: page.after }),
      });
      return { devices: devices.map(view) };
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId/devices/:deviceId',
    {
      schema: { tags: ['devices'], params: DeviceParams, response: { 200: DeviceView, ...ERROR_RESPONSES } },
    },
    async (request) => {
      const caller = await authenticate(request, context);
      const key = request.params as Type.Static<typeof DeviceParams>;
      await authorizeTenant(caller, key.tenantId, 'read', context);
      const device = await findTenantDevice(context.db, key);
      if (device === undefined) throw new ServiceError('NOT_FOUND', 'no such device in this tenant');
      return view(device);
    },
  );

  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    app.post(
      `/api/v1/tenants/:tenantId/devices/:deviceId/${verb}`,
      {
        schema: {
          tags: ['devices'],
          params: DeviceParams,
          response: { 200: DeviceView, ...ERROR_RESPONSES },
        },
      },
      async (request) => {
        const caller = await authenticate(request, context);
        const key = request.params as Type.Static<typeof DeviceParams>;
        await authorizeTenant(caller, key.tenantId, 'change', context);
        const now = context.clock.now();
        const device = await withTransaction(context.db, async (trx) => {
          const changed = await setDeviceDisabled(trx, key, disabled);
          await appendAuditEvent(trx, {
            tenantId: key.tenantId,
            at: now,
            actor: caller.actor,
            action: `device.${verb}`,
            target: `device:${key.deviceId}`,
            source: request.ip,
            details: {},
          });
          return changed;
        });
        // After the commit: a disabled device keeps no connection open on the device listener.
        if (disabled) context.deviceConnections?.close([key.deviceId]);
        return view(device);
      },
    );
  }
}
