// ESM view of the package types (export =) for Deno, which loads src/index.js as a local module.
import postgres = require("./index.d.ts");
export default postgres;
