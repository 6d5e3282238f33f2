// Types for the untyped `zipcodes` npm package (tsc only; Deno reads it as `any`, and
// geo.ts annotates what it uses).
declare module "zipcodes" {
  const zipcodes: {
    codes: Record<string, { zip: string; latitude: number; longitude: number; city: string; state: string; country: string }>;
  };
  export default zipcodes;
}
