import { startService } from '@orbis/service';
import { CliError } from '../errors.ts';
import { DEFAULT_LAB_DEVICES, MAX_LAB_DEVICES, startLabFleet, type LabFleet } from '../lab-fleet.ts';
import { formatTable, printJson, type Output } from '../output.ts';

/**
 * `orbis start` (what `npm start` runs): the whole system for a lab on one machine. Today that
 * is the security service (API and device listener) with embedded storage and a simulated
 * fleet of devices (lab-fleet.ts); each issue that builds a part adds it here (the portal). `orbis serve` starts the service
 * alone, for production, and refuses to generate a master key.
 */
const PARTS = [
  {
    part: 'security service API: people, tenants, roles, API tokens, registry, claims, groups, OS releases, audit',
    state: 'running',
    issue: 3,
  },
  { part: 'device listener: attestation and 24-hour certificates over mTLS', state: 'running', issue: 3 },
  {
    part: 'service PKI: platform root, issuing intermediate, tenant CAs with rotation, update CA',
    state: 'running',
    issue: 3,
  },
  { part: 'crypto core, image packages', state: 'built', issue: 2 },
  {
    part: 'device runtime: emulated and TPM 2.0 roots of trust, secure and measured boot, attestation and renewal',
    state: 'built',
    issue: 4,
  },
  { part: 'apps and the sandbox', state: 'planned', issue: 5 },
  {
    part: 'TUF roots of the image repository and the director (made at first start, written into devices)',
    state: 'running',
    issue: 4,
  },
  { part: 'security renewal: TUF metadata, rollouts, update agent', state: 'planned', issue: 6 },
  { part: 'failure reports, threats, portal', state: 'planned', issue: 7 },
] as const;

/** How many simulated devices a lab runs: ORBIS_LAB_DEVICES (0 for none). */
function labDeviceCount(env: NodeJS.ProcessEnv): number {
  const text = env['ORBIS_LAB_DEVICES'];
  if (text === undefined || text === '') return DEFAULT_LAB_DEVICES;
  const count = Number(text);
  if (!/^\d+$/.test(text) || count > MAX_LAB_DEVICES) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `ORBIS_LAB_DEVICES must be a whole number from 0 to ${MAX_LAB_DEVICES}`,
    );
  }
  return count;
}

export interface StartCommandOptions {
  readonly json: boolean;
  readonly lab: boolean;
}

export async function startCommand(options: StartCommandOptions, out: Output): Promise<void> {
  const deviceCount = options.lab ? labDeviceCount(process.env) : 0;
  const service = await startService({ env: process.env, cwd: process.cwd(), lab: options.lab });
  let fleet: LabFleet | undefined;
  try {
    fleet =
      deviceCount === 0
        ? undefined
        : await startLabFleet(service, {
            count: deviceCount,
            onEvent: (deviceId, event) => {
              // People see the fleet's troubles; --json keeps standard output to the summary.
              if (!options.json && (event.kind === 'retrying' || event.kind === 'stopped')) {
                process.stderr.write(`lab device ${deviceId.slice(0, 12)}…: ${event.kind} (${event.code})\n`);
              }
            },
          });
  } catch (error) {
    await service.stop();
    throw error;
  }
  // Listening for Ctrl-C before the summary is printed: whoever reads it may stop us at once.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const summary = {
    api: service.apiUrl,
    devices: service.deviceUrl,
    openapi: `${service.apiUrl}/api/v1/openapi.json`,
    dataDir: service.config.dataDir,
    database: service.config.databaseUrl.startsWith('postgres') ? 'postgresql' : 'sqlite',
    masterKey: service.masterKeyOrigin,
    setupToken: service.setupToken ?? null,
    fleet:
      fleet === undefined
        ? null
        : {
            devices: fleet.deviceIds.length,
            tenantId: fleet.tenantId,
            directory: fleet.directory,
            setAside: fleet.setAside,
          },
    parts: PARTS,
  };
  if (options.json) printJson(out, summary);
  else {
    out.write(`Orbis security service: ${summary.api} (OpenAPI at ${summary.openapi})\n`);
    out.write(`device listener: ${summary.devices} (mTLS; devices pin the platform root)\n`);
    out.write(`data: ${summary.dataDir} (${summary.database}); master key: ${summary.masterKey}\n`);
    if (fleet !== undefined) {
      out.write(
        `simulated fleet: ${fleet.deviceIds.length} devices in ${fleet.directory}, claimed by lab tenant ${fleet.tenantId}; ` +
          `each boots, attests and renews like \`orbis device run\` (ORBIS_LAB_DEVICES sets how many)\n`,
      );
      for (const aside of fleet.setAside) {
        out.write(`set aside a device directory of an earlier version and made it again: ${aside}\n`);
      }
    }
    if (service.setupToken !== undefined) {
      out.write(
        `\nFirst start. Create the first platform operator within this run with this one-time token:\n` +
          `  curl -X POST ${summary.api}/api/v1/setup -H 'content-type: application/json' \\\n` +
          `    -d '{"setupToken":"${service.setupToken}","email":"you@example.com","password":"<12+ characters>"}'\n`,
      );
    }
    out.write(
      `\n${formatTable(
        ['part', 'state', 'issue'],
        PARTS.map((p) => [p.part, p.state, `#${p.issue}`]),
      )}`,
    );
    out.write('\nCtrl-C stops it.\n');
  }
  await stopped;
  await fleet?.stop();
  await service.stop();
}
