import { ServiceError } from '../errors.ts';

/**
 * Listings are keyset-paginated (`after` the last key seen, up to `limit` rows), never
 * unbounded: REQUEST_INVALID unless `limit` is a whole number from 1 to `max`.
 */
export function assertPageLimit(limit: number, max: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new ServiceError('REQUEST_INVALID', `the page limit must be a whole number from 1 to ${max}`);
  }
}
