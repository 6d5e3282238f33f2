/** The faults the DR drill and tests inject: a standby that stops receiving, a primary killed with -9. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { dbUrl, type Instance } from "../stack/instance.ts";
import { connectDr, sleep } from "./runbook.ts";

/**
 * Stops the standby's WAL receiver (primary_conninfo '' and a reload): from here on, what the
 * primary commits is acknowledged to its clients and never reaches the standby.
 */
export async function stopWalReceiver(standby: Instance): Promise<void> {
  const sql = connectDr(dbUrl(standby));
  try {
    await sql`alter system set primary_conninfo = ''`;
    await sql`select pg_reload_conf()`;
    for (let n = 0; n < 100; n++) {
      const [r] = await sql`select count(*)::int as n from pg_stat_wal_receiver`;
      if (r.n === 0) return;
      await sleep(100);
    }
    throw new Error("the standby's WAL receiver did not stop");
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
