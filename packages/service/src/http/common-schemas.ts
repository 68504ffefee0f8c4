import Type from 'typebox';
import { ErrorEnvelope, Uuid } from '@orbis/protocol';

/** Error responses every authenticated route can give. */
export const ERROR_RESPONSES = {
  400: ErrorEnvelope,
  401: ErrorEnvelope,
  403: ErrorEnvelope,
  404: ErrorEnvelope,
  409: ErrorEnvelope,
  413: ErrorEnvelope,
} as const;

export const TenantParams = Type.Object({ tenantId: Uuid }, { additionalProperties: false });

/** Keyset pagination: `after` is the last ID of the previous page. Query strings stay strings. */
export const PageQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })),
  },
  { additionalProperties: false },
);

export const DEFAULT_PAGE_LIMIT = 100;

export function pageOf(query: { after?: string; limit?: string }, max: number) {
  return {
    ...(query.after === undefined ? {} : { after: query.after }),
    limit: Math.min(Number(query.limit ?? DEFAULT_PAGE_LIMIT), max),
  };
}
