/** Local stack manager: npm run stack -- up|down|status|reset [--name NAME] [--json]. */
import { StackError } from "./stack/errors.ts";
import { DEFAULT_PORTS, ensureInstance, loadInstance } from "./stack/instance.ts";
import { freePort } from "./stack/processes.ts";
import { destroy, down, formatStatus, status, up } from "./stack/manager.ts";
import { ensureStandby } from "./stack/standby.ts";

const args = process.argv.slice(2);
const cmd = args[0];
const name = args.includes("--name") ? args[args.indexOf("--name") + 1] : "default";
const log = (s: string) => console.error(`[stack] ${s}`);
// --json: stdout carries only the status as JSON (progress goes to stderr), for every command.
const json = args.includes("--json");
const print = (s: ReturnType<typeof status>) => console.log(json ? JSON.stringify(s, null, 2) : formatStatus(s));
// The default stack takes Supabase's local ports; any other named stack gets free ones.
const ports = async () => name === "default" ? DEFAULT_PORTS : { api: await freePort(), db: await freePort() };

async function main(): Promise<number> {
  switch (cmd) {
    case "up": {
      const inst = await ensureInstance(name, await ports());
      await up(inst, log);
      // --standby: a streaming standby on its own port (issue 19; `npm run ops -- dr status`)
      if (args.includes("--standby")) log(`standby streaming on 127.0.0.1:${(await ensureStandby(inst, log)).dbPort}`);
      print(status(inst));
      return 0;
    }
    case "down": {
      const inst = loadInstance(name);
      if (inst) await down(inst, log);
      return 0;
    }
    case "status": {
      const inst = loadInstance(name);
      if (!inst) {
        console.error(`No stack '${name}' here. Start one with: npm run stack -- up`);
        return 2;
      }
      const s = status(inst);
      print(s);
      return s.database === "running" && s.runtime === "running" ? 0 : 3;
    }
    case "reset": {
      const inst = loadInstance(name);
      if (inst) await destroy(inst, log);
      const fresh = await ensureInstance(name, await ports());
      await up(fresh, log);
      print(status(fresh));
      return 0;
    }
    default:
      console.error("usage: npm run stack -- up [--standby]|down|status|reset [--name NAME] [--json]");
      return 64;
  }
}

main().then((code) => process.exit(code), (err) => {
  if (err instanceof StackError) {
    console.error(`[stack] ${err.message}`);
    process.exit(err.exitCode);
  }
  console.error(err);
  process.exit(1);
});
