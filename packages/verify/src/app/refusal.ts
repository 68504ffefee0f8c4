import { AppError, type AppErrorCode } from '../errors.ts';

/** How many characters of a refused string or field name a message quotes. */
export const MAX_QUOTED_CHARS = 48;

function truncate(text: string): string {
  return text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
}

/**
 * A short, bounded description of any value for an error message. Never throws and never
 * walks into the value, so a hostile or cyclic object costs nothing to describe.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(truncate(value));
  if (Array.isArray(value)) return `an array of ${value.length} entries`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  return `a ${typeof value}`;
}

/**
 * A JSON pointer (RFC 6901) from segments, with long member names cut short; the whole document
 * is shown as `/`, as schema errors elsewhere in Orbis show it.
 */
export function pointer(...segments: readonly (string | number)[]): string {
  const path = segments
    .map((segment) => `/${truncate(String(segment)).replaceAll('~', '~0').replaceAll('/', '~1')}`)
    .join('');
  return path === '' ? '/' : path;
}

/** The refusal of the value at `path`, saying what the field must be and what it was. */
export function refuse(code: AppErrorCode, path: string, expected: string, value: unknown): AppError {
  return new AppError(code, `${path}: ${expected}; got ${describeValue(value)}`);
}
