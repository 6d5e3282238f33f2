/** The load smoke npm test runs against its throwaway stack (which has no relay worker). */
import { runPortalLoad } from "./portal.ts";

const ok = await runPortalLoad({ name: "smoke", healthRate: 50, priceRate: 20, seconds: 5, relay: true });
process.exit(ok ? 0 : 1);
