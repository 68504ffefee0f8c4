import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { authenticate, authorizeTenant } from '../auth/caller.ts';
import { ERROR_RESPONSES, TenantParams } from '../http/common-schemas.ts';
import type { RouteContext } from '../http/route-context.ts';
import type { ServicePki } from './service-pki.ts';

/** The largest PEM one anchor takes; an Orbis anchor is about 650 characters. */
const MAX_ANCHOR_PEM_LENGTH = 8192;

export const AnchorView = Type.Object(
  {
    pem: Type.String({ maxLength: MAX_ANCHOR_PEM_LENGTH }),
    notBefore: Type.Integer(),
    notAfter: Type.Integer(),
    /** From when devices present certificates this anchor issued. */
    signsFrom: Type.Integer(),
    /** The subjectKeyIdentifier, hex: what device certificates name in authorityKeyIdentifier. */
    keyId: Type.String({ pattern: '^[0-9a-f]{2,128}$' }),
  },
  { additionalProperties: false },
);
export const AnchorsResponse = Type.Object(
  { anchors: Type.Array(AnchorView, { maxItems: 16 }) },
  { additionalProperties: false },
);

/**
 * `GET /api/v1/tenants/:tenantId/ca`: exactly this tenant's published anchors (current, and
 * next during a rotation), for relying parties (`orbis tenant download-ca`). Trusting them
 * admits this tenant's devices and no other tenant's, since every tenant's CA is its own
 * self-signed anchor. Readers and up; anyone else gets the 404 of every tenant route.
 */
export function registerPkiRoutes(app: FastifyInstance, context: RouteContext, pki: ServicePki): void {
  app.get(
    '/api/v1/tenants/:tenantId/ca',
    {
      schema: {
        tags: ['tenants'],
        params: TenantParams,
        response: { 200: AnchorsResponse, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const caller = await authenticate(request, context);
      const { tenantId } = request.params as Type.Static<typeof TenantParams>;
      await authorizeTenant(caller, tenantId, 'read', context);
      const anchors = await pki.tenantAnchors(tenantId, context.clock.now());
      return {
        anchors: anchors.map(({ pem, notBefore, notAfter, signsFrom, keyId }) => ({
          pem,
          notBefore,
          notAfter,
          signsFrom,
          keyId,
        })),
      };
    },
  );
}
