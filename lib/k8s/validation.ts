/**
 * Errors for bad input, in the shape of the Kubernetes API's own field errors
 * (`spec.replicas: Invalid value: -1: must be greater than or equal to 0`), prefixed with the
 * construct path so the reader knows which line of TypeScript to open.
 */

/**
 * The kinds of field error, worded as the Kubernetes API words them (apimachinery's field.ErrorType),
 * plus the strict decoder's "unknown field".
 */
export type FieldErrorType =
  'Invalid value' | 'Unsupported value' | 'Required value' | 'Duplicate value' | 'unknown field';

/** One problem with one field. */
export interface FieldProblem {
  /** Where the value was given: a construct path (`lab/web`) or an environment (`environment "lab"`). */
  readonly where: string;
  /** The field, as a path: `scale.web.limits.memory`. */
  readonly field: string;
  /** The value that was given. */
  readonly value: unknown;
  /** What would have been accepted. */
  readonly allowed: string;
  /** @default 'Invalid value' */
  readonly type?: FieldErrorType;
}

export function describeProblem(p: FieldProblem): string {
  const type = p.type ?? 'Invalid value';
  // The value as a whole (no field path) reads `environment (no name): Invalid value: null: ...`.
  const where = p.field === '' ? p.where : `${p.where}: ${p.field}`;
  // A missing value has no value to show: `spec.selector: Required value: ...`, as the API says it.
  if (type === 'Required value') {
    return `${where}: ${type}: ${p.allowed}`;
  }
  return `${where}: ${type}: ${JSON.stringify(p.value)}: ${p.allowed}`;
}

/** Thrown at construction time when props or an environment do not validate. */
export class ValidationError extends Error {
  public readonly problems: readonly FieldProblem[];

  constructor(problems: readonly FieldProblem[]) {
    super(problems.map(describeProblem).join('\n'));
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

/**
 * Collects the problems of one construct or environment, so that a user sees all of them at once,
 * then throws them together.
 */
export class Problems {
  private readonly found: FieldProblem[] = [];

  constructor(private readonly where: string) {}

  /** Records a problem unless `ok` holds. Returns `ok`, so checks can be chained. */
  public check(ok: boolean, field: string, value: unknown, allowed: string, type?: FieldErrorType): boolean {
    if (!ok) {
      this.found.push({ where: this.where, field, value, allowed, ...(type === undefined ? {} : { type }) });
    }
    return ok;
  }

  /** The problems recorded so far, in order. */
  public get problems(): readonly FieldProblem[] {
    return this.found;
  }

  public throwIfAny(): void {
    if (this.found.length > 0) {
      throw new ValidationError(this.found);
    }
  }
}

/**
 * An exception thrown by a construct's own code (not a validation: a bug, or a value no check caught),
 * named by the construct path so the reader knows which file to open. The original is its `cause`;
 * `npm run synth -- --verbose` prints its stack.
 */
export class ConstructError extends Error {
  constructor(
    public readonly constructPath: string,
    cause: unknown,
  ) {
    super(`${constructPath}: ${errorText(cause)}`, { cause });
    this.name = 'ConstructError';
  }
}

/** An error as one line of text: `TypeError: Cannot read ...`, or the message alone for a plain Error. */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
}

/** Runs a construct's code, turning an exception into a ConstructError naming `constructPath`. */
export function inConstruct<T>(constructPath: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof ValidationError || error instanceof ConstructError) {
      throw error; // already names where
    }
    throw new ConstructError(constructPath, error);
  }
}
