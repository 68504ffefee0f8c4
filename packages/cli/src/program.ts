import { Command, type OptionValues } from '@commander-js/extra-typings';
import type { Output } from './output.ts';

/**
 * The `orbis` command tree. Each command is a plain async function in commands/, loaded only
 * when it runs so `orbis --help` stays fast.
 */
export function createProgram(out: Output): Command {
  const program = new Command('orbis')
    .description('Orbis: build, sign and run highly secure connected devices')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('start')
    .description(
      'start Orbis for a lab: the security service with embedded storage (see the table it prints)',
    )
    .option('--json', 'machine-readable summary', false)
    .action(async (options) =>
      (await import('./commands/start.ts')).startCommand({ ...options, lab: true }, out),
    );
  program
    .command('serve')
    .description('start the security service for production: configuration from ORBIS_* variables only')
    .option('--json', 'machine-readable summary', false)
    .action(async (options) =>
      (await import('./commands/start.ts')).startCommand({ ...options, lab: false }, out),
    );

  const keys = program.command('keys').description('signing keys for developers');
  keys
    .command('generate')
    .description('create a P-256 signing key (PKCS#8 PEM, mode 0600) and KEY.pub beside it')
    .requiredOption('--out <file>', 'where to write the private key')
    .option('--json', 'machine-readable output', false)
    .action(async (options) => (await import('./commands/keys.ts')).generateKeyCommand(options, out));

  const dataDir = [
    '--data-dir <dir>',
    'the service data directory (ORBIS_DATA_DIR)',
    process.env['ORBIS_DATA_DIR'] ?? '.orbis',
  ] as const;
  keys
    .command('list')
    .description("list the service KeyStore's keys, marking those that should be offline")
    .option(...dataDir)
    .option('--json', 'machine-readable output', false)
    .action(async (options) => (await import('./commands/key-store.ts')).listKeysCommand(options, out));
  keys
    .command('export')
    .description('write a KeyStore signing key as PKCS#8 PEM (mode 0600), to move it to an HSM or offline')
    .argument('<name>', 'key name, as `orbis keys list` shows it')
    .requiredOption('--out <file>', 'where to write it (never overwritten)')
    .option('--passphrase-file <file>', 'encrypt the export with the passphrase in this file')
    .option(...dataDir)
    .option('--json', 'machine-readable output', false)
    .action(async (name, options) =>
      (await import('./commands/key-store.ts')).exportKeyCommand(name, options, out),
    );
  keys
    .command('remove')
    .description('delete a key from the KeyStore (after exporting it): what takes a key offline')
    .argument('<name>', 'key name')
    .option('--confirm <name>', 'repeat the key name to confirm')
    .option(...dataDir)
    .option('--json', 'machine-readable output', false)
    .action(async (name, options) =>
      (await import('./commands/key-store.ts')).removeKeyCommand(name, options, out),
    );

  const apiOptions = <Args extends unknown[], Opts extends OptionValues>(command: Command<Args, Opts>) =>
    command
      .option(
        '--api <url>',
        'service API URL (ORBIS_API_URL)',
        process.env['ORBIS_API_URL'] ?? 'http://127.0.0.1:8440',
      )
      .option('--token-file <file>', 'file holding a bearer token (or set ORBIS_TOKEN)')
      .option('--json', 'machine-readable output', false);
  const tenantOptions = <Args extends unknown[], Opts extends OptionValues>(command: Command<Args, Opts>) =>
    apiOptions(command.requiredOption('--tenant <id>', 'tenant ID'));
  const device = program
    .command('device')
    .description(
      "devices: a tenant's, through the service API; and device directories to manufacture and run",
    );
  tenantOptions(
    device
      .command('claim')
      .description('claim registered devices, permanently (one, or a file of IDs in batches)'),
  )
    .option('--device <id>', 'one device ID')
    .option('--file <file>', 'a file with one device ID per line')
    .action(async (options) => (await import('./commands/device.ts')).claimCommand(options, out));
  tenantOptions(device.command('list').description("list the tenant's devices")).action(async (options) =>
    (await import('./commands/device.ts')).listCommand(options, out),
  );
  device
    .command('manufacture')
    .description(
      'make device directories (a root of trust, trust anchors, the OS release in both slots) and the signed list for the registry',
    )
    .requiredOption('--out <dir>', 'where the device directories and device-list.json go')
    .option('--count <n>', 'how many devices', '1')
    .requiredOption('--platform-root <file>', "PEM of the platform root (the service's TLS is pinned to it)")
    .requiredOption(
      '--os-release-key <file...>',
      'public key (PEM) of the OS-release signing key; repeatable',
    )
    .requiredOption('--capability-key <file>', 'public key (PEM) of the service capability key')
    .requiredOption(
      '--image-repository-root <file>',
      "the image repository's TUF root.json (`orbis updates roots` writes it)",
    )
    .requiredOption(
      '--director-root <file>',
      "the director's TUF root.json (`orbis updates roots` writes it)",
    )
    .requiredOption('--images <dir>', 'directory with bootloader.img, security-monitor.img and os.img')
    .requiredOption('--manufacturer-key <file>', "the manufacturer's signing key (PKCS#8 PEM)")
    .requiredOption('--manufacturer-id <id>', 'the manufacturer ID the registry knows')
    .option('--model <name>', 'model name in the list', 'orbis-devkit')
    .option('--rot <backend>', 'root of trust: emulated, or tpm (TPM 2.0)', 'emulated')
    .option(
      '--tpm <tcti>',
      'with --rot tpm: the TPM, e.g. device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=2321 (default: each device gets its own swtpm)',
    )
    .option('--json', 'machine-readable output', false)
    .action(async (options) =>
      (await import('./commands/device-runtime.ts')).manufactureCommand(options, out),
    );
  device
    .command('run')
    .description('boot a device directory and keep its certificate fresh until interrupted')
    .argument('<dir>', 'a device directory made by `orbis device manufacture`')
    .requiredOption('--service <url>', "the service's device listener, e.g. https://127.0.0.1:8441")
    .option('--tpm <tcti>', 'the TPM of a TPM-backed device that was made on a named TPM')
    .option('--json', 'one JSON object per event', false)
    .action(async (dir: string, options) =>
      (await import('./commands/device-runtime.ts')).runCommand(dir, options, out),
    );
  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    tenantOptions(
      device.command(verb).description(`${verb} a device`).argument('<device-id>', 'device ID'),
    ).action(async (deviceId: string, options) =>
      (await import('./commands/device.ts')).setEnabledCommand(deviceId, enabled, options, out),
    );
  }

  const tenant = program.command('tenant').description('a tenant, through the service API');
  tenantOptions(
    tenant
      .command('download-ca')
      .description(
        "write the tenant's CA anchors (PEM) for relying parties: they accept its devices and no other's",
      ),
  )
    .requiredOption('--out <file>', 'where to write the PEM bundle (never overwritten)')
    .action(async (options) => (await import('./commands/tenant.ts')).downloadCaCommand(options, out));

  const updates = program
    .command('updates')
    .description('security renewal: the TUF repositories, through the service API');
  apiOptions(
    updates
      .command('roots')
      .description(
        "write the image repository's and the director's TUF root.json, which `orbis device manufacture` puts into devices",
      ),
  )
    .requiredOption(
      '--out <dir>',
      'where to write image-repository-root.json and director-root.json (never overwritten)',
    )
    .action(async (options) => (await import('./commands/updates.ts')).rootsCommand(options, out));

  const image = program.command('image').description('image packages (docs/formats/image-package.md)');
  image
    .command('pack')
    .description('sign a payload and its header into an image package')
    .requiredOption('--header <file>', 'image header, JSON (kind, componentId, imageId, name, version, ...)')
    .requiredOption('--payload <file>', 'the image payload')
    .requiredOption('--key <file...>', 'signing key(s), PKCS#8 PEM')
    .requiredOption('--out <file>', 'where to write the package (never overwritten)')
    .option('--json', 'machine-readable output', false)
    .action(async (options) => (await import('./commands/image.ts')).packCommand(options, out));
  image
    .command('inspect')
    .description('show what a package says, after a strict structural check (no signature trusted)')
    .argument('<file>', 'image package')
    .option('--json', 'machine-readable output', false)
    .action(async (file, options) =>
      (await import('./commands/image.ts')).inspectCommand(file, options, out),
    );
  image
    .command('verify')
    .description('check a package strictly and require every signature to be by one of the given keys')
    .argument('<file>', 'image package')
    .requiredOption('--key <file...>', 'trusted public key(s), PEM or DER')
    .option('--json', 'machine-readable output', false)
    .action(async (file, options) => (await import('./commands/image.ts')).verifyCommand(file, options, out));

  const app = program.command('app').description('device apps: create, bundle and sign (docs/apps.md)');
  app
    .command('new')
    .description(
      'create an app: a manifest with a fresh component ID, a small src/main.ts, typings and tsconfig',
    )
    .argument('<name>', 'the directory to create; its last segment is the app name')
    .option('--json', 'machine-readable output', false)
    .action(async (name: string, options) =>
      (await import('./commands/app-new.ts')).newAppCommand(name, options, out),
    );
  app
    .command('build')
    .description("validate the manifest and bundle the entry point's source into dist/ (one script, esbuild)")
    .argument('[dir]', 'the app directory', '.')
    .option('--json', 'machine-readable output', false)
    .action(async (dir: string, options) =>
      (await import('./commands/app-build.ts')).buildAppCommand(dir, options, out),
    );
  app
    .command('pack')
    .description('validate the manifest and sign it with the bundle into an image package of kind app')
    .argument('[dir]', 'the app directory', '.')
    .requiredOption('--key <file>', 'signing key, PKCS#8 PEM (a developer key or the tenant app-signing key)')
    .requiredOption('--out <file>', 'where to write the package (never overwritten)')
    .option('--tenant <id>', 'the tenant the app belongs to (required)')
    .option('--version <version>', 'version shown to people, MAJOR.MINOR.PATCH[-tag]', '1.0.0')
    .option(
      '--security-version <n>',
      'what anti-rollback counters compare; raise it to retire older images',
      '1',
    )
    .option('--json', 'machine-readable output', false)
    .action(async (dir: string, options) =>
      (await import('./commands/app-pack.ts')).packAppCommand(dir, options, out),
    );

  return program;
}
