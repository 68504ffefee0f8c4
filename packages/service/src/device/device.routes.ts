import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import {
  AttestationResult,
  DeviceId,
  ErrorEnvelope,
  TpmQuote,
  type AttestationResultClass,
} from '@orbis/protocol';
import type { VerifiedDeviceCertificate } from '@orbis/verify';
import { attest, issueChallenge, type AttestationDeps } from '../attestation/attestation.service.ts';
import { ServiceError } from '../errors.ts';
import { findDevice } from '../registry/registry.repo.ts';
import type { DeviceConnections } from './device-connections.ts';
import { identifyConnection, requireDevice, socketOf, type DeviceAnchors } from './device-identity.ts';

export interface DeviceRouteDeps {
  readonly attestation: AttestationDeps;
  readonly anchors: DeviceAnchors;
  /** Open connections by device, so blocking a device closes them (device-connections.ts). */
  readonly connections: DeviceConnections;
}

const ERRORS = {
  400: ErrorEnvelope,
  401: ErrorEnvelope,
  403: ErrorEnvelope,
  404: ErrorEnvelope,
  413: ErrorEnvelope,
};
const ChallengeBody = Type.Object({ deviceId: DeviceId }, { additionalProperties: false });
const ChallengeView = Type.Object(
  { nonce: Type.String(), expiresAt: Type.Integer() },
  { additionalProperties: false },
);
const AttestBody = Type.Object(
  {
    deviceId: DeviceId,
    nonce: Type.String({ minLength: 1, maxLength: 64 }),
    // Evidence over MAX_EVIDENCE_BYTES is refused by verifyEvidence with its own code.
    evidence: Type.String({ minLength: 1 }),
    tpmQuote: Type.Optional(TpmQuote),
  },
  { additionalProperties: false },
);
const WhoAmI = Type.Object(
  {
    deviceId: Type.String(),
    tenantId: Type.String(),
    resultClass: Type.String(),
    notAfter: Type.Integer(),
    groupId: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);

/**
 * The device protocol's gate, in one place: the connection's certificate (verified once per
 * connection), then on every request the device's current state and the certificate's expiry
 * and class against what the route allows.
 */
async function authenticateDevice(
  request: FastifyRequest,
  deps: DeviceRouteDeps,
  classes: readonly AttestationResultClass[],
): Promise<VerifiedDeviceCertificate> {
  const now = deps.attestation.now();
  const socket = socketOf(request.raw.socket);
  const identity = await identifyConnection(socket, deps.anchors, now);
  const certificate = requireDevice(identity, classes, now);
  const device = await findDevice(deps.attestation.db, certificate.deviceId);
  if (device?.tenantId !== certificate.tenantId)
    throw new ServiceError('CERT_UNKNOWN_ISSUER', 'unknown device');
  if (device.disabled) throw new ServiceError('DEVICE_DISABLED', 'the tenant disabled this device');
  if (device.quarantined) throw new ServiceError('DEVICE_QUARANTINED', 'this device is quarantined');
  deps.connections.track(certificate.deviceId, socket);
  return certificate;
}

/** Routes under /device/v1, served only on the device listener. */
export function registerDeviceProtocolRoutes(app: FastifyInstance, deps: DeviceRouteDeps): void {
  app.post(
    '/device/v1/attestation/challenge',
    { schema: { tags: ['device'], body: ChallengeBody, response: { 200: ChallengeView, ...ERRORS } } },
    (request) =>
      issueChallenge(deps.attestation, (request.body as Type.Static<typeof ChallengeBody>).deviceId),
  );

  app.post(
    '/device/v1/attestation',
    { schema: { tags: ['device'], body: AttestBody, response: { 200: AttestationResult, ...ERRORS } } },
    async (request) => {
      const body = request.body as Type.Static<typeof AttestBody>;
      // A first attestation has no certificate; a renewal runs over the connection of the
      // current one. Whatever is presented must verify and name this device.
      const identity = await identifyConnection(
        socketOf(request.raw.socket),
        deps.anchors,
        deps.attestation.now(),
      );
      if (identity.kind === 'refused') throw new ServiceError(identity.code, identity.message);
      if (identity.kind === 'device' && identity.certificate.deviceId !== body.deviceId) {
        throw new ServiceError('DEVICE_MISMATCH', 'the connection belongs to another device');
      }
      return attest(deps.attestation, { ...body, source: request.ip });
    },
  );

  app.get(
    '/device/v1/whoami',
    { schema: { tags: ['device'], response: { 200: WhoAmI, ...ERRORS } } },
    async (request) => {
      const certificate = await authenticateDevice(request, deps, ['trusted', 'development', 'update-only']);
      return {
        deviceId: certificate.deviceId,
        tenantId: certificate.tenantId,
        resultClass: certificate.resultClass,
        notAfter: certificate.notAfter,
        groupId: certificate.groupAssignment.groupId,
      };
    },
  );

  app.get(
    '/device/v1/tenant-anchors',
    {
      schema: {
        tags: ['device'],
        response: {
          200: Type.Object({ anchors: Type.Array(Type.String()) }, { additionalProperties: false }),
          ...ERRORS,
        },
      },
    },
    async (request) => {
      // Anchors for device-to-device TLS: a full (trusted or development) certificate only.
      const certificate = await authenticateDevice(request, deps, ['trusted', 'development']);
      return {
        anchors: await deps.attestation.pki.tenantAnchorPems(certificate.tenantId, deps.attestation.now()),
      };
    },
  );
}
