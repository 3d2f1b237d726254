// Process exit codes, documented in the README. Scripts branch on them.
export const ExitCode = {
  Success: 0,
  Failed: 1,
  BadInput: 2,
  ValidationFailed: 3,
  RejectsPresent: 4,
  Aborted: 5,
  Unreachable: 6,
  Interrupted: 130,
} as const;

/** Maps a workflow failure type to an exit code. */
export function exitCodeForFailure(type: string | undefined): number {
  switch (type) {
    case 'BadInput':
    case 'SourceMissing':
    case 'SourceNotSqlite':
    case 'SourceCorrupt':
    case 'TargetUnknown':
    case 'TargetNotEmpty':
    case 'RunInProgress':
      return ExitCode.BadInput;
    case 'ValidationFailed':
      return ExitCode.ValidationFailed;
    case 'RejectsPresent':
      return ExitCode.RejectsPresent;
    case 'Aborted':
      return ExitCode.Aborted;
    case 'TargetUnreachable':
      return ExitCode.Unreachable;
    default:
      return ExitCode.Failed;
  }
}

/** An error the CLI reports as one paragraph (no stack unless --verbose). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
