import { OrbisError } from '@orbis/protocol';
import {
  createIntermediate,
  findIntermediate,
  isIntermediateDue,
  loadOrCreateRoot,
  type PlatformDeps,
  type StoredCa,
} from './platform-pki.ts';
import type { ServiceNames } from './service-names.ts';
import {
  deviceListenerTlsOf,
  ensureServiceLeaf,
  type DeviceListenerTls,
  type ServiceLeaf,
} from './service-tls.ts';

/** What the service serves from its platform PKI: root (to pin), intermediate and TLS leaf. */
export interface PlatformState {
  readonly root: StoredCa;
  readonly intermediate: StoredCa;
  readonly leaf: ServiceLeaf;
  readonly tls: DeviceListenerTls;
}

export interface EnsurePlatformResult {
  readonly state: PlatformState;
  readonly created: readonly string[];
  readonly rootNeeded: boolean;
}

async function resolveIntermediate(deps: PlatformDeps, root: StoredCa, now: number, renew: boolean) {
  const current = await findIntermediate(deps, root, now);
  if (!renew && current !== undefined && !isIntermediateDue(current, now)) {
    return { intermediate: current, rootNeeded: false, intermediateCreated: false };
  }
  try {
    return {
      intermediate: await createIntermediate(deps, root, now),
      rootNeeded: false,
      intermediateCreated: true,
    };
  } catch (error) {
    const offline = error instanceof OrbisError && error.code === 'PKI_ROOT_OFFLINE';
    if (!offline || renew || current === undefined) throw error;
    return { intermediate: current, rootNeeded: true, intermediateCreated: false };
  }
}

/**
 * Brings the platform PKI up to date at `now`, creating only what is missing or due: the root
 * on first start, an intermediate when none is valid or it has under INTERMEDIATE_RENEWAL_DAYS
 * left (or `renewIntermediate` asks for one), the TLS leaf when it is due. With the root
 * offline, a due intermediate that is still valid keeps serving (`rootNeeded`); only a missing
 * one, or an explicit renewal, fails with PKI_ROOT_OFFLINE.
 */
export async function ensurePlatform(
  deps: PlatformDeps,
  names: ServiceNames,
  now: number,
  options: { readonly renewIntermediate: boolean; readonly previous: PlatformState | undefined },
): Promise<EnsurePlatformResult> {
  const created: string[] = [];
  const { root, created: rootCreated } = await loadOrCreateRoot(deps, now);
  if (rootCreated) created.push(root.row.id);
  const { intermediate, rootNeeded, intermediateCreated } = await resolveIntermediate(
    deps,
    root,
    now,
    options.renewIntermediate,
  );
  if (intermediateCreated) created.push(intermediate.row.id);
  const { leaf, issued } = await ensureServiceLeaf(deps, intermediate, names, now);
  if (issued) created.push(leaf.row.id);
  const previous = options.previous;
  const tls =
    previous?.leaf.row.id === leaf.row.id && previous.intermediate.row.id === intermediate.row.id
      ? previous.tls
      : await deviceListenerTlsOf(deps, leaf, intermediate);
  return { state: { root, intermediate, leaf, tls }, created, rootNeeded };
}
