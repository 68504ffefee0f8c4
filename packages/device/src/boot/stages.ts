/**
 * The boot chain's stages, in the order they run, and the two A/B slots each stage has. Each
 * stage verifies and measures the next before handing over to it, so the order is part of what
 * the measurement register attests.
 */
export const BOOT_STAGES = ['bootloader', 'security-monitor', 'os'] as const;
export type BootStage = (typeof BOOT_STAGES)[number];

/** Two slots per stage, so an update writes the inactive one and a bad image never bricks a device. */
export const BOOT_SLOTS = ['a', 'b'] as const;
export type BootSlot = (typeof BOOT_SLOTS)[number];

export function isBootStage(value: unknown): value is BootStage {
  return (BOOT_STAGES as readonly unknown[]).includes(value);
}

export function isBootSlot(value: unknown): value is BootSlot {
  return (BOOT_SLOTS as readonly unknown[]).includes(value);
}

/** The slot a stage falls back to when `slot` does not verify. */
export function otherSlot(slot: BootSlot): BootSlot {
  return slot === 'a' ? 'b' : 'a';
}
