/**
 * Ends a command whose work is done and written. Node waits, before it exits, for V8's background
 * work to finish (optimising compiles, heap marking), which the output no longer needs: about 15 ms
 * of a one-environment synth, more after a large one. Output still queued for stdout or stderr (a
 * pipe is asynchronous on some platforms) is never cut short: then the process ends as usual.
 * Exit handlers still run, and the exit code is process.exitCode. What this relies on in Node, and
 * its test: speed/README.md.
 */
export function exitWhenWritten(): void {
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) {
    process.exit();
  }
}
