import { CommandLineError, parseCommandLine } from './command-line';

const SYNTH_LIKE = {
  options: {
    env: { type: 'string', multiple: true },
    verbose: { type: 'boolean', default: false },
    outdir: { type: 'string' },
  },
} as const;

const EXPLAIN_LIKE = { options: { 'oom-floor': { type: 'string' }, json: { type: 'boolean' } } } as const;

function mistake(argv: string[], config: Parameters<typeof parseCommandLine>[1] = SYNTH_LIKE): string {
  try {
    parseCommandLine(argv, config);
  } catch (error) {
    expect(error).toBeInstanceOf(CommandLineError);
    return (error as Error).message;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

test('options and their values, as util.parseArgs reads them, defaults included', () => {
  expect(parseCommandLine(['--env', 'lab', '--env=prod-eks', '--outdir', 'out'], SYNTH_LIKE)).toEqual({
    values: { env: ['lab', 'prod-eks'], verbose: false, outdir: 'out' },
    positionals: [],
  });
});

test('--help or -h asks for the usage, whatever else is on the line, mistakes included', () => {
  expect(parseCommandLine(['--help'], SYNTH_LIKE)).toBe('help');
  expect(parseCommandLine(['-h'], SYNTH_LIKE)).toBe('help');
  expect(parseCommandLine(['--out', 'x', '--help'], SYNTH_LIKE)).toBe('help');
});

test('an unknown option is named, with the list of options', () => {
  expect(mistake(['--out', '/tmp/x'])).toBe(
    'unknown option "--out"; the options are --env, --verbose, --outdir, --help',
  );
  expect(mistake(['-v'])).toBe('unknown option "-v"; the options are --env, --verbose, --outdir, --help');
  expect(mistake(['--bogus'], { options: {} })).toBe(
    'unknown option "--bogus"; the command takes no options but --help',
  );
});

test('a negative number is a value: --oom-floor -999 reads as --oom-floor=-999', () => {
  expect(parseCommandLine(['--oom-floor', '-999', '--json'], EXPLAIN_LIKE)).toEqual({
    values: { 'oom-floor': '-999', json: true },
    positionals: [],
  });
  expect(parseCommandLine(['--oom-floor=-999'], EXPLAIN_LIKE)).toEqual({
    values: { 'oom-floor': '-999' },
    positionals: [],
  });
  expect(parseCommandLine(['--oom-floor', '-0.5'], EXPLAIN_LIKE)).toEqual({
    values: { 'oom-floor': '-0.5' },
    positionals: [],
  });
});

test('an option without its value is refused, and so is one whose next word is another option', () => {
  expect(mistake(['--outdir'])).toBe('--outdir needs a value');
  expect(mistake(['--outdir='])).toBe('--outdir needs a value');
  expect(mistake(['--outdir', '--verbose'])).toBe(
    '--outdir needs a value, but "--verbose" follows it (a value starting with "-" is written --outdir=--verbose)',
  );
  expect(mistake(['--oom-floor', '-x'], EXPLAIN_LIKE)).toContain('--oom-floor needs a value, but "-x" follows it');
});

test('a switch given a value, a single option given twice, and an argument where none is taken are refused', () => {
  expect(mistake(['--verbose=3'])).toBe('--verbose takes no value (got "3")');
  expect(mistake(['--outdir', 'a', '--outdir', 'b'])).toBe('--outdir is given twice; give it once');
  expect(mistake(['lab'])).toBe(
    'unexpected argument "lab": the command takes options only; the options are --env, --verbose, --outdir, --help',
  );
});

test('arguments are taken where the command allows them, after -- too', () => {
  const config = { options: {}, allowPositionals: true } as const;
  expect(parseCommandLine(['HEAD~1'], config)).toEqual({ values: {}, positionals: ['HEAD~1'] });
  expect(parseCommandLine(['--', '-odd-ref'], config)).toEqual({ values: {}, positionals: ['-odd-ref'] });
});
