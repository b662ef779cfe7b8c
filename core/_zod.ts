/**
 * zod as procconn loads it: `gen/zod.js`, the members of the zod package that procconn uses in
 * one module (written by `scripts/bundle_zod.mjs` when the packages are installed), typed by the
 * package itself. Importing the package directly loads about a hundred modules, every locale
 * among them.
 *
 * @module
 */
// @ts-types="zod"
import * as z from "../gen/zod.js";

export { z };
