import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { APP_MANIFEST_FILE_NAME } from '@orbis/protocol';
import { validateAppManifest } from '@orbis/verify';
import { CliError } from '../errors.ts';
import { formatTable, printJson, type Output } from '../output.ts';

/** The template every new app starts from; orbis-app.d.ts there is the app API's typings. */
const TEMPLATE = new URL('../../templates/app/', import.meta.url);

/** What `orbis app new` writes: the path in the app, the template file, and what it is for. */
const TEMPLATE_FILES = [
  ['src/main.ts', 'src/main.ts', 'the app: blinks the LED on GPIO 8 and logs'],
  ['orbis-app.d.ts', 'orbis-app.d.ts', 'typings of the app libraries (the global `orbis`)'],
  ['tsconfig.json', 'tsconfig.json', 'type checking: `tsc -p .` (noEmit, strict)'],
  // npm leaves out files named .gitignore when it packs, so the template holds it without the dot.
  ['.gitignore', 'gitignore', 'keeps dist/ and packages out of git'],
] as const;

/** `orbis app new NAME`: a directory NAME with a manifest (a fresh component ID) and a small app. */
export async function newAppCommand(target: string, options: { json: boolean }, out: Output): Promise<void> {
  const dir = resolve(target);
  const template = JSON.parse(await readFile(new URL(APP_MANIFEST_FILE_NAME, TEMPLATE), 'utf8')) as object;
  // Checked before anything is written: a NAME that is not a valid app name leaves no directory.
  const manifest = validateAppManifest({ ...template, Name: basename(dir), ComponentId: randomUUID() });
  try {
    await mkdir(dirname(dir), { recursive: true });
    await mkdir(dir);
  } catch (cause) {
    throw new CliError('CLI_FILE_EXISTS', `${target} exists or cannot be created`, { cause });
  }
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, APP_MANIFEST_FILE_NAME), `${JSON.stringify(manifest, null, 2)}\n`, {
    flag: 'wx',
  });
  for (const [path, source] of TEMPLATE_FILES) {
    await writeFile(join(dir, path), await readFile(new URL(source, TEMPLATE)), { flag: 'wx' });
  }
  const files = [
    { path: APP_MANIFEST_FILE_NAME, what: 'name, component ID, entry point and capabilities (Gpio 8)' },
    ...TEMPLATE_FILES.map(([path, , what]) => ({ path, what })),
  ];
  if (options.json) {
    printJson(out, { dir: target, name: manifest.Name, componentId: manifest.ComponentId, files });
    return;
  }
  out.write(`created app "${manifest.Name}" (component ${manifest.ComponentId}) in ${target}\n\n`);
  out.write(
    formatTable(
      ['file', 'what'],
      files.map(({ path, what }) => [path, what]),
    ),
  );
  out.write(
    `\nnext: orbis app build ${target} && orbis app pack ${target} --key KEY --tenant TENANT_ID --out ${manifest.Name}.oimg\n`,
  );
}
