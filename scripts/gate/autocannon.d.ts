// autocannon ships no types, and the gate's import of load/run.ts brings that file under
// tsc. Loose on purpose: callbacks get a contextual type and `autocannon.Options` names
// the options object, for every caller in the project.
declare module "autocannon" {
  namespace autocannon {
    type Options = Record<string, any>;
  }
  function autocannon(options: autocannon.Options, done?: (err: any, result: any) => void): any;
  export = autocannon;
}
