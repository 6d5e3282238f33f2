import { spawnSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { stackEnv } from "../../helpers/env.ts";
import { PROJECT_ROOT } from "../../../scripts/stack/instance.ts";
import { sql } from "../../helpers/db.ts";

afterAll(() => sql.end());

describe("DR drill", () => {
  it("restores the latest dump into a scratch database, verifies it, drops it and records the run", async () => {
    const r = spawnSync(`${PROJECT_ROOT}/node_modules/.bin/tsx`, ["scripts/dr-drill.ts"], {
      cwd: PROJECT_ROOT, env: { ...process.env, SUPABASE_DB_URL: stackEnv.dbUrl }, encoding: "utf8",
    });
    expect(r.stdout).toContain("PASSED");
    expect(r.status).toBe(0);
    const [run] = await sql`select ok, detail from ops.schedule_runs where job = 'dr-drill' order by id desc limit 1`;
    expect(run.ok).toBe(true);
    expect(run.detail.audit_ok).toBe(true);
    const left = await sql`select datname from pg_database where datname like 'dr_drill_%'`;
    expect(left).toEqual([]);
  });
});
