// Writes a gzip copy (`name.gz`) beside every text asset of the build, so the server can
// send pre-compressed files to browsers that accept gzip without compressing per request.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const dist = fileURLToPath(new URL("../../src/runyard/server/studio_dist", import.meta.url));
const compressible = /\.(js|css|html|svg|json|map|txt)$/;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

let count = 0;
for (const path of files(dist)) {
  if (!compressible.test(path)) continue;
  writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
  count += 1;
}
console.log(`compress: wrote ${count} .gz copies in ${dist}`);
