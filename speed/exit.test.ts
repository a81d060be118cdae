import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * speed/exit.ts ends a command once its output is written, instead of letting Node wait for V8's
 * background work. It must end it at once (the speed-up), yet never cut output short, skip exit
 * handlers or lose the exit code. Each program below writes to a pipe, as a test or a CI log reads
 * it, then calls exitWhenWritten.
 */

const ROOT = path.resolve(__dirname, '..');

/** Runs a program that writes `bytes` to stdout, sets exit code 3, keeps a timer alive and calls exitWhenWritten. */
function writeThenEnd(bytes: number, timerMs: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-to-prod-exit-'));
  try {
    const entry = path.join(dir, 'writes-then-ends.ts');
    fs.writeFileSync(
      entry,
      [
        `import { exitWhenWritten } from ${JSON.stringify(path.join(ROOT, 'speed', 'exit'))};`,
        "process.on('exit', () => process.stderr.write('exit handler ran\\n'));",
        `process.stdout.write('x'.repeat(${bytes}));`,
        'process.exitCode = 3;',
        `setTimeout(() => process.stderr.write('still running\\n'), ${timerMs});`,
        'exitWhenWritten();',
        '',
      ].join('\n'),
    );
    const started = Date.now();
    const result = spawnSync(process.execPath, [path.join(ROOT, 'speed', 'tsrun.js'), entry], {
      cwd: dir,
      env: { ...process.env, LAB_TO_PROD_TSRUN_CACHE: 'off' },
      encoding: 'utf8',
      maxBuffer: 2 * bytes + 1024,
    });
    return { ...result, took: Date.now() - started };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a command whose output is written ends at once, with its exit handlers and exit code', () => {
  const result = writeThenEnd(1000, 5000);
  expect(result.stdout).toBe('x'.repeat(1000));
  // It did not wait for the timer, as it would not wait for V8's background work.
  expect(result.stderr).toBe('exit handler ran\n');
  expect(result.status).toBe(3);
  expect(result.took).toBeLessThan(4000);
});

test('output still queued for the pipe is never cut short: the process ends as usual', () => {
  const bytes = 4 * 1024 * 1024;
  const result = writeThenEnd(bytes, 300);
  expect(result.stdout.length).toBe(bytes);
  expect(result.stderr).toContain('exit handler ran\n');
  expect(result.status).toBe(3);
});
