import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { decodeBase64Url, parsePublicKeySpki, type PublicKey } from '@orbis/crypto';
import { Base64Url, MAX_DEVICE_LIST_BYTES, SignedDeviceList, Uuid } from '@orbis/protocol';
import { verifyDeviceList } from '@orbis/verify';
import { appendAuditEvent, PLATFORM_AUDIT_CHAIN } from '../audit/audit.repo.ts';
import { authenticate, authorizePlatform } from '../auth/caller.ts';
import { withTransaction } from '../db/backend.ts';
import { ServiceError } from '../errors.ts';
import { ERROR_RESPONSES } from '../http/common-schemas.ts';
import type { RouteContext } from '../http/route-context.ts';
import { findManufacturer, insertManufacturer, registerDevices } from './registry.repo.ts';

const ManufacturerBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\x00-\\x1f]+$' }),
    /** The key that signs the manufacturer's device lists: canonical P-256 SPKI, base64url. */
    publicKey: Base64Url(91),
  },
  { additionalProperties: false },
);
const ManufacturerView = Type.Object(
  { id: Type.String(), name: Type.String(), keyId: Type.String(), createdAt: Type.Integer() },
  { additionalProperties: false },
);
const ManufacturerParams = Type.Object({ manufacturerId: Uuid }, { additionalProperties: false });

function parseManufacturerKey(text: string): PublicKey {
  try {
    return parsePublicKeySpki(decodeBase64Url(text));
  } catch (cause) {
    throw new ServiceError('CRYPTO_KEY_INVALID', 'publicKey is not a canonical P-256 SubjectPublicKeyInfo', {
      cause,
    });
  }
}

/**
 * The manufacturing registry: a platform operator registers manufacturers and their list-signing
 * keys, then uploads their signed device lists; only listed devices can be claimed.
 */
export function registerRegistryRoutes(app: FastifyInstance, context: RouteContext): void {
  app.post(
    '/api/v1/manufacturers',
    {
      schema: {
        tags: ['registry'],
        body: ManufacturerBody,
        response: { 201: ManufacturerView, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const caller = await authenticate(request, context);
      authorizePlatform(caller);
      const body = request.body as Type.Static<typeof ManufacturerBody>;
      const key = parseManufacturerKey(body.publicKey);
      const now = context.clock.now();
      const manufacturer = await withTransaction(context.db, async (trx) => {
        const created = await insertManufacturer(trx, {
          id: randomUUID(),
          name: body.name,
          publicKeySpki: key.spki,
          createdAt: now,
        });
        await appendAuditEvent(trx, {
          tenantId: PLATFORM_AUDIT_CHAIN,
          at: now,
          actor: caller.actor,
          action: 'manufacturer.register',
          target: `manufacturer:${created.id}`,
          source: request.ip,
          details: { name: body.name, keyId: key.keyId },
        });
        return created;
      });
      return reply
        .status(201)
        .send({ id: manufacturer.id, name: manufacturer.name, keyId: key.keyId, createdAt: now });
    },
  );

  app.post(
    '/api/v1/manufacturers/:manufacturerId/device-lists',
    {
      bodyLimit: MAX_DEVICE_LIST_BYTES,
      schema: {
        tags: ['registry'],
        params: ManufacturerParams,
        body: SignedDeviceList,
        response: {
          201: Type.Object({ registered: Type.Integer() }, { additionalProperties: false }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const caller = await authenticate(request, context);
      authorizePlatform(caller);
      const { manufacturerId } = request.params as Type.Static<typeof ManufacturerParams>;
      const manufacturer = await findManufacturer(context.db, manufacturerId);
      if (manufacturer === undefined) throw new ServiceError('NOT_FOUND', 'no such manufacturer');
      const verified = verifyDeviceList(request.body, parsePublicKeySpki(manufacturer.publicKeySpki));
      if (verified.manufacturerId !== manufacturerId) {
        throw new ServiceError('REGISTRY_LIST_INVALID', 'the list names another manufacturer');
      }
      const now = context.clock.now();
      const registered = await withTransaction(context.db, async (trx) => {
        const count = await registerDevices(trx, {
          manufacturerId,
          registeredAt: now,
          devices: verified.devices.map((device) => ({
            deviceId: device.deviceId,
            identitySpki: device.identityKey.spki,
            tpmPublic: device.tpmPublic,
            model: device.model,
          })),
        });
        await appendAuditEvent(trx, {
          tenantId: PLATFORM_AUDIT_CHAIN,
          at: now,
          actor: caller.actor,
          action: 'registry.import',
          target: `manufacturer:${manufacturerId}`,
          source: request.ip,
          details: { listId: verified.listId, devices: count },
        });
        return count;
      });
      return reply.status(201).send({ registered });
    },
  );
}
