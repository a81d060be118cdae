/**
 * The command line of the project's commands (`npm run synth`, `explain`, `diff`, ...): Node's
 * util.parseArgs, with what it lacks for people.
 *
 * - `--help` (or `-h`) prints the command's usage and exits 0, whatever else is given.
 * - A mistake (an unknown option, an option without its value, a value given to a switch, an option
 *   given twice, an argument the command takes none of) is refused with what is wrong and the list
 *   of options, then the usage, and exit status 2: the command did nothing.
 * - A negative number is a value: `--oom-floor -999` reads as `--oom-floor=-999`. util.parseArgs
 *   alone takes `-999` for an option and refuses the pair as ambiguous.
 */
import { parseArgs, ParseArgsConfig } from 'util';

export type CommandLineOptions = NonNullable<ParseArgsConfig['options']>;

export interface CommandLineConfig {
  readonly options: CommandLineOptions;
  /** Whether the command takes arguments that are not options (`npm run diff -- <git ref>`). @default false */
  readonly allowPositionals?: boolean;
}

/** What util.parseArgs returns for this configuration: values typed by the options. */
export type CommandLineValues<C extends CommandLineConfig> = ReturnType<typeof parseArgs<C & { args: string[] }>>;

/** A command line the command cannot run with: exit status 2, nothing was done. */
export class CommandLineError extends Error {}

/** `-999`, `-0.5`, `-.5`: a value, not an option (no option of ours starts with a digit). */
const NEGATIVE_NUMBER = /^-\.?\d/;

/** The options as a reader types them, for messages: `--env, --verbose, --outdir, --help`. */
export function optionList(options: CommandLineOptions): string {
  return [...Object.keys(options), 'help'].map((name) => `--${name}`).join(', ');
}

/**
 * Reads argv against the options: 'help' when help is asked for, else util.parseArgs' result.
 * Throws a CommandLineError naming the argument at fault and listing the options.
 */
export function parseCommandLine<C extends CommandLineConfig>(
  argv: readonly string[],
  config: C,
): CommandLineValues<C> | 'help' {
  const { options } = config;
  // Read loosely first, so that every mistake gets our own message, then strictly, which cannot fail.
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  if (
    tokens.some((t) => t.kind === 'option' && (t.name === 'help' || t.name === 'h') && options[t.name] === undefined)
  ) {
    return 'help';
  }
  const allowed =
    Object.keys(options).length === 0
      ? 'the command takes no options but --help'
      : `the options are ${optionList(options)}`;
  const args: string[] = [];
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind === 'option-terminator') {
      args.push('--');
      continue;
    }
    if (token.kind === 'positional') {
      if (!config.allowPositionals) {
        throw new CommandLineError(`unexpected argument "${token.value}": the command takes options only; ${allowed}`);
      }
      args.push(token.value);
      continue;
    }
    const option = options[token.name];
    if (option === undefined) {
      throw new CommandLineError(`unknown option "${token.rawName}"; ${allowed}`);
    }
    if (seen.has(token.name) && !option.multiple) {
      throw new CommandLineError(`${token.rawName} is given twice; give it once`);
    }
    seen.add(token.name);
    if (option.type === 'boolean') {
      if (token.value !== undefined) {
        throw new CommandLineError(`${token.rawName} takes no value (got "${token.value}")`);
      }
      args.push(`--${token.name}`);
      continue;
    }
    const value = token.value;
    if (value === undefined || value === '') {
      throw new CommandLineError(`${token.rawName} needs a value`);
    }
    // Read loosely, `--outdir --verbose` takes "--verbose" for the folder; only a number may start with "-".
    if (!token.inlineValue && value.startsWith('-') && !NEGATIVE_NUMBER.test(value)) {
      throw new CommandLineError(
        `${token.rawName} needs a value, but "${value}" follows it (a value starting with "-" is written ${token.rawName}=${value})`,
      );
    }
    args.push(`--${token.name}=${value}`);
  }
  return parseArgs({ ...config, args, strict: true }) as CommandLineValues<C>;
}

/**
 * The command line of this process (process.argv after the script). Prints the usage and exits 0 on
 * --help; prints the mistake, the options and the usage and exits 2 on a mistake.
 */
export function readCommandLine<C extends CommandLineConfig>(
  command: string,
  usage: string,
  config: C,
): CommandLineValues<C> {
  let parsed: CommandLineValues<C> | 'help';
  try {
    parsed = parseCommandLine(process.argv.slice(2), config);
  } catch (error) {
    if (error instanceof CommandLineError) {
      process.stderr.write(`${command}: ${error.message}\n\n${usage.trimEnd()}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (parsed === 'help') {
    process.stdout.write(`${usage.trimEnd()}\n`);
    process.exit(0);
  }
  return parsed;
}
