// autocannon ships no types, and the gate's import of load/run.ts brings that file under
// tsc. Loose on purpose: it only gives the callbacks a contextual type, whoever calls it.
declare module "autocannon" {
  function autocannon(options: Record<string, any>, done?: (err: any, result: any) => void): any;
  export default autocannon;
}
