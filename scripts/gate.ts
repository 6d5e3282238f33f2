/** Post-deploy gate entry: npm run gate -- [options]. See scripts/gate/options.ts (GATE_USAGE). */
import { runGate } from "./gate/run.ts";

process.exit(await runGate(process.argv.slice(2)));
