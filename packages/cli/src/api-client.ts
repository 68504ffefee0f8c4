import { readFile } from 'node:fs/promises';
import { isErrorCode, OrbisError } from '@orbis/protocol';
import { CliError } from './errors.ts';

/**
 * The CLI's HTTP client for the service API. Errors from the service keep their catalogued
 * code, so scripts see the same codes the API returns.
 */
export class ApiError extends OrbisError {}

export interface ApiConnection {
  /** e.g. http://127.0.0.1:8440 (ORBIS_API_URL). */
  readonly api: string;
  /** A file holding a bearer token (session or API token); ORBIS_TOKEN is used when absent. */
  readonly tokenFile?: string;
}

export interface ApiClient {
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
}

async function readToken(connection: ApiConnection): Promise<string> {
  if (connection.tokenFile !== undefined) {
    try {
      return (await readFile(connection.tokenFile, 'utf8')).trim();
    } catch (cause) {
      throw new CliError('CLI_FILE_UNREADABLE', `cannot read ${connection.tokenFile}`, { cause });
    }
  }
  const token = process.env['ORBIS_TOKEN'];
  if (token === undefined || token === '') {
    throw new CliError('CLI_TOKEN_MISSING', 'give --token-file FILE or set ORBIS_TOKEN');
  }
  return token;
}

export async function createApiClient(connection: ApiConnection): Promise<ApiClient> {
  const token = await readToken(connection);
  const base = connection.api.replace(/\/+$/, '');
  return {
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      let response: Response;
      try {
        response = await fetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (cause) {
        throw new CliError('CLI_SERVICE_UNREACHABLE', `cannot reach ${base}`, { cause });
      }
      const text = await response.text();
      const json = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
      if (!response.ok) {
        const code = json['code'];
        const message = typeof json['message'] === 'string' ? json['message'] : response.statusText;
        throw new ApiError(isErrorCode(code) ? code : 'INTERNAL', message);
      }
      return json as T;
    },
  };
}

export function apiOptionDefaults(): { api: string } {
  return { api: process.env['ORBIS_API_URL'] ?? 'http://127.0.0.1:8440' };
}
