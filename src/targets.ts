// Target names → connection URLs, resolved on the worker from its own
// environment. Workflow input carries only the name.
import { FailureType, nonRetryable } from './errors';

export type TargetResolver = (name: string) => string;

export function envVarForTarget(name: string): string {
  return name === 'default' ? 'CUTOVER_TARGET_URL' : `CUTOVER_TARGET_URL_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Resolves from an explicit map first (an in-process worker given a URL), then the environment. */
export function targetResolver(explicit: Record<string, string> = {}, env: NodeJS.ProcessEnv = process.env): TargetResolver {
  return (name: string) => {
    if (/^postgres(ql)?:\/\//i.test(name)) {
      throw nonRetryable(
        FailureType.BadInput,
        'the workflow input "target" must be a connection name (e.g. "default"), not a URL: URLs carry passwords and workflow input is stored in plain text. Set CUTOVER_TARGET_URL (or CUTOVER_TARGET_URL_<NAME>) on the worker and pass the name.',
      );
    }
    const url = explicit[name] ?? env[envVarForTarget(name)];
    if (!url) {
      throw nonRetryable(
        FailureType.TargetUnknown,
        `target "${name}" is not configured on this worker: set ${envVarForTarget(name)} in the worker's environment and restart it, then start a new run (or pass an existing target name).`,
      );
    }
    return url;
  };
}
