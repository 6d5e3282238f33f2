// talisman 1.1.4 ships no types; the one function the screening uses.
declare module "talisman/metrics/jaro-winkler.js" {
  const jaroWinkler: (a: string, b: string) => number;
  export default jaroWinkler;
}
