import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { constantTimeEqual } from '@orbis/crypto';
import { withTransaction } from '../db/backend.ts';
import type { Database } from '../db/schema.ts';
import { ServiceError } from '../errors.ts';
import { countUsers, insertUser, type User } from '../users/users.repo.ts';
import { hashPassword } from './passwords.ts';
import { generateToken, hashToken } from './tokens.ts';

/**
 * First start without a default password: while no user exists, each start of the service
 * makes a fresh one-time setup token, prints it once, and keeps only its hash. Whoever holds it
 * creates the first platform operator; the token then stops working.
 */
const SETUP_TOKEN_SETTING = 'setup_token_sha256';

/** A new setup token if the service has no users yet (replacing any earlier one), else undefined. */
export async function issueSetupTokenIfNeeded(db: Kysely<Database>): Promise<string | undefined> {
  if ((await countUsers(db)) > 0) return undefined;
  const token = generateToken('setup');
  const value = hashToken(token);
  await withTransaction(db, async (trx) => {
    await trx.deleteFrom('settings').where('key', '=', SETUP_TOKEN_SETTING).execute();
    await trx.insertInto('settings').values({ key: SETUP_TOKEN_SETTING, value }).execute();
  });
  return token;
}

/**
 * Creates the first platform operator with the setup token, consuming it. Refuses once any
 * user exists or when the token does not match, with one code for both (AUTH_SETUP_UNAVAILABLE).
 */
export async function completeSetup(
  db: Kysely<Database>,
  input: { setupToken: string; email: string; password: string; now: number },
): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  return withTransaction(db, async (trx) => {
    const row = await trx
      .selectFrom('settings')
      .select('value')
      .where('key', '=', SETUP_TOKEN_SETTING)
      .executeTakeFirst();
    const presented = Buffer.from(hashToken(input.setupToken), 'hex');
    const valid = row !== undefined && constantTimeEqual(presented, Buffer.from(row.value, 'hex'));
    if (!valid || (await countUsers(trx)) > 0) {
      throw new ServiceError('AUTH_SETUP_UNAVAILABLE', 'setup is finished, or the setup token is wrong');
    }
    await trx.deleteFrom('settings').where('key', '=', SETUP_TOKEN_SETTING).execute();
    return insertUser(trx, {
      id: randomUUID(),
      email: input.email,
      passwordHash,
      isPlatformOperator: true,
      createdAt: input.now,
    });
  });
}
