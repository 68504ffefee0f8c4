import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { ComponentId, SecurityVersion, Version } from '@orbis/protocol';
import { appendAuditEvent, PLATFORM_AUDIT_CHAIN } from '../audit/audit.repo.ts';
import { authenticate, authorizePlatform } from '../auth/caller.ts';
import { withTransaction } from '../db/backend.ts';
import { ServiceError } from '../errors.ts';
import { ERROR_RESPONSES } from '../http/common-schemas.ts';
import type { RouteContext } from '../http/route-context.ts';
import { insertOsRelease, listOsReleases, setFeedPolicy } from './os-releases.repo.ts';

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Stage = Type.Object(
  {
    kind: Type.Union([Type.Literal('bootloader'), Type.Literal('security-monitor'), Type.Literal('os')]),
    componentId: ComponentId,
    version: Version,
    securityVersion: SecurityVersion,
    sha256: Hex64,
    signer: Hex64,
  },
  { additionalProperties: false },
);
const ReleaseBody = Type.Object(
  { version: Version, stages: Type.Array(Stage, { minItems: 3, maxItems: 3 }) },
  { additionalProperties: false },
);
const ReleaseView = Type.Object(
  { version: Type.String(), registeredAt: Type.Integer(), stages: Type.Array(Stage) },
  { additionalProperties: false },
);
const FeedParams = Type.Object(
  { feed: Type.Union([Type.Literal('Retail'), Type.Literal('RetailEval')]) },
  { additionalProperties: false },
);
const FeedBody = Type.Object(
  {
    minimumSecurityVersion: SecurityVersion,
    /** When the minimum starts to apply (ms since the epoch): until then, devices below it are in grace. */
    effectiveFrom: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

/** Reference values: OS releases and the per-feed minimum OS security version, set by the platform operator. */
export function registerOsReleaseRoutes(app: FastifyInstance, context: RouteContext): void {
  app.post(
    '/api/v1/os-releases',
    {
      schema: {
        tags: ['os-releases'],
        body: ReleaseBody,
        response: { 201: ReleaseView, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const caller = await authenticate(request, context);
      authorizePlatform(caller);
      const body = request.body as Type.Static<typeof ReleaseBody>;
      const kinds = new Set(body.stages.map((stage) => stage.kind));
      if (kinds.size !== 3)
        throw new ServiceError(
          'OS_RELEASE_INVALID',
          'list the bootloader, security monitor and OS once each',
        );
      const now = context.clock.now();
      await withTransaction(context.db, async (trx) => {
        await insertOsRelease(trx, { version: body.version, stages: body.stages, registeredAt: now });
        await appendAuditEvent(trx, {
          tenantId: PLATFORM_AUDIT_CHAIN,
          at: now,
          actor: caller.actor,
          action: 'os-release.register',
          target: `os-release:${body.version}`,
          source: request.ip,
          details: { stages: body.stages.map((stage) => ({ kind: stage.kind, sha256: stage.sha256 })) },
        });
      });
      return reply.status(201).send({ ...body, registeredAt: now });
    },
  );

  app.get(
    '/api/v1/os-releases',
    {
      schema: {
        tags: ['os-releases'],
        response: { 200: Type.Object({ releases: Type.Array(ReleaseView) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      await authenticate(request, context);
      return { releases: await listOsReleases(context.db) };
    },
  );

  app.put(
    '/api/v1/os-feeds/:feed/minimum',
    {
      schema: {
        tags: ['os-releases'],
        params: FeedParams,
        body: FeedBody,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const caller = await authenticate(request, context);
      authorizePlatform(caller);
      const { feed } = request.params as Type.Static<typeof FeedParams>;
      const body = request.body as Type.Static<typeof FeedBody>;
      const now = context.clock.now();
      await withTransaction(context.db, async (trx) => {
        await setFeedPolicy(
          trx,
          { feed, minSecurityVersion: body.minimumSecurityVersion, minEffectiveFrom: body.effectiveFrom },
          now,
        );
        await appendAuditEvent(trx, {
          tenantId: PLATFORM_AUDIT_CHAIN,
          at: now,
          actor: caller.actor,
          action: 'os-feed.minimum',
          target: `os-feed:${feed}`,
          source: request.ip,
          details: body,
        });
      });
      return reply.status(204).send();
    },
  );
}
