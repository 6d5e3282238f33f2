/**
 * npm run schema:dump: rewrites supabase/schema.sql from a throwaway stack (fresh cluster on
 * free ports, migrations applied with the Supabase CLI, no seed data in the dump), then
 * removes the stack. Commit the result with the migrations that changed it.
 */
import { writeFileSync } from "node:fs";
import { relative } from "node:path";
import { StackError } from "./stack/errors.ts";
import { ensureInstance, PROJECT_ROOT } from "./stack/instance.ts";
import { destroy, up } from "./stack/manager.ts";
import { freePort } from "./stack/processes.ts";
import { dumpSchema, SCHEMA_FILE } from "./stack/schema.ts";

async function main(): Promise<number> {
  const inst = await ensureInstance(`schema-${process.pid}`, { api: await freePort(), db: await freePort() }, true);
  try {
    await up(inst, (s) => console.log(`[stack] ${s}`), { skipCheck: true, runtime: false });
    const text = dumpSchema(inst);
    writeFileSync(SCHEMA_FILE, text);
    console.log(`wrote ${relative(PROJECT_ROOT, SCHEMA_FILE)} (${text.split("\n").length} lines)`);
    return 0;
  } finally {
    await destroy(inst, () => {});
  }
}

main().then((code) => process.exit(code), (err) => {
  console.error(err instanceof StackError ? err.message : err);
  process.exit(1);
});
