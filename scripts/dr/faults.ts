/** The faults the DR drill and tests inject: a standby that stops receiving, a primary killed with -9. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { dbUrl, type Instance } from "../stack/instance.ts";
import { poll } from "../stack/processes.ts";
import { connectDr } from "./runbook.ts";

/**
 * Stops the standby's WAL receiver (primary_conninfo '' and a reload): from here on, what the
 * primary commits is acknowledged to its clients and never reaches the standby.
 */
export async function stopWalReceiver(standby: Instance): Promise<void> {
  const sql = connectDr(dbUrl(standby));
  try {
    await sql`alter system set primary_conninfo = ''`;
    await sql`select pg_reload_conf()`;
    const stopped = await poll(10_000, async () => (await sql`select count(*)::int as n from pg_stat_wal_receiver`)[0].n === 0);
    if (!stopped) throw new Error("the standby's WAL receiver did not stop");
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** kill -9 of the postmaster (its children notice and exit; nothing is flushed or shut down). */
export function killPrimary(i: Instance): Date {
  const pid = Number(readFileSync(join(i.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  process.kill(pid, "SIGKILL");
  return new Date();
}
