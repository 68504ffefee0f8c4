import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { authenticate } from '../auth/caller.ts';
import { ERROR_RESPONSES } from '../http/common-schemas.ts';
import type { RouteContext } from '../http/route-context.ts';
import type { TufRoots } from './tuf-roots.ts';

/**
 * The TUF root.json documents exactly as the service signed them. The response schema lists
 * every field the service writes into a root, so nothing else can leak; a field it did not
 * list would be dropped and the signature would no longer verify, which updates.routes.test.ts
 * would catch.
 */
const MAX_TUF_KEYS = 16;
const KeyId = Type.String({ pattern: '^[0-9a-f]{64}$' });
const TufKey = Type.Object(
  {
    keytype: Type.String({ maxLength: 32 }),
    scheme: Type.String({ maxLength: 64 }),
    keyval: Type.Object({ public: Type.String({ maxLength: 1024 }) }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
const TufRole = Type.Object(
  { keyids: Type.Array(KeyId, { maxItems: MAX_TUF_KEYS }), threshold: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export const TufRootDocument = Type.Object(
  {
    signatures: Type.Array(
      Type.Object(
        { keyid: KeyId, sig: Type.String({ pattern: '^[0-9a-f]{2,512}$' }) },
        { additionalProperties: false },
      ),
      { maxItems: MAX_TUF_KEYS },
    ),
    signed: Type.Object(
      {
        _type: Type.Literal('root'),
        spec_version: Type.String({ maxLength: 16 }),
        version: Type.Integer({ minimum: 1 }),
        expires: Type.String({ maxLength: 32 }),
        keys: Type.Record(KeyId, TufKey, { additionalProperties: false, maxProperties: MAX_TUF_KEYS }),
        roles: Type.Object(
          { root: TufRole, targets: TufRole, snapshot: TufRole, timestamp: TufRole },
          { additionalProperties: false },
        ),
        consistent_snapshot: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export const TufRootsResponse = Type.Object(
  { imageRepository: TufRootDocument, director: TufRootDocument },
  { additionalProperties: false },
);

/**
 * `GET /api/v1/updates/roots`: the image repository's and the director's root.json, what
 * `orbis updates roots` fetches for `orbis device manufacture`. Any authenticated caller: the
 * roots hold public keys only, and every device carries them.
 */
export function registerUpdatesRoutes(app: FastifyInstance, context: RouteContext, roots: TufRoots): void {
  // Parsed once: the stored texts never change while the service runs.
  const body = {
    imageRepository: JSON.parse(roots.imageRepository) as unknown,
    director: JSON.parse(roots.director) as unknown,
  };
  app.get(
    '/api/v1/updates/roots',
    { schema: { tags: ['updates'], response: { 200: TufRootsResponse, ...ERROR_RESPONSES } } },
    async (request) => {
      await authenticate(request, context);
      return body;
    },
  );
}
