// autocannon ships no types; load/run.ts is type-checked once the gate imports it. Only
// what load/run.ts uses is declared.
declare module "autocannon" {
  interface Instance {
    on(event: "response", fn: (client: unknown, status: number, bytes: number, ms: number) => void): Instance;
    on(event: "reqError", fn: (err: Error) => void): Instance;
  }
  function autocannon(options: Record<string, unknown>, done: (err: Error | null, result: unknown) => void): Instance;
  export default autocannon;
}
