import { join } from 'node:path';
import type { Clock } from '@orbis/crypto';
import { buildApp, type OrbisApp } from './app.ts';
import { issueSetupTokenIfNeeded } from './auth/setup.ts';
import { parseConfig, type ServiceConfig } from './config.ts';
import { openDatabase } from './db/database.ts';
import { FileKeyStore } from './keys/file-key-store.ts';
import { loadMasterKey, masterKeySourceFromEnv, type LoadedMasterKey } from './keys/master-key.ts';

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
  stop(): Promise<void>;
}

const systemClock: Clock = { now: () => Date.now() };

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
  const app = await buildApp(config, { database, clock });
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
    stop: () => app.close(),
  };
}
