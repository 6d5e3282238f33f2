import type { BenchStack } from "./stack.ts";

/** What every measure gets from bench/run.ts. */
export interface BenchContext {
  stack: BenchStack;
  quick: boolean;
  /** Seconds per load step / per fixed-rate run. */
  stepSeconds: number;
  fixedSeconds: number;
  /** A real price_one request/quote/event payload (JSON), for the pgbench script. */
  sample: { request: string; quote: string; payload: string };
}

export const functionUrl = (ctx: BenchContext, path: string) => `${ctx.stack.apiUrl}/functions/v1/${path}`;
