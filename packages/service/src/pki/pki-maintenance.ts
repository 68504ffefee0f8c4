import type { Clock } from '@orbis/crypto';
import { startPeriodicTask, type PeriodicTask } from './periodic-task.ts';
import type { ServicePki } from './service-pki.ts';

/** How often the service checks its certificates: renewals are due weeks ahead, so hourly is plenty. */
export const PKI_MAINTENANCE_INTERVAL_MS = 60 * 60 * 1000;

/** The part of pino's logger the pass writes to. */
export interface PkiLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface PkiMaintenanceOptions {
  readonly clock: Clock;
  readonly log: PkiLog;
  readonly intervalMs?: number;
  /**
   * Called after the service TLS certificate was renewed, e.g. with
   * `() => listener.server.setSecureContext(pki.deviceListenerTls())`.
   */
  readonly onTlsChanged?: () => void;
}

/**
 * The hourly PKI pass: ensureInfrastructure (intermediate, service TLS, update CA), then
 * rotateTenantCas. The app starts it (after startService ran the first pass) and stops it on
 * close. A failure is logged and the next pass tries again; certificates are renewed weeks to
 * months before they end, so a few failed passes cost nothing.
 */
export function startPkiMaintenance(pki: ServicePki, options: PkiMaintenanceOptions): PeriodicTask {
  const { clock, log, intervalMs = PKI_MAINTENANCE_INTERVAL_MS } = options;
  return startPeriodicTask(
    async () => {
      const now = clock.now();
      const status = await pki.ensureInfrastructure(now);
      if (status.rootNeeded) {
        log.warn(
          { intermediateNotAfter: new Date(status.intermediateNotAfter).toISOString() },
          'the issuing intermediate is due for renewal and the platform root key is offline: restore it for the signing',
        );
      }
      if (status.tlsChanged) options.onTlsChanged?.();
      const rotation = await pki.rotateTenantCas(now);
      const created = [...status.created, ...rotation.created];
      if (created.length > 0) log.info({ created }, 'certificates created');
      for (const { tenantId, error } of rotation.failed) {
        log.error({ err: error, tenantId }, "rotating the tenant's CA failed");
      }
    },
    { intervalMs, onError: (error) => log.error({ err: error }, 'the PKI maintenance pass failed') },
  );
}
