// Copies the built client (dist/*.js, from `npm run build`) to
// server/console/otc/, where otc-server embeds it for its developer's
// console (server/src/console.rs). The copy is committed, so the server
// builds on a clean clone without Node; the source map comment at the end
// of each file is left out (the maps are not served).
//
//   node scripts/console-copy.mjs          write the copy (and remove files no longer built)
//   node scripts/console-copy.mjs --check  exit 1, naming the files, when the copy is stale
//
// After adding or removing a module, list it in ASSETS of server/src/console.rs
// too (a unit test there compares the list with the directory).

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "dist");
const target = join(here, "..", "..", "..", "server", "console", "otc");
const check = process.argv.includes("--check");

if (!existsSync(join(dist, "index.js"))) {
  console.error(`console-copy: no ${join(dist, "index.js")}; run npm run build first`);
  process.exit(1);
}

/** A built file as the console serves it. */
function served(text) {
  return text.replace(/\n\/\/# sourceMappingURL=[^\n]*\n?$/, "\n");
}

const want = new Map(
  readdirSync(dist)
    .filter((f) => f.endsWith(".js"))
    .sort()
    .map((f) => [f, served(readFileSync(join(dist, f), "utf8"))]),
);
const have = existsSync(target) ? readdirSync(target).filter((f) => !f.startsWith(".")) : [];

const stale = [];
for (const [f, text] of want) {
  const path = join(target, f);
  if (!existsSync(path) || readFileSync(path, "utf8") !== text) stale.push(f);
}
const extra = have.filter((f) => !want.has(f));

if (check) {
  if (stale.length || extra.length) {
    console.error(
      `console-copy: server/console/otc/ is not the built client (differs: ${stale.join(", ") || "none"}; ` +
        `not built any more: ${extra.join(", ") || "none"}); run: node clients/js/scripts/console-copy.mjs, ` +
        "and commit the result",
    );
    process.exit(1);
  }
  process.exit(0);
}
mkdirSync(target, { recursive: true });
for (const f of stale) writeFileSync(join(target, f), want.get(f));
for (const f of extra) rmSync(join(target, f));
console.log(`console-copy: ${want.size} files in server/console/otc/ (${stale.length} written, ${extra.length} removed)`);
