import { serveDocuments } from "../../../packages/shared/documents/http.ts";
import { loadConfig } from "../../../packages/shared/config/env.ts";

/** Document upload and download for every portal (packages/shared/documents/http.ts). */
export const { handler } = serveDocuments(loadConfig((k) => Deno.env.get(k), ["jwt"]));
