/**
 * Typed errors of the library. Only the CLI turns them into messages and exit codes:
 * InputError -> exit 2, everything else -> exit 1.
 */

/** One problem in the user's input, located by a path such as `clients[0].vpc.cidr`. */
export interface InputIssue {
  /** Path inside the file or the flag name (`--role-arn`). Empty for the whole document. */
  path: string;
  /** What is wrong and what would be valid. */
  message: string;
  /** 1-based line and column in the source file, when known. */
  line?: number;
  column?: number;
}

/** Invalid input: a bad file, a bad flag. Exit code 2. */
export class InputError extends Error {
  override readonly name = "InputError";
  constructor(
    message: string,
    readonly issues: InputIssue[] = [],
    readonly file?: string,
  ) {
    super(message);
  }
}

/** An operation that failed for a reason outside the input (AWS said no, a file could not be written). Exit code 1. */
export class OperationError extends Error {
  override readonly name = "OperationError";
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
