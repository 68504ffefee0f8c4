import type { Socket } from 'node:net';
import type { Kysely } from 'kysely';
import { MAX_BOUND_PARAMETERS, chunked } from '../db/backend.ts';
import { withDatabaseErrors } from '../db/database-errors.ts';
import type { Database } from '../db/schema.ts';

/**
 * The device listener's open connections, by the device each one authenticated as. A device
 * keeps one connection for its certificate's lifetime; when the tenant disables it or the
 * service quarantines it, the connection is closed at once, not just refused at its next
 * request, so a device that stops asking keeps nothing open either. The API calls close() in
 * the process that made the change; other replicas find the change with sweep().
 */
export class DeviceConnections {
  readonly #byDevice = new Map<string, Set<Socket>>();

  /** Remembers `socket` as `deviceId`'s until it closes. Idempotent. */
  track(deviceId: string, socket: Socket): void {
    if (socket.destroyed) return;
    let sockets = this.#byDevice.get(deviceId);
    if (sockets === undefined) {
      sockets = new Set();
      this.#byDevice.set(deviceId, sockets);
    }
    if (sockets.has(socket)) return;
    sockets.add(socket);
    socket.once('close', () => {
      const current = this.#byDevice.get(deviceId);
      current?.delete(socket);
      if (current?.size === 0) this.#byDevice.delete(deviceId);
    });
  }

  /** Devices with at least one open connection. */
  deviceIds(): string[] {
    return [...this.#byDevice.keys()];
  }

  /** Closes every connection of these devices; returns how many were closed. */
  close(deviceIds: Iterable<string>): number {
    let closed = 0;
    for (const deviceId of deviceIds) {
      for (const socket of this.#byDevice.get(deviceId) ?? []) {
        socket.destroy();
        closed += 1;
      }
    }
    return closed;
  }

  /**
   * Closes the connections of devices that are now disabled or quarantined, whichever replica
   * changed them; returns how many were closed. Run periodically by the device listener.
   */
  async sweep(db: Kysely<Database>): Promise<number> {
    const blocked: string[] = [];
    for (const chunk of chunked(this.deviceIds(), MAX_BOUND_PARAMETERS)) {
      const rows = await withDatabaseErrors(() =>
        db
          .selectFrom('devices')
          .select('device_id')
          .where('device_id', 'in', chunk)
          .where((eb) => eb.or([eb('disabled', '=', 1), eb('quarantined', '=', 1)]))
          .execute(),
      );
      blocked.push(...rows.map((row) => row.device_id));
    }
    return this.close(blocked);
  }
}
