import type { Sql } from "./db.ts";
import { usage } from "./errors.ts";
import type { Output } from "./output.ts";

export interface Context {
  sql: Sql;
  out: Output;
  argv: string[]; // the arguments after the command (and subcommand) name
}

/** A command prints its result through ctx.out and returns its exit code (default 0). */
export type Command = (ctx: Context) => Promise<number | void>;

/** A command group (`flags get|set`): the first argument picks the subcommand. */
export function group(name: string, subcommands: Record<string, Command>): Command {
  return (ctx) => {
    const [sub, ...rest] = ctx.argv;
    const cmd = sub ? subcommands[sub] : undefined;
    if (!cmd) throw usage(`usage: ops ${name} ${Object.keys(subcommands).join("|")} ... (see ops help)`);
    ctx.out.command = `${name} ${sub}`;
    return cmd({ ...ctx, argv: rest });
  };
}
