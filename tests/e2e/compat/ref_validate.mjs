// Ask the reference srt what it makes of settings files, the way its CLI
// does: loadConfig() of dist/utils/config-loader.js, the function `srt
// --settings FILE` calls before anything else (the CLI refuses to run when
// it answers anything but "ok").
//
//   node ref_validate.mjs REFERENCE_PACKAGE_DIR FILE...
//
// Prints one JSON line per file: {"kind": "ok"|"invalid"|"empty"|
// "unreadable"|"missing", "reason": "..."}. One process for the whole table:
// a CLI run costs about a second of node start-up each.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const [dir, ...files] = process.argv.slice(2);
const { loadConfig } = await import(pathToFileURL(join(dir, 'dist/utils/config-loader.js')).href);
for (const f of files) {
  const r = loadConfig(f);
  console.log(JSON.stringify({ kind: r.kind, reason: r.reason ?? '' }));
}
