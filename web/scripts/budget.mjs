// Fails when the JavaScript a first page load needs (the entry script and the chunks
// index.html preloads) is over budget, gzipped. Lazily loaded chunks do not count.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BUDGET = 100 * 1024;
const dist = fileURLToPath(new URL("../../src/runyard/server/studio_dist", import.meta.url));
const indexPath = join(dist, "index.html");
if (!existsSync(indexPath)) {
  console.error(`budget: ${indexPath} is missing; run \`npm run build\` first`);
  process.exit(2);
}
const html = readFileSync(indexPath, "utf8");
const initial = new Set();
for (const match of html.matchAll(/<script[^>]*\bsrc="([^"]+\.js)"/g)) initial.add(match[1]);
for (const match of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"/g))
  initial.add(match[1]);
if (initial.size === 0) {
  console.error("budget: index.html loads no script; the build looks broken");
  process.exit(2);
}
let total = 0;
for (const src of initial) {
  const bytes = readFileSync(join(dist, src.replace(/^\//, "")));
  const gz = gzipSync(bytes, { level: 9 }).length;
  total += gz;
  console.log(`  ${src}: ${(bytes.length / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped`);
}
const verdict = total <= BUDGET ? "within" : "OVER";
console.log(
  `budget: initial JavaScript is ${(total / 1024).toFixed(1)} KB gzipped, ${verdict} the ${BUDGET / 1024} KB budget`,
);
process.exit(total <= BUDGET ? 0 : 1);
