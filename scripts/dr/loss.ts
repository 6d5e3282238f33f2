/**
 * The loss window of a promotion, from the old primary's own WAL (the local stack has its
 * folder): every transaction that committed after the standby's replay position is what the
 * primary acknowledged and the standby never had. pg_waldump reads it; heap records name the
 * tables each lost transaction wrote. With synchronous replication those commits were written
 * on the old primary but never acknowledged (each waited for the standby's flush): they are
 * reported, not lost.
 */
import { join } from "node:path";
import type { Instance } from "../stack/instance.ts";
import { pgCmd, pgCmdOrFail } from "../stack/postgres.ts";
import type { Sql } from "./runbook.ts";

export interface LossWindow {
  /** Transactions committed on the old primary after fromLsn. */
  commits: number;
  /** WAL bytes from fromLsn to the old primary's last record. */
  bytes: number;
  /** Lost transactions per table they wrote (a transaction counts once per table). */
  byTable: Record<string, number>;
  fromLsn: string;
  endLsn: string;
}

const lsnValue = (lsn: string) => {
  const [hi, lo] = lsn.split("/");
  return parseInt(hi, 16) * 2 ** 32 + parseInt(lo, 16);
};

/** The timeline the cluster's WAL is on (pg_waldump reads timeline 1 unless told). */
function timeline(c: Instance): string {
  const control = pgCmdOrFail(c, "pg_controldata", "pg_controldata", ["-D", c.dataDir]);
  return /Latest checkpoint's TimeLineID:\s+(\d+)/.exec(control)?.[1] ?? "1";
}

/** Parses pg_waldump output: committed xids and the relfilenodes their heap records touched. */
export function parseWaldump(out: string): { committed: Set<string>; rels: Map<string, Set<string>>; lastLsn: string | null } {
  const committed = new Set<string>();
  const rels = new Map<string, Set<string>>();
  let lastLsn: string | null = null;
  for (const line of out.split("\n")) {
    const m = /^rmgr: (\S+)\s+len \(rec\/tot\):\s+\d+\/\s*\d+, tx:\s+(\d+), lsn: ([0-9A-F]+\/[0-9A-F]+),.*desc: (\S+)(.*)$/.exec(line);
    if (!m) continue;
    const [, rmgr, xid, lsn, op, rest] = m;
    lastLsn = lsn;
    if (rmgr === "Transaction" && op === "COMMIT") committed.add(xid);
    if ((rmgr === "Heap" || rmgr === "Heap2") && xid !== "0") {
      for (const r of rest.matchAll(/rel \d+\/\d+\/(\d+)/g)) {
        if (!rels.has(xid)) rels.set(xid, new Set());
        rels.get(xid)!.add(r[1]);
      }
    }
  }
  return { committed, rels, lastLsn };
}

/** The loss window: oldPrimary must be stopped (fenced); sql (the new primary) names the tables. */
export async function lossWindow(oldPrimary: Instance, fromLsn: string, sql: Sql): Promise<LossWindow> {
  const r = pgCmd(oldPrimary, "pg_waldump", ["-p", join(oldPrimary.dataDir, "pg_wal"), "-t", timeline(oldPrimary), "-s", fromLsn]);
  // pg_waldump ends with an error at the end of the WAL (a torn or zeroed record): expected.
  const { committed, rels, lastLsn } = parseWaldump(r.stdout);
  const perRel = new Map<string, number>();
  for (const xid of committed) for (const rel of rels.get(xid) ?? []) perRel.set(rel, (perRel.get(rel) ?? 0) + 1);
  const byTable: Record<string, number> = {};
  if (perRel.size > 0) {
    const names = await sql`select n::text as node, coalesce((select format('%I.%I', c.relnamespace::regnamespace, c.relname) from pg_class c
                                                       where c.oid = pg_filenode_relation(0, n)), 'relfilenode ' || n) as name
                            from unnest(${[...perRel.keys()]}::oid[]) n`;
    for (const { node, name } of names) byTable[name] = (byTable[name] ?? 0) + perRel.get(node)!;
  }
  const endLsn = lastLsn ?? fromLsn;
  return { commits: committed.size, bytes: Math.max(0, lsnValue(endLsn) - lsnValue(fromLsn)), byTable, fromLsn, endLsn };
}

export interface Synchronous {
  /** Every commit the old primary acknowledged had been flushed by this standby first. */
  synchronous: boolean;
  synchronous_standby_names: string;
  synchronous_commit: string;
  /** Role or database settings that let some sessions commit without waiting (off / local). */
  overrides: string[];
}

/**
 * Whether the old primary (stopped: `postgres -C` reads its configuration files) waited for
 * this standby before acknowledging a commit: synchronous_standby_names names it ('*' or its
 * application_name, bare or in a FIRST / ANY list), synchronous_commit waits for it (on,
 * remote_write, remote_apply), and no role or database opts out. A session's own
 * `set synchronous_commit = local` is not visible here (PostgreSQL lets it opt out).
 */
export async function synchronousReplication(oldPrimary: Instance, standby: Sql): Promise<Synchronous> {
  const setting = (name: string) => pgCmdOrFail(oldPrimary, `postgres -C ${name}`, "postgres", ["-D", oldPrimary.dataDir, "-C", name]).trim();
  const names = setting("synchronous_standby_names");
  const commit = setting("synchronous_commit");
  const [me] = await standby`select coalesce(substring(current_setting('primary_conninfo') from 'application_name=''?([^'' ]+)'),
                                            nullif(current_setting('cluster_name'), ''), 'walreceiver') as name,
                                   array(select s from pg_db_role_setting, unnest(setconfig) s
                                         where s ~ '^synchronous_commit=(off|local)$') as overrides`;
  const listed = names.replace(/^\s*(FIRST|ANY)\s+\d+\s*\(|\)\s*$/gi, "").replace(/^\s*\d+\s*\(/, "")
    .split(",").map((n) => n.trim().replace(/^"(.*)"$/, "$1").toLowerCase()).filter(Boolean);
  const synchronous = (listed.includes("*") || listed.includes(String(me.name).toLowerCase()))
    && ["on", "remote_write", "remote_apply"].includes(commit) && me.overrides.length === 0;
  return { synchronous, synchronous_standby_names: names, synchronous_commit: commit, overrides: me.overrides };
}
