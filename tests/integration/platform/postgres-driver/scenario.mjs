// The postgres.js defects of issue 12 item 1 (vendor/postgres/PATCH.md), driven against a real
// Postgres. Plain JavaScript so that Node and Deno run the same file, with the vendored
// (patched) or the npm (unpatched) package:
//   node|deno scenario.mjs <path of the package's src/index.js> begin|stale|poison|types|load <db url>
// An uncaught exception ends the process (non-zero exit, the stack on stderr): what the
// runtime suffered.
import net from "node:net";
import process from "node:process";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const [lib, scenario, url] = process.argv.slice(2);
const { default: postgres } = await import(pathToFileURL(lib).href);
/** A query's value, or the code it was refused with (a catchable failure). */
const settle = (p) => p.then((v) => v, (e) => e.code ?? String(e));
const print = (o) => console.log(JSON.stringify(o));
const options = { prepare: false, onnotice: () => {} };

if (scenario === "begin") {
  // porsager/postgres#1208: the backend of a transaction dies mid-query. postgres.js then sends
  // its own ROLLBACK on the closed connection; unpatched, that write throws in a setImmediate.
  const sql = postgres(url, { ...options, max: 2 });
  const killer = postgres(url, { ...options, max: 1 });
  let pid = null;
  const tx = settle(sql.begin(async (t) => {
    [{ pid }] = await t`select pg_backend_pid() as pid`;
    await t`select pg_sleep(10)`;
  }));
  while (pid === null) await new Promise((r) => setTimeout(r, 20));
  await killer`select pg_terminate_backend(${pid})`;
  print({ tx: await tx, after: await settle(sql`select 1 as x`.then((r) => r[0].x)) });
  // end() without a timeout never resolves once a connection closed mid-query (upstream too).
  await Promise.all([sql.end({ timeout: 1 }), killer.end()]);
} else if (scenario === "stale") {
  // Transactions in flight when Postgres shuts down (pg_ctl restart -m fast, by the test on
  // "ready"): each connection gets 57P01, then the close before the ReadyForQuery that error
  // waits for. Unpatched, a reconnected connection answers its next query with that old 57P01.
  const sql = postgres(url, { ...options, max: 2 });
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const inflight = Promise.all([1, 2].map(() => settle(sql.begin((t) => t`select pg_sleep(10)`))));
  await new Promise((r) => setTimeout(r, 200));
  console.log("ready");
  await lines.next(); // "go": Postgres is back
  const tx = await inflight;
  const next = [];
  for (const n of [1, 2, 3, 4]) next.push(await settle(sql.begin((t) => t`select ${n}::int as x`).then((r) => r[0].x)));
  print({ tx, next });
  await sql.end({ timeout: 1 });
  process.exit(0);
} else if (scenario === "poison") {
  // The sibling: the socket's close arrives while a write waits for its flush. Unpatched, the
  // cleared flush timer is never reset, so the connection never writes again (every reconnect
  // ends in CONNECT_TIMEOUT). The socket option hands us the connection's socket.
  let socket = null;
  const sql = postgres(url, {
    ...options, max: 1, connect_timeout: 1,
    socket: () => new Promise((resolve, reject) => {
      socket = net.connect(Number(new URL(url).port), "127.0.0.1", () => resolve(socket));
      socket.once("error", reject);
    }),
  });
  await sql`select 1`;
  const queued = settle(sql`select 2 as x`.then((r) => r[0].x));
  await null; // the query is written into the buffer: its flush waits for a setImmediate
  const dead = socket;
  dead.destroy();
  dead.emit("close", false); // ... and the close comes first
  const next = [];
  for (const n of [3, 4]) next.push(await settle(sql`select ${n}::int as x`.then((r) => r[0].x)));
  print({ queued: await queued, next });
  await sql.end({ timeout: 1 });
} else if (scenario === "types") {
  // A new connection fetches the array types with a query nobody awaits. The connection drops
  // during that fetch and the reconnect finds Postgres away (ECONNREFUSED): unpatched, the
  // fetch's rejection is unhandled and ends the process. Socket 1 is cut when the fetch is
  // written, socket 2 goes to a port nothing listens on, socket 3 is a good one.
  const dead = net.createServer();
  await new Promise((r) => dead.listen(0, "127.0.0.1", r));
  const deadPort = dead.address().port;
  await new Promise((r) => dead.close(r));
  let n = 0;
  const sql = postgres(url, {
    ...options, max: 1,
    socket: () => {
      const s = net.connect(++n === 2 ? deadPort : Number(new URL(url).port), "127.0.0.1");
      if (n === 1) {
        const write = s.write.bind(s);
        s.write = (chunk, ...rest) => String(chunk).includes("pg_catalog.pg_type") ? (s.destroy(), false) : write(chunk, ...rest);
      }
      return s;
    },
  });
  const first = await settle(sql`select 1 as x`.then((r) => r[0].x));
  print({ first, next: await settle(sql`select 2 as x`.then((r) => r[0].x)) });
  await sql.end({ timeout: 1 });
} else if (scenario === "load") {
  // Transactions as the runtime runs them (sql.begin, 16 callers on a pool of 4) until "stop"
  // arrives on stdin; the test restarts Postgres meanwhile. "progress <n>" every 25 commits;
  // "mark" on stdin answers "mark <n>" (what committed before the test's last restart).
  const sql = postgres(url, { ...options, max: 4 });
  let ok = 0, stop = false;
  const failed = {};
  const caller = async () => {
    while (!stop) {
      const r = await settle(sql.begin(async (t) => {
        await t`select set_config('app.reason', 'load', true)`;
        await t`select pg_sleep(0.002)`;
        return "committed";
      }));
      if (r === "committed") {
        if (++ok % 25 === 0) console.log(`progress ${ok}`);
      } else {
        failed[r] = (failed[r] ?? 0) + 1;
        await new Promise((res) => setTimeout(res, 20)); // a client's back-off
      }
    }
  };
  const callers = Array.from({ length: 16 }, caller);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line === "stop") break;
    if (line === "mark") console.log(`mark ${ok}`);
  }
  stop = true;
  await Promise.all(callers);
  print({ ok, failed, after: await settle(sql`select 1 as x`.then((r) => r[0].x)) });
  await sql.end({ timeout: 2 });
  process.exit(0); // stdin stays open
} else {
  console.error(`unknown scenario ${scenario}`);
  process.exit(2);
}
