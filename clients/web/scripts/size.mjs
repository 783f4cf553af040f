// The SDK's size as an app ships it: the entry bundled and minified by esbuild, then gzipped.
// Usage: node scripts/size.mjs            (from clients/web)
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const entry = fileURLToPath(new URL("../sdk/devicekeys.js", import.meta.url));
const { outputFiles } = await build({
  entryPoints: [entry],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  write: false,
});
const minified = outputFiles[0].contents;
const gzipped = gzipSync(minified, { level: 9 });
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB (${bytes} bytes)`;
console.log(`SDK size: ${kib(minified.length)} minified, ${kib(gzipped.length)} gzipped`);
