import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Test support for the crash tests: runs a child script that reports its progress one line at
 * a time on stdout, and SIGKILLs it a chosen time after the first line that `killAfter`
 * accepts: a crash at an instant the child cannot prepare for (no handler runs on SIGKILL).
 */
export interface KillChildOptions {
  /** The child script (a .ts file Node runs directly). */
  readonly script: string;
  readonly env: Readonly<Record<string, string>>;
  /** Whether this progress line starts the countdown to the kill. */
  readonly killAfter: (line: string) => boolean;
  /** Milliseconds from that line to the SIGKILL. */
  readonly delayMs: number;
  /** The child is killed anyway if no line started the countdown within this many ms. */
  readonly timeoutMs: number;
}

export interface KilledChild {
  /** Every complete line the child wrote to stdout before it died. */
  readonly lines: readonly string[];
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly stderr: string;
  /** Whether the countdown started (false: killed by the timeout, or exited by itself). */
  readonly countdownStarted: boolean;
}

export function runAndKill(options: KillChildOptions): Promise<KilledChild> {
  const child = spawn(process.execPath, [options.script], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let countdownStarted = false;
  const kill = () => child.kill('SIGKILL');
  const timeout = setTimeout(kill, options.timeoutMs);
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    if (!countdownStarted && options.killAfter(line)) {
      countdownStarted = true;
      clearTimeout(timeout);
      setTimeout(kill, options.delayMs);
    }
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // 'close', not 'exit': by then stdout is drained, so `lines` holds all the child wrote.
    child.once('close', (code, signal) => {
      clearTimeout(timeout);
      resolve({ lines, signal, code, stderr, countdownStarted });
    });
  });
}

/** The numbers of the progress lines `<word> <n>`, in the order written. */
export function progressOf(lines: readonly string[], word: string): number[] {
  return lines.flatMap((line) => {
    const match = new RegExp(`^${word} (\\d+)$`).exec(line);
    return match === null ? [] : [Number(match[1])];
  });
}

/**
 * Asserts the kill landed mid-run: the child was SIGKILLed (it did not end by itself), after
 * the step that starts the countdown and before it printed `done`.
 */
export function assertKilledMidway(child: KilledChild, step: string): void {
  assert.equal(
    child.signal,
    'SIGKILL',
    `the child ended by itself: ${child.lines.at(-1) ?? ''} ${child.stderr}`,
  );
  assert.ok(child.countdownStarted, `the child never reached ${step}: ${child.stderr}`);
  assert.ok(!child.lines.includes('done'), 'the child finished before the kill');
}
