/** `npm run stack -- up` for the fault suite's stack, without the type check (stack.ts operatorUp). */
import { loadInstance } from "../stack/instance.ts";
import { up } from "../stack/manager.ts";

const inst = loadInstance(process.argv[2] ?? "");
if (!inst) throw new Error(`no stack named ${process.argv[2]}`);
await up(inst, () => {}, { skipCheck: true });
