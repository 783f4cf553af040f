#!/usr/bin/env node
// The vendored copies in clients/web/vendor/ are byte for byte the files of the pinned npm
// packages: served as they are, without a build step, so nothing else may change them.
// Usage (from anywhere): node clients/web/scripts/check-vendor.mjs        exit 0 when they match
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
// vendored package -> the files copied from it (vendored name -> path inside the package)
const VENDORED = {
  oauth4webapi: { "index.js": "build/index.js", "LICENSE.md": "LICENSE.md" },
};

const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const pins = readJson(join(web, "package.json")).devDependencies;
const problems = [];

for (const [name, files] of Object.entries(VENDORED)) {
  const pinned = pins[name];
  const packageDir = join(web, "node_modules", name);
  let installed;
  try {
    installed = readJson(join(packageDir, "package.json")).version;
  } catch {
    problems.push(`${name}: not installed in clients/web/node_modules (run: cd clients/web && npm ci)`);
    continue;
  }
  if (installed !== pinned) {
    problems.push(`${name}: ${installed} is installed, package.json pins ${pinned} (run: cd clients/web && npm ci)`);
    continue;
  }
  const vendorDir = join(web, "vendor", name);
  if (!readFileSync(join(vendorDir, "README.md"), "utf8").includes(`${name} ${pinned}`)) {
    problems.push(`${name}: vendor/${name}/README.md does not name version ${pinned}`);
  }
  for (const [vendored, original] of Object.entries(files)) {
    const copy = readFileSync(join(vendorDir, vendored));
    const source = readFileSync(join(packageDir, original));
    const shown = relative(process.cwd(), join(vendorDir, vendored));
    if (copy.equals(source)) {
      console.log(`${shown}: ${name} ${pinned} ${original}, sha256 ${sha256(copy)}`);
    } else {
      problems.push(`${shown} differs from ${name} ${pinned} ${original} (copy it again: see vendor/${name}/README.md)`);
    }
  }
}

for (const problem of problems) console.error(`check-vendor: ${problem}`);
process.exit(problems.length ? 1 : 0);
