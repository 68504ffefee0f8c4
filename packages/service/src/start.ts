import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Clock, Random } from '@orbis/crypto';
import { buildApp, type OrbisApp } from './app.ts';
import { createAuditHeadSigner } from './audit/audit-signing.ts';
import { issueSetupTokenIfNeeded } from './auth/setup.ts';
import { parseConfig, type ServiceConfig } from './config.ts';
import { openDatabase, type DatabaseHandle } from './db/database.ts';
import { FileKeyStore } from './keys/file-key-store.ts';
import { loadMasterKey, masterKeySourceFromEnv, type LoadedMasterKey } from './keys/master-key.ts';
import { createServicePki, type ServicePki } from './pki/service-pki.ts';
import { defaultServiceHostnames } from './pki/service-names.ts';

export interface StartOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** A lab (`npm start`): generate a master key into the data directory if none is configured. */
  readonly lab: boolean;
  readonly clock?: Clock;
}

export interface RunningService {
  readonly config: ServiceConfig;
  readonly app: OrbisApp;
  readonly apiUrl: string;
  readonly masterKeyOrigin: LoadedMasterKey['origin'];
  /** Printed once at first start, while the service has no users; undefined afterwards. */
  readonly setupToken: string | undefined;
  readonly keyStore: FileKeyStore;
  /** The service's CAs: device-listener TLS, the platform root to pin, tenant and update CAs. */
  readonly pki: ServicePki;
  stop(): Promise<void>;
}

const systemClock: Clock = { now: () => Date.now() };
const systemRandom: Random = { bytes: (length) => new Uint8Array(randomBytes(length)) };

/** The PKI brought up to date before any listener opens: a platform failure stops the start. */
async function startPki(database: DatabaseHandle, keyStore: FileKeyStore, clock: Clock, host: string) {
  const pki = createServicePki({
    db: database.db,
    keyStore,
    clock,
    random: systemRandom,
    hostnames: defaultServiceHostnames(host),
  });
  try {
    const status = await pki.ensureInfrastructure();
    // A tenant whose rotation fails does not stop the start: it is logged, and retried hourly.
    const rotation = await pki.rotateTenantCas(clock.now());
    return { pki, status, rotation };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** Reads configuration, opens storage and keys, and starts the listeners. */
export async function startService(options: StartOptions): Promise<RunningService> {
  const config = parseConfig(options.env, options.cwd);
  const clock = options.clock ?? systemClock;
  const master = await loadMasterKey(masterKeySourceFromEnv(options.env, config.dataDir, options.lab));
  const keyStore = await FileKeyStore.open({
    directory: join(config.dataDir, 'keys'),
    masterKey: master.key,
    now: () => clock.now(),
  });
  const database = await openDatabase({ url: config.databaseUrl });
  const { pki, status, rotation } = await startPki(database, keyStore, clock, config.host);
  const auditSigner = createAuditHeadSigner({ db: database.db, keyStore, clock });
  const app = await buildApp(config, { database, clock, pki, auditSigner });
  if (status.rootNeeded) {
    app.api.log.warn('the issuing intermediate is due for renewal and the platform root key is offline');
  }
  for (const { tenantId, error } of rotation.failed) {
    app.api.log.error({ err: error, tenantId }, "creating or rotating the tenant's CA failed");
  }
  if (master.origin === 'generated') {
    app.api.log.warn(
      'the master key was generated into the data directory: fine for a lab, not for production',
    );
  }
  const setupToken = await issueSetupTokenIfNeeded(database.db);
  const apiUrl = await app.api.listen({ host: config.host, port: config.apiPort });
  return {
    config,
    app,
    apiUrl,
    masterKeyOrigin: master.origin,
    setupToken,
    keyStore,
    pki,
    stop: () => app.close(),
  };
}
