/** Ops CLI entry: npm run ops -- <command> [--json]. See scripts/ops/cli.ts and `npm run ops -- help`. */
import { run } from "./ops/cli.ts";

process.exit(await run(process.argv.slice(2)));
