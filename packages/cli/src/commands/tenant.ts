import { writeFile } from 'node:fs/promises';
import { OrbisError } from '@orbis/protocol';
import { assertTrustAnchor, parseCertificate } from '@orbis/verify';
import { createApiClient } from '../api-client.ts';
import { CliError } from '../errors.ts';
import { formatTable, printJson, type Output } from '../output.ts';
import type { TenantCommandOptions } from './device.ts';

/** `orbis tenant download-ca`: a tenant's anchors, for the relying parties that accept its devices. */
export interface DownloadCaOptions extends TenantCommandOptions {
  readonly out: string;
}

interface AnchorView {
  readonly pem: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly signsFrom: number;
  readonly keyId: string;
}

/** Most anchors a tenant publishes at once is two (current and next); more is not an answer to trust. */
const MAX_ANCHORS = 16;
const PEM_CERTIFICATE = /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=\n]+)\n-----END CERTIFICATE-----\n$/;

function invalid(reason: string, cause?: unknown): OrbisError {
  return new OrbisError(
    'PKI_ANCHORS_INVALID',
    `the service's answer is not the tenant's anchors: ${reason}`,
    {
      cause,
    },
  );
}

/**
 * Checks each anchor before anything is written: one PEM certificate that packages/verify
 * reads strictly as a self-signed CA (a trust anchor), so the bundle can never smuggle in a
 * leaf or an intermediate that would widen what the relying party trusts.
 */
function checkAnchors(body: unknown): AnchorView[] {
  const anchors = (body as { anchors?: unknown } | null)?.anchors;
  if (!Array.isArray(anchors) || anchors.length === 0 || anchors.length > MAX_ANCHORS) {
    throw invalid(`expected 1 to ${MAX_ANCHORS} anchors`);
  }
  return anchors.map((anchor: unknown) => {
    const view = anchor as Partial<AnchorView> | null;
    const base64 = typeof view?.pem === 'string' ? PEM_CERTIFICATE.exec(view.pem)?.[1] : undefined;
    if (base64 === undefined) throw invalid('an anchor is not one PEM certificate');
    try {
      assertTrustAnchor(parseCertificate(Buffer.from(base64.replaceAll('\n', ''), 'base64')));
    } catch (cause) {
      throw invalid('an anchor is not a self-signed CA certificate', cause);
    }
    return view as AnchorView;
  });
}

export async function downloadCaCommand(options: DownloadCaOptions, out: Output): Promise<void> {
  const client = await createApiClient(options);
  const anchors = checkAnchors(
    await client.call('GET', `/api/v1/tenants/${encodeURIComponent(options.tenant)}/ca`),
  );
  try {
    await writeFile(options.out, anchors.map((anchor) => anchor.pem).join(''), { flag: 'wx', mode: 0o644 });
  } catch (cause) {
    throw new CliError('CLI_FILE_EXISTS', `${options.out} exists or cannot be written`, { cause });
  }
  const summary = anchors.map(({ keyId, notBefore, notAfter, signsFrom }) => ({
    keyId,
    notBefore,
    notAfter,
    signsFrom,
  }));
  if (options.json) {
    printJson(out, { tenant: options.tenant, out: options.out, anchors: summary });
    return;
  }
  const date = (ms: number) => new Date(ms).toISOString();
  out.write(
    formatTable(
      ['key ID', 'valid from', 'valid until', 'signs from'],
      summary.map((anchor) => [
        anchor.keyId,
        date(anchor.notBefore),
        date(anchor.notAfter),
        date(anchor.signsFrom),
      ]),
    ),
  );
  out.write(`wrote ${anchors.length} anchor${anchors.length === 1 ? '' : 's'} to ${options.out}\n`);
}
