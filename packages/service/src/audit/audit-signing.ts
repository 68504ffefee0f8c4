import { sql, type Kysely } from 'kysely';
import type { KeyStore } from '@orbis/ca';
import {
  canonicalJsonBytes,
  CryptoError,
  decodeBase64Url,
  encodeBase64Url,
  isValidSignature,
  type Clock,
  type PublicKey,
} from '@orbis/crypto';
import { OrbisError } from '@orbis/protocol';
import { withDatabaseErrors } from '../db/database-errors.ts';
import type { Database } from '../db/schema.ts';
import { startPeriodicTask, type PeriodicTask } from '../pki/periodic-task.ts';
import { getOrCreateSigner } from '../pki/pki-keys.ts';
import { insertAuditHead, type AuditHead } from './audit-heads.repo.ts';
import {
  computeAuditEventHash,
  GENESIS_AUDIT_HASH,
  type AuditChainBreak,
  type AuditEvent,
} from './audit.repo.ts';

/**
 * Signed audit heads (ARCHITECTURE.md, "The service"): from time to time, and on demand, the
 * service signs the last (seq, hash) of every audit chain that grew since its last signed head,
 * with the KeyStore key `audit-signing`. The signature is ES256 (IEEE P1363, base64url, as in
 * JWS) over the RFC 8785 canonical JSON of {tenantId, seq, hash, signedAt}. An export carries
 * events and heads; verifyAuditExport checks both offline, so a rewritten event or a deleted
 * tail shows against a head signed before it.
 */

export const AUDIT_SIGNING_KEY_NAME = 'audit-signing';
/** How often heads are signed: what an attacker with the database could rewrite unseen, at most. */
export const AUDIT_SIGNING_INTERVAL_MS = 10 * 60 * 1000;
/** Chains one signing query returns at a time. */
const CHAIN_PAGE = 500;

/** The bytes an audit head's signature covers. */
export function auditHeadStatement(
  head: Pick<AuditHead, 'tenantId' | 'seq' | 'hash' | 'signedAt'>,
): Uint8Array {
  const { tenantId, seq, hash, signedAt } = head;
  return canonicalJsonBytes({ tenantId, seq, hash, signedAt });
}

export interface AuditHeadSigner {
  /** Signs the head of every chain with events after its last signed head; returns the heads signed. */
  signHeads(): Promise<AuditHead[]>;
  /** The public key exports are checked with. */
  publicKey(): Promise<PublicKey>;
}

export interface AuditHeadSignerOptions {
  readonly db: Kysely<Database>;
  readonly keyStore: KeyStore;
  readonly clock: Clock;
}

/** Chains whose last event is past their last signed head, a page at a time by chain ID. */
async function unsignedChains(db: Kysely<Database>, afterId: string) {
  return withDatabaseErrors(() =>
    db
      .selectFrom('audit_log as l')
      .select((eb) => ['l.tenant_id as tenantId', eb.fn.max('l.seq').as('seq')])
      .where('l.tenant_id', '>', afterId)
      .groupBy('l.tenant_id')
      .having(
        sql<boolean>`max(l.seq) > coalesce((select max(h.seq) from audit_heads h where h.tenant_id = l.tenant_id), 0)`,
      )
      .orderBy('l.tenant_id')
      .limit(CHAIN_PAGE)
      .execute(),
  );
}

async function eventHash(db: Kysely<Database>, tenantId: string, seq: number): Promise<string | undefined> {
  const row = await withDatabaseErrors(() =>
    db
      .selectFrom('audit_log')
      .select('hash')
      .where('tenant_id', '=', tenantId)
      .where('seq', '=', seq)
      .executeTakeFirst(),
  );
  return row?.hash;
}

export function createAuditHeadSigner(options: AuditHeadSignerOptions): AuditHeadSigner {
  const { db, keyStore, clock } = options;
  const signer = () => getOrCreateSigner(keyStore, AUDIT_SIGNING_KEY_NAME);

  async function signChain(tenantId: string, seq: number): Promise<AuditHead | undefined> {
    const hash = await eventHash(db, tenantId, seq);
    if (hash === undefined) return undefined;
    const key = await signer();
    const head = { tenantId, seq, hash, signedAt: clock.now() };
    const signature = encodeBase64Url(await key.sign(auditHeadStatement(head), 'p1363'));
    try {
      return await insertAuditHead(db, { ...head, signature, keyId: key.publicKey.keyId });
    } catch (error) {
      // Another replica signed this head first; its signature serves as well.
      if (error instanceof OrbisError && error.code === 'AUDIT_HEAD_EXISTS') return undefined;
      throw error;
    }
  }

  return {
    async signHeads() {
      const signed: AuditHead[] = [];
      for (let afterId = ''; ;) {
        const chains = await unsignedChains(db, afterId);
        for (const chain of chains) {
          const head = await signChain(chain.tenantId, chain.seq);
          if (head !== undefined) signed.push(head);
        }
        const last = chains.at(-1);
        if (last === undefined || chains.length < CHAIN_PAGE) return signed;
        afterId = last.tenantId;
      }
    },
    publicKey: async () => (await signer()).publicKey,
  };
}

/** Signs heads every AUDIT_SIGNING_INTERVAL_MS until stopped; `runNow` signs on demand. */
export function startAuditSigning(
  signer: AuditHeadSigner,
  options: { readonly intervalMs?: number; readonly onError: (error: unknown) => void },
): PeriodicTask {
  return startPeriodicTask(
    async () => {
      await signer.signHeads();
    },
    { intervalMs: options.intervalMs ?? AUDIT_SIGNING_INTERVAL_MS, onError: options.onError },
  );
}

/** Never throws: whether `head` carries a valid signature by one of `keys` (matched by key ID). */
export function isValidAuditHeadSignature(head: AuditHead, keys: readonly PublicKey[]): boolean {
  const key = keys.find((candidate) => candidate.keyId === head.keyId);
  if (key === undefined) return false;
  let signature: Uint8Array;
  try {
    signature = decodeBase64Url(head.signature);
  } catch (error) {
    if (error instanceof CryptoError) return false;
    throw error;
  }
  return isValidSignature(key, auditHeadStatement(head), signature, 'p1363');
}

export interface AuditExport {
  readonly tenantId: string;
  /** The chain from seq 1, in order. */
  readonly events: readonly AuditEvent[];
  readonly heads: readonly AuditHead[];
}

export type AuditExportVerification =
  | { readonly ok: true; readonly lastSeq: number; readonly lastSignedSeq: number }
  | {
      readonly ok: false;
      readonly brokenAtSeq: number;
      readonly reason: AuditChainBreak | 'head-signature-invalid' | 'foreign-entry';
    };

/**
 * Checks an exported chain without the service: every event's hash and link from seq 1, every
 * signed head's signature by one of `keys`, and that each head matches the event at its seq
 * and lies within the export. Events after the last signed head are chained but not yet
 * vouched for: `lastSignedSeq` says how far the signatures reach.
 */
export function verifyAuditExport(
  exported: AuditExport,
  keys: readonly PublicKey[],
): AuditExportVerification {
  let lastHash = GENESIS_AUDIT_HASH;
  for (const [index, event] of exported.events.entries()) {
    const seq = index + 1;
    if (event.tenantId !== exported.tenantId) return { ok: false, brokenAtSeq: seq, reason: 'foreign-entry' };
    if (event.seq !== seq) return { ok: false, brokenAtSeq: seq, reason: 'seq-gap' };
    if (event.prevHash !== lastHash) return { ok: false, brokenAtSeq: seq, reason: 'prev-hash-mismatch' };
    if (computeAuditEventHash(event.prevHash, event) !== event.hash) {
      return { ok: false, brokenAtSeq: seq, reason: 'hash-mismatch' };
    }
    lastHash = event.hash;
  }
  const lastSeq = exported.events.length;
  let lastSignedSeq = 0;
  for (const head of [...exported.heads].sort((a, b) => a.seq - b.seq)) {
    if (head.tenantId !== exported.tenantId)
      return { ok: false, brokenAtSeq: head.seq, reason: 'foreign-entry' };
    if (!isValidAuditHeadSignature(head, keys)) {
      return { ok: false, brokenAtSeq: head.seq, reason: 'head-signature-invalid' };
    }
    if (head.seq > lastSeq) return { ok: false, brokenAtSeq: lastSeq + 1, reason: 'truncated' };
    if (exported.events[head.seq - 1]?.hash !== head.hash) {
      return { ok: false, brokenAtSeq: head.seq, reason: 'signed-head-mismatch' };
    }
    lastSignedSeq = head.seq;
  }
  return { ok: true, lastSeq, lastSignedSeq };
}
