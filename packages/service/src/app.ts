import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { sql } from 'kysely';
import type { Clock } from '@orbis/crypto';
import { startAuditSigning, type AuditHeadSigner } from './audit/audit-signing.ts';
import { registerAuthRoutes } from './auth/auth.routes.ts';
import type { ServiceConfig } from './config.ts';
import type { DatabaseHandle } from './db/database.ts';
import { registerGroupRoutes } from './groups/groups.routes.ts';
import { registerHealthRoutes } from './health/health.routes.ts';
import { registerOsReleaseRoutes } from './os-releases/os-releases.routes.ts';
import { createServer } from './http/create-server.ts';
import type { RouteContext } from './http/route-context.ts';
import type { PeriodicTask } from './pki/periodic-task.ts';
import { startPkiMaintenance } from './pki/pki-maintenance.ts';
import { registerPkiRoutes } from './pki/pki.routes.ts';
import type { ServicePki } from './pki/service-pki.ts';
import { registerDeviceRoutes } from './registry/devices.routes.ts';
import { registerRegistryRoutes } from './registry/registry.routes.ts';
import { registerTenantRoutes } from './tenants/tenants.routes.ts';
import { registerApiTokenRoutes } from './tokens/api-tokens.routes.ts';
import type { TufRoots } from './updates/tuf-roots.ts';
import { registerUpdatesRoutes } from './updates/updates.routes.ts';
import { registerMemberRoutes } from './users/members.routes.ts';
import type { DeviceConnections } from './device/device-connections.ts';

export interface AppDeps {
  readonly database: DatabaseHandle;
  readonly clock: Clock;
  /** Where logs go (standard error unless given). */
  readonly logStream?: { write(line: string): void };
  /**
   * The service's CAs (pki/service-pki.ts): a CA for each new tenant, GET /tenants/:id/ca, and
   * the hourly rotation pass. Tests that need no PKI leave it out.
   */
  readonly pki?: ServicePki;
  /** The TUF roots devices get at manufacture (updates/tuf-roots.ts), for GET /updates/roots. */
  readonly tufRoots?: TufRoots;
  /** Signs the audit chains' heads periodically (audit/audit-signing.ts). */
  readonly auditSigner?: AuditHeadSigner;
  /** Called when PKI maintenance renewed the device listener's TLS certificate. */
  readonly onTlsChanged?: () => void;
  /** The device listener's connections, so blocking a device closes them at once. */
  readonly deviceConnections?: DeviceConnections;
}

export interface OrbisApp {
  /** The API listener: people, tools, the portal. */
  readonly api: FastifyInstance;
  /** Stops accepting work, finishes requests in flight, then closes storage. */
  close(): Promise<void>;
}

/** The composition root of the security service. */
export async function buildApp(config: ServiceConfig, deps: AppDeps): Promise<OrbisApp> {
  const context: RouteContext = {
    db: deps.database.db,
    clock: deps.clock,
    config,
    ...(deps.deviceConnections === undefined ? {} : { deviceConnections: deps.deviceConnections }),
  };
  let closing = false;
  const api = createServer({
    logLevel: config.logLevel,
    ...(deps.logStream ? { logStream: deps.logStream } : {}),
  });
  await api.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Orbis security service', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  registerHealthRoutes(api, {
    checkStorage: async () => {
      await sql`select 1`.execute(deps.database.db);
    },
    isClosing: () => closing,
  });
  registerAuthRoutes(api, context);
  registerTenantRoutes(api, context, deps.pki);
  registerMemberRoutes(api, context);
  registerApiTokenRoutes(api, context);
  registerRegistryRoutes(api, context);
  registerDeviceRoutes(api, context);
  registerGroupRoutes(api, context);
  registerOsReleaseRoutes(api, context);
  if (deps.pki !== undefined) registerPkiRoutes(api, context, deps.pki);
  if (deps.tufRoots !== undefined) registerUpdatesRoutes(api, context, deps.tufRoots);
  api.get('/api/v1/openapi.json', { schema: { hide: true } }, () => api.swagger());
  await api.ready();
  // Background work, stopped before storage closes: PKI maintenance and audit-head signing.
  const tasks: PeriodicTask[] = [];
  if (deps.pki !== undefined) {
    const { onTlsChanged } = deps;
    tasks.push(
      startPkiMaintenance(deps.pki, {
        clock: deps.clock,
        log: api.log,
        ...(onTlsChanged === undefined ? {} : { onTlsChanged }),
      }),
    );
  }
  if (deps.auditSigner !== undefined) {
    tasks.push(
      startAuditSigning(deps.auditSigner, {
        onError: (error) => api.log.error({ err: error }, 'signing the audit heads failed'),
      }),
    );
  }
  return {
    api,
    async close() {
      closing = true;
      await Promise.all(tasks.map((task) => task.stop()));
      await api.close();
      await deps.database.close();
    },
  };
}
