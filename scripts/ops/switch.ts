/** `ops stop`, `ops resume`, `ops mode`: the kill switch and the autonomy mode (charter §11). */
import { check, parse, reasonOf } from "./args.ts";
import type { Command } from "./command.ts";
import { operator, withReason } from "./db.ts";
import { notFound } from "./errors.ts";
import { setFlag, storedValue } from "./flag-store.ts";
import { z } from "zod";

/** The charter's emergency procedures, verbatim: the CLI runs exactly what psql would. */
export const STOP_SQL = "update feature_flags_v2 set value=true where key='autonomy.emergencyStop' and scope='global';";
export const RESUME_SQL = "update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global';";

/** Stopping must never wait for typing: a reason is recorded either way. */
const defaultReason = (what: string) => `${what} via ops CLI by ${operator()}`;

function killSwitch(halt: boolean): Command {
  const name = halt ? "stop" : "resume";
  return async ({ sql, out, argv }) => {
    const { values } = parse(argv, { reason: { type: "string" } }, { usage: `ops ${name} [--reason "..."] [--json]` });
    const reason = reasonOf(values.reason, defaultReason(halt ? "emergency stop" : "resume"));
    const { previous, updated } = await withReason(sql, reason, async (tx) => {
      const previous = await storedValue(tx, "autonomy.emergencyStop", "global");
      const r = await tx.unsafe(halt ? STOP_SQL : RESUME_SQL);
      return { previous, updated: r.count };
    });
    if (updated === 0) {
      throw notFound("autonomy.emergencyStop has no global row: apply the charter's switchboard SQL (supabase/seed.sql)");
    }
    const data = { halted: halt, previous, changed: previous !== halt, reason, statement: halt ? STOP_SQL : RESUME_SQL };
    out.result(data, halt
      ? `HALTED: autonomy.emergencyStop = true${data.changed ? "" : " (it already was)"}; every autonomous write is refused from the next statement on.\n` +
        `reason: ${reason}\nresume with: npm run ops -- resume`
      : `RUNNING: autonomy.emergencyStop = false${data.changed ? "" : " (it already was)"}.\nreason: ${reason}`);
  };
}

export const stop = killSwitch(true);
export const resume = killSwitch(false);

const MODES = { full: "FULL", degrade: "DEGRADE", "step-down": "STEP-DOWN" } as const;
const MEANING: Record<string, string> = {
  FULL: "agents act with full authority within the budgets",
  DEGRADE: "writes continue; DLQ replays are refused; lower budget.agents.maxConcurrent to downshift",
  "STEP-DOWN": "machine principals are read-only; replays wait for a human's approval",
};

export const MODE_USAGE = 'ops mode full|degrade|step-down [--reason "..."] [--json]';

export const mode: Command = async ({ sql, out, argv }) => {
  const { values, positionals } = parse(argv, { reason: { type: "string" } }, { min: 1, max: 1, usage: MODE_USAGE });
  const target = MODES[check(z.enum(["full", "degrade", "step-down"]), positionals[0].toLowerCase(), "mode")];
  const reason = reasonOf(values.reason, defaultReason(`mode ${target}`));
  const change = await withReason(sql, reason, (tx) => setFlag(tx, "autonomy.mode", "global", target, reason));
  out.result({ mode: target, previous: change.previous, changed: change.changed, reason },
    `autonomy.mode = ${target}${change.changed ? ` (was ${change.previous})` : " (unchanged)"}: ${MEANING[target]}.\nreason: ${reason}`);
};
