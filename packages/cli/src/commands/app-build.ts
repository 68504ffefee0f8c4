import { access, mkdir, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { encodeHex, sha256 } from '@orbis/crypto';
import type { Message, Plugin } from 'esbuild';
import { CliError } from '../errors.ts';
import { formatTable, printJson, type Output } from '../output.ts';
import { loadAppManifest } from './app-files.ts';

/** The sandbox evaluates one script (QuickJS evalCode): ES2020, no imports, no Node.js. */
const TARGET = 'es2020';
/** How many of esbuild's errors a CLI_APP_BUILD_FAILED message lists. */
const MAX_ERRORS_LISTED = 20;

const NODE_BUILTINS = new Set(builtinModules);

/** Refuses every Node.js built-in by name, so the message says why rather than "could not resolve". */
const denyNodeBuiltins: Plugin = {
  name: 'orbis-no-node-builtins',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, ({ path }) => {
      const bare = path.startsWith('node:') ? path.slice(5) : path;
      if (
        !path.startsWith('node:') &&
        !NODE_BUILTINS.has(bare) &&
        !NODE_BUILTINS.has(bare.split('/')[0] ?? '')
      ) {
        return undefined;
      }
      return {
        errors: [
          {
            text: `apps cannot import the Node.js module "${path}": an app sees only the global \`orbis\` (orbis-app.d.ts)`,
          },
        ],
      };
    });
  },
};

/** The source of an entry point `x/main.js`: src/x/main.ts, else src/x/main.js. */
async function findSource(dir: string, entryPoint: string): Promise<string> {
  const stem = join(dir, 'src', entryPoint.slice(0, -'.js'.length));
  for (const candidate of [`${stem}.ts`, `${stem}.js`]) {
    try {
      await access(candidate);
      return candidate;
    } catch {
      // Try the next one.
    }
  }
  throw new CliError(
    'CLI_FILE_UNREADABLE',
    `no ${relative(dir, stem)}.ts or .js to build the entry point from`,
  );
}

function describeMessage(message: Message): string {
  const where = message.location;
  return where === null ? message.text : `${where.file}:${where.line}:${where.column + 1}: ${message.text}`;
}

function buildFailed(cause: unknown): CliError {
  const errors = (cause as { errors?: Message[] }).errors ?? [];
  const lines = errors.slice(0, MAX_ERRORS_LISTED).map((message) => `  ${describeMessage(message)}`);
  if (errors.length > lines.length) lines.push(`  and ${errors.length - lines.length} more`);
  const summary = errors.length === 0 ? String(cause) : `${errors.length} error(s):\n${lines.join('\n')}`;
  return new CliError('CLI_APP_BUILD_FAILED', `esbuild could not bundle the app: ${summary}`, { cause });
}

/**
 * `orbis app build [DIR]`: validates the manifest, then bundles the entry point's source with
 * esbuild (ADR 0010) into DIR/dist/ENTRYPOINT as one IIFE script with no imports or exports,
 * which is what the sandbox evaluates. Types are not checked here: run `tsc -p DIR` for that.
 */
export async function buildAppCommand(
  target: string,
  options: { json: boolean },
  out: Output,
): Promise<void> {
  const dir = resolve(target);
  const manifest = await loadAppManifest(dir);
  const source = await findSource(dir, manifest.EntryPoint);
  const outfile = join(dir, 'dist', manifest.EntryPoint);
  const { build } = await import('esbuild');
  const started = performance.now();
  let contents: Uint8Array;
  try {
    const result = await build({
      entryPoints: [source],
      absWorkingDir: dir,
      outfile,
      write: false,
      bundle: true,
      format: 'iife',
      platform: 'neutral',
      target: TARGET,
      mainFields: ['module', 'main'],
      charset: 'utf8',
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [denyNodeBuiltins],
    });
    contents = result.outputFiles[0]?.contents ?? new Uint8Array(0);
  } catch (cause) {
    throw buildFailed(cause);
  }
  const milliseconds = Math.round(performance.now() - started);
  await mkdir(dirname(outfile), { recursive: true });
  await writeFile(outfile, contents);
  const result = {
    name: manifest.Name,
    source: relative(dir, source),
    out: relative(dir, outfile),
    bytes: contents.byteLength,
    sha256: encodeHex(sha256(contents)),
    milliseconds,
  };
  if (options.json) printJson(out, result);
  else
    out.write(
      formatTable(
        ['field', 'value'],
        Object.entries(result).map(([field, value]) => [field, String(value)]),
      ),
    );
}
