import type { Kysely } from 'kysely';
import type { Clock } from '@orbis/crypto';
import type { ServiceConfig } from '../config.ts';
import type { Database } from '../db/schema.ts';
import type { DeviceConnections } from '../device/device-connections.ts';

/** What every route module receives: storage, time and configuration, passed explicitly. */
export interface RouteContext {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly config: ServiceConfig;
  /** The device listener's connections in this process, closed when the API blocks a device. */
  readonly deviceConnections?: DeviceConnections;
}
