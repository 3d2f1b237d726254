import { Context } from '@temporalio/activity';

/**
 * Runs `fn` (one long step: an index build, a FK validation, a table's plan confirmed) heartbeating
 * every 5 s, so that a worker that dies mid-step is noticed within the short heartbeat timeout of
 * ddlStep (workflows/profiles.ts) instead of the 10 minutes of longStep.
 */
export async function heartbeatWhile<T>(details: unknown, fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat(details);
  const alive = setInterval(() => ctx.heartbeat(details), 5000);
  try {
    return await fn();
  } finally {
    clearInterval(alive);
  }
}
