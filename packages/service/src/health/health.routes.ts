import type { FastifyInstance } from 'fastify';
import Type from 'typebox';

export interface HealthDeps {
  /** Resolves when storage answers; rejects otherwise. */
  readonly checkStorage: () => Promise<void>;
  /** True once shutdown has begun, so load balancers stop sending work. */
  readonly isClosing: () => boolean;
}

const Status = Type.Object({ status: Type.String() }, { additionalProperties: false });

/** `/healthz`: the process is up. `/readyz`: it can serve (storage answers, not shutting down). */
export function registerHealthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  app.get('/healthz', { schema: { response: { 200: Status } } }, () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { response: { 200: Status, 503: Status } } }, async (request, reply) => {
    if (deps.isClosing()) return reply.status(503).send({ status: 'closing' });
    try {
      await deps.checkStorage();
      return { status: 'ready' };
    } catch (error) {
      request.log.warn({ err: error }, 'storage is not answering');
      return reply.status(503).send({ status: 'storage unavailable' });
    }
  });
}
