import { join } from 'node:path';
import type { Clock } from '@orbis/crypto';
import { buildApp, type OrbisApp } from './app.ts';
import { createAuditHeadSigner } from './audit/audit-signing.ts';
import { issueSetupTokenIfNeeded } from './auth/setup.ts';
import { parseConfig, type ServiceConfig } from './config.ts';
import { openDatabase, type DatabaseHandle } from './db/database.ts';
import { FileKeyStore } from './keys/file-key-store.ts';
import { loadMasterKey, masterKeySourceFromEnv, type LoadedMasterKey } from './keys/master-key.ts';
import { createServicePki, deviceAnchorsOf, type ServicePki } from './pki/service-pki.ts';
import { systemRandom } from './random.ts';
import { closeAttestation, createAttestationDeps } from './attestation/attestation.service.ts';
import { createDeviceListener } from './device/device-listener.ts';
import { Server } from 'node:https';
import { defaultServiceHostnames } from './pki/service-names.ts';
import { DeviceConnections } from './device/device-connections.ts';
import { ensureTufRoots, type TufRoots } from './updates/tuf-roots.ts';

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
  /** The device listener (mTLS, /device/v1), e.g. https://127.0.0.1:8441. */
  readonly deviceUrl: string;
  readonly masterKeyOrigin: LoadedMasterKey['origin'];
  /** Printed once at first start, while the service has no users; undefined afterwards. */
  readonly setupToken: string | undefined;
  readonly keyStore: FileKeyStore;
  /** The service's CAs: device-listener TLS, the platform root to pin, tenant and update CAs. */
  readonly pki: ServicePki;
  /**
   * The image repository's and the director's TUF root.json, as signed at first start: what
   * `orbis device manufacture` writes into devices (GET /api/v1/updates/roots serves the same).
   */
  tufRoots(): TufRoots;
  /** Storage, for in-process tools of a lab (the simulated fleet); closed by stop(). */
  readonly database: DatabaseHandle;
  stop(): Promise<void>;
}

/** KeyStore names of the attestation nonce's HMAC key and the device-capability signing key. */
export const NONCE_KEY_NAME = 'attestation-nonce';
export const CAPABILITY_KEY_NAME = 'capability';

/** The capability key, created at first start; its public half is written into devices. */
async function capabilitySigner(keyStore: FileKeyStore) {
  return (await keyStore.has(CAPABILITY_KEY_NAME))
    ? keyStore.getSigner(CAPABILITY_KEY_NAME)
    : keyStore.createSigningKey(CAPABILITY_KEY_NAME);
}

const systemClock: Clock = { now: () => Date.now() };

/**
 * The PKI brought up to date, and the TUF roots made on first start, before any listener
 * opens: a failure of either stops the start.
 */
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
    const { roots } = await ensureTufRoots({ db: database.db, keyStore }, clock.now());
    return { pki, status, rotation, tufRoots: roots };
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
  const { pki, status, rotation, tufRoots } = await startPki(database, keyStore, clock, config.host);
  const auditSigner = createAuditHeadSigner({ db: database.db, keyStore, clock });
  // The listener is created after the app (it needs the app's storage); the holder lets PKI
  // maintenance reach it once it exists.
  const listenerHolder: { server?: { setSecureContext(options: { key: string; cert: string }): void } } = {};
  // Shared by the API (blocking a device closes its connections) and the device listener.
  const deviceConnections = new DeviceConnections();
  const app = await buildApp(config, {
    database,
    clock,
    pki,
    tufRoots,
    auditSigner,
    deviceConnections,
    // A renewed TLS certificate applies to new connections at once, without a restart.
    onTlsChanged: () => listenerHolder.server?.setSecureContext(pki.deviceListenerTls()),
  });
  const attestation = createAttestationDeps({
    db: database.db,
    pki,
    nonceKey: await keyStore.getHmacSecret(NONCE_KEY_NAME),
    capabilityKey: (await capabilitySigner(keyStore)).publicKey,
    random: systemRandom,
    now: () => clock.now(),
    certificateLifetimeSeconds: config.deviceCertificateLifetimeSeconds,
  });
  const deviceListener = await createDeviceListener(
    { logLevel: config.logLevel, tls: pki.deviceListenerTls() },
    { attestation, anchors: deviceAnchorsOf(pki), connections: deviceConnections },
  );
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
  const deviceUrl = await deviceListener.listen({ host: config.host, port: config.devicePort });
  const server: unknown = deviceListener.server;
  if (server instanceof Server) listenerHolder.server = server;
  return {
    config,
    app,
    apiUrl,
    deviceUrl,
    masterKeyOrigin: master.origin,
    setupToken,
    keyStore,
    pki,
    tufRoots: () => tufRoots,
    database,
    async stop() {
      await deviceListener.close();
      await closeAttestation(attestation);
      await app.close();
    },
  };
}
