/**
 * Per-tenant roles, as in Azure Sphere: a Reader can look, a Contributor can also change, an
 * Administrator can also delete and manage people, tokens and device capabilities.
 */
export const ROLES = ['Administrator', 'Contributor', 'Reader'] as const;
export type Role = (typeof ROLES)[number];

export type Action = 'read' | 'change' | 'delete' | 'administer';

const ALLOWED: Readonly<Record<Role, readonly Action[]>> = {
  Reader: ['read'],
  Contributor: ['read', 'change'],
  Administrator: ['read', 'change', 'delete', 'administer'],
};

export function roleAllows(role: Role, action: Action): boolean {
  return ALLOWED[role].includes(action);
}

/** Never throws. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
