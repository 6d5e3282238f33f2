/**
 * The local stack's streaming standby (issue 19): a second cluster on its own port, made by
 * `pg_basebackup -R -X stream -S switchyard_standby` from the primary, and the primary's WAL
 * archive it shares with the base backups. `npm run stack -- up --standby`.
 *
 * Plain Postgres tools (pg_basebackup, pg_promote, pg_rewind): pg_auto_failover and repmgr
 * are not installed here, and a two-node local stack needs no monitor or daemon; the README
 * (Disaster recovery) says why.
 *
 * A cluster is an Instance with its own dataDir/socketDir/dbPort (everything else shared), so
 * postgres.ts drives both. .stack/<name>/dr.json records the standby and the folders; a
 * cutover swaps the primary and standby (state.json and dr.json).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runOrFail } from "./exec.ts";
import { StackError } from "./errors.ts";
import { dbUrl, type Instance } from "./instance.ts";
import { clusterExists, isRunning, pgCmdOrFail, psql, removeCluster, sqlValue, startCluster, stopCluster } from "./postgres.ts";
import { freePort } from "./processes.ts";

export const STANDBY_SLOT = "switchyard_standby";

interface ClusterRef {
  dataDir: string;
  socketDir: string;
  dbPort: number;
}

export interface DrState {
  standby: ClusterRef | null;
  archiveDir: string;
  backupsDir: string;
}

const drFile = (i: Instance) => join(i.stateDir, "dr.json");
const stateFile = (i: Instance) => join(i.stateDir, "state.json");

export const asCluster = (i: Instance, c: ClusterRef): Instance => ({ ...i, ...c });
const refOf = (i: Instance): ClusterRef => ({ dataDir: i.dataDir, socketDir: i.socketDir, dbPort: i.dbPort });

export function loadDr(i: Instance): DrState | null {
  return existsSync(drFile(i)) ? (JSON.parse(readFileSync(drFile(i), "utf8")) as DrState) : null;
}

function saveDr(i: Instance, s: DrState): void {
  writeFileSync(drFile(i), JSON.stringify(s, null, 2), { mode: 0o600 });
}

/** The folders next to the first primary's (the unprivileged server user can write there). */
function drStateFor(i: Instance): DrState {
  const root = join(i.dataDir, "..");
  return loadDr(i) ?? { standby: null, archiveDir: `${root}-wal-archive`, backupsDir: `${root}-backups` };
}

/** The standby as an Instance (null: none configured). */
export function standbyOf(i: Instance): Instance | null {
  const s = loadDr(i)?.standby;
  return s ? asCluster(i, s) : null;
}

function ownedDir(i: Instance, dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (i.osUser) runOrFail("chown", "chown", ["-R", `${i.osUser}:${i.osUser}`, dir]);
  chmodSync(dir, 0o700);
}

/** Data checksums (pg_rewind needs them): on at initdb; a cluster made before gets them offline. */
export function ensureChecksums(i: Instance, log: (s: string) => void): void {
  const control = pgCmdOrFail(i, "pg_controldata", "pg_controldata", ["-D", i.dataDir]);
  if (!/Data page checksum version:\s+0\b/.test(control)) return;
  log("enabling data checksums (pg_checksums, offline)");
  const was = isRunning(i);
  stopCluster(i);
  pgCmdOrFail(i, "pg_checksums --enable", "pg_checksums", ["--enable", "-D", i.dataDir]);
  if (was) startCluster(i);
}

/** WAL archiving to the DR archive folder (archive_mode needs a restart the first time). */
export function ensureArchiving(i: Instance, log: (s: string) => void): DrState {
  const s = drStateFor(i);
  ownedDir(i, s.archiveDir);
  ownedDir(i, s.backupsDir);
  saveDr(i, s);
  // A promoted standby may archive a segment the old primary archived already: the same
  // bytes are success, different ones a failure (never overwrite the archive).
  const dst = `'${s.archiveDir}/%f'`;
  const command = `if test -f ${dst}; then cmp -s '%p' ${dst}; else cp '%p' ${dst}; fi`;
  if (sqlValue(i, "show archive_mode") === "on" && sqlValue(i, "show archive_command") === command) return s;
  log(`archiving WAL to ${s.archiveDir}`);
  psql(i, ["-c", "alter system set archive_mode = on", "-c", `alter system set archive_command = '${command.replaceAll("'", "''")}'`]);
  stopCluster(i);
  startCluster(i);
  return s;
}

/** pg_basebackup of the primary into dataDir, as a standby streaming through the slot. */
export function cloneStandby(primary: Instance, target: Instance): void {
  psql(primary, ["-c", `select pg_create_physical_replication_slot('${STANDBY_SLOT}')
    where not exists (select 1 from pg_replication_slots where slot_name = '${STANDBY_SLOT}')`]);
  ownedDir(target, join(target.dataDir, ".."));
  ownedDir(target, target.socketDir);
  rmSync(target.dataDir, { recursive: true, force: true });
  pgCmdOrFail(target, "pg_basebackup", "pg_basebackup", [
    "-d", dbUrl(primary), "-D", target.dataDir, "-R", "-X", "stream", "-S", STANDBY_SLOT, "-c", "fast",
  ]);
  configureStandby(target);
}

/**
 * The standby's own port and socket (later lines win) and its slot. pg_rewind copies the
 * source's configuration files, so fail-back sets them again; the slot goes into
 * postgresql.auto.conf, which overrides postgresql.conf.
 */
export function configureStandby(target: Instance): void {
  const append = (file: string, lines: string) => {
    const f = join(target.dataDir, file);
    writeFileSync(f, `${readFileSync(f, "utf8")}\n${lines}\n`);
  };
  append("postgresql.conf", `# switchyard standby\nport = ${target.dbPort}\nunix_socket_directories = '${target.socketDir}'`);
  append("postgresql.auto.conf", `primary_slot_name = '${STANDBY_SLOT}'`);
}

/** Makes (first time) and starts the standby; returns it. */
export async function ensureStandby(i: Instance, log: (s: string) => void): Promise<Instance> {
  ensureChecksums(i, log);
  const s = ensureArchiving(i, log);
  if (!s.standby) {
    const root = `${join(i.dataDir, "..")}-standby`;
    s.standby = { dataDir: join(root, "data"), socketDir: join(root, "run"), dbPort: await freePort() };
    saveDr(i, s);
  }
  const sb = asCluster(i, s.standby);
  if (!clusterExists(sb)) {
    log(`creating the standby in ${sb.dataDir} (pg_basebackup, slot ${STANDBY_SLOT})`);
    cloneStandby(i, sb);
  }
  if (!isRunning(sb)) {
    log(`starting the standby on 127.0.0.1:${sb.dbPort}`);
    startCluster(sb);
  }
  if (sqlValue(sb, "select pg_is_in_recovery()") !== "t") throw new StackError(`the standby on port ${sb.dbPort} is not in recovery`);
  return sb;
}

/** After a cutover: the promoted standby is the primary, the old primary the (stopped) standby. */
export function swapPrimary(i: Instance): Instance {
  const s = loadDr(i);
  if (!s?.standby) throw new StackError("no standby to swap with");
  const promoted = asCluster(i, s.standby);
  saveDr(i, { ...s, standby: refOf(i) });
  writeFileSync(stateFile(promoted), JSON.stringify(promoted, null, 2), { mode: 0o600 });
  return promoted;
}

export function stopStandby(i: Instance): void {
  const sb = standbyOf(i);
  if (sb) stopCluster(sb);
}

/** The standby cluster, the archive and the backups (a destroyed stack leaves nothing). */
export function removeDr(i: Instance): void {
  const s = loadDr(i);
  if (!s) return;
  if (s.standby) removeCluster(asCluster(i, s.standby));
  rmSync(s.archiveDir, { recursive: true, force: true });
  rmSync(s.backupsDir, { recursive: true, force: true });
  rmSync(drFile(i), { force: true });
}
