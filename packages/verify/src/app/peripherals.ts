import { APP_PERIPHERAL_CAPABILITIES, type AppManifest } from '@orbis/protocol';
import { AppError } from '../errors.ts';

/** A GPIO pin, a named peripheral or a TCP server port that two apps claim. */
export interface PeripheralConflict {
  readonly kind: 'gpio' | 'peripheral' | 'tcp-port';
  /** The pin or port number, or the peripheral's name. */
  readonly id: string;
  /** The capability the candidate claims it under. */
  readonly capability: string;
  /** The installed app that owns it. */
  readonly owner: { readonly name: string; readonly componentId: string };
}

interface Claim {
  readonly kind: PeripheralConflict['kind'];
  readonly id: string;
  readonly capability: string;
}

/** How many conflicts an APP_PERIPHERAL_OWNED message lists before it counts the rest. */
const MAX_CONFLICTS_LISTED = 8;

function claimsOf(manifest: AppManifest): Claim[] {
  const { Capabilities: capabilities } = manifest;
  const claims: Claim[] = [];
  for (const pin of capabilities.Gpio ?? [])
    claims.push({ kind: 'gpio', id: String(pin), capability: 'Gpio' });
  // Named peripherals share one namespace: ISU0 as a UART in one app and as an I2C master in
  // another is the same hardware block.
  for (const capability of APP_PERIPHERAL_CAPABILITIES) {
    for (const name of capabilities[capability] ?? [])
      claims.push({ kind: 'peripheral', id: name, capability });
  }
  for (const port of capabilities.AllowedTcpServerPorts ?? []) {
    claims.push({ kind: 'tcp-port', id: String(port), capability: 'AllowedTcpServerPorts' });
  }
  return claims;
}

const claimKey = (claim: Claim) => `${claim.kind}:${claim.id}`;

/**
 * Never throws: every GPIO pin, named peripheral (Uart, I2cMaster, SpiMaster, Adc, Pwm share one
 * namespace) and TCP server port that `candidate` claims and an installed app with another
 * ComponentId already owns. An installed app with the candidate's ComponentId is the one being
 * replaced, so its claims do not count.
 */
export function findPeripheralConflicts(
  installed: readonly AppManifest[],
  candidate: AppManifest,
): PeripheralConflict[] {
  const owners = new Map<string, AppManifest>();
  for (const app of installed) {
    if (app.ComponentId === candidate.ComponentId) continue;
    for (const claim of claimsOf(app)) if (!owners.has(claimKey(claim))) owners.set(claimKey(claim), app);
  }
  const conflicts: PeripheralConflict[] = [];
  for (const claim of claimsOf(candidate)) {
    const owner = owners.get(claimKey(claim));
    if (owner !== undefined) {
      conflicts.push({ ...claim, owner: { name: owner.Name, componentId: owner.ComponentId } });
    }
  }
  return conflicts;
}

const KIND_NAMES: Record<PeripheralConflict['kind'], string> = {
  gpio: 'GPIO pin',
  peripheral: 'peripheral',
  'tcp-port': 'TCP server port',
};

/**
 * Install-time check (ARCHITECTURE.md: a peripheral belongs to one app; conflicts between apps
 * are refused at install): refuses `candidate` with APP_PERIPHERAL_OWNED if it claims anything
 * another installed app owns, naming each peripheral and its owner. Reinstalling a component
 * replaces its own claims.
 */
export function assertPeripheralsFree(installed: readonly AppManifest[], candidate: AppManifest): void {
  const conflicts = findPeripheralConflicts(installed, candidate);
  if (conflicts.length === 0) return;
  const listed = conflicts
    .slice(0, MAX_CONFLICTS_LISTED)
    .map(
      (conflict) =>
        `${KIND_NAMES[conflict.kind]} ${conflict.id} (${conflict.capability}) is owned by app ` +
        `"${conflict.owner.name}" (component ${conflict.owner.componentId})`,
    );
  const more = conflicts.length - listed.length;
  if (more > 0) listed.push(`and ${more} more`);
  throw new AppError(
    'APP_PERIPHERAL_OWNED',
    `app "${candidate.Name}" (component ${candidate.ComponentId}) cannot be installed: ${listed.join('; ')}`,
  );
}
