/**
 * Follows a replay's delivery (app_private.replay_progress) until every event is delivered,
 * more than 20% failed (charter §6: stop), or the wait runs out. A progress bar on a
 * terminal, plain lines otherwise, nothing extra with --json.
 */
import cliProgress from "cli-progress";
import type { Sql } from "./db.ts";
import { OpsError } from "./errors.ts";
import type { Output } from "./output.ts";

export interface Progress {
  total: number;
  delivered: number;
  failed: number;
  pending: number;
  failRatio: number;
  shouldStop: boolean;
}

async function readProgress(sql: Sql, requestId: string): Promise<Progress> {
  const [p] = await sql`
    select total, delivered, failed, pending, fail_ratio::float8, should_stop
    from app_private.replay_progress(${requestId})`;
  return { total: p.total, delivered: p.delivered, failed: p.failed, pending: p.pending, failRatio: p.fail_ratio, shouldStop: p.should_stop };
}

const settled = (p: Progress) => p.shouldStop || p.pending === 0;
const line = (id: string, p: Progress) => `replay ${id}: ${p.delivered}/${p.total} delivered, ${p.failed} failed, ${p.pending} pending`;

/** Polls until settled or `waitSeconds` pass; raises replay_failing when it should stop. */
export async function followReplay(sql: Sql, out: Output, requestId: string, waitSeconds: number, pollMs = 500): Promise<Progress & { complete: boolean }> {
  const deadline = Date.now() + waitSeconds * 1000;
  let p = await readProgress(sql, requestId);
  const bar = out.interactive && !settled(p) && waitSeconds > 0
    ? new cliProgress.SingleBar({
      format: "replay |{bar}| {value}/{total} delivered | {failed} failed | {pending} pending",
      hideCursor: true,
    }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(p.total, p.delivered, { failed: p.failed, pending: p.pending });
  let last = "";
  try {
    while (true) {
      if (!bar && line(requestId, p) !== last) out.note(last = line(requestId, p));
      bar?.update(p.delivered, { failed: p.failed, pending: p.pending });
      if (settled(p) || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, pollMs));
      p = await readProgress(sql, requestId);
    }
  } finally {
    bar?.stop();
  }
  if (p.shouldStop) {
    throw new OpsError(`more than 20% of the replayed events failed (${p.failed}/${p.total}): stop and investigate`, 1, "replay_failing", { requestId, ...p });
  }
  return { ...p, complete: p.pending === 0 };
}
