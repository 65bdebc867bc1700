// Print every key path of the reference srt's settings schema, as JSON.
//
//   node schema_keys.mjs REFERENCE_PACKAGE_DIR
//
// Walks the zod schema objects of dist/sandbox/sandbox-config.js itself
// (SandboxRuntimeConfigSchema) rather than reading the source text, so that
// a key is found however the schema spells it. An array element is "[]":
// "credentials.files[].path". Maps (record) have free keys and are not
// descended. test_compat.py feeds each path to srt and fails on one srt
// calls an unknown key.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const dir = process.argv[2];
const mod = await import(pathToFileURL(join(dir, 'dist/sandbox/sandbox-config.js')).href);
const root = mod.SandboxRuntimeConfigSchema;
const keys = new Set();

function walk(schema, path, depth) {
  if (!schema || depth > 32) return;
  const def = schema._def;
  switch (def.typeName) {
    case 'ZodObject': {
      const shape = typeof def.shape === 'function' ? def.shape() : def.shape;
      for (const [k, v] of Object.entries(shape)) {
        const p = path ? `${path}.${k}` : k;
        keys.add(p);
        walk(v, p, depth + 1);
      }
      return;
    }
    case 'ZodOptional':
    case 'ZodNullable':
    case 'ZodDefault':
    case 'ZodCatch':
    case 'ZodReadonly':
    case 'ZodBranded':
      return walk(def.innerType ?? def.type, path, depth + 1);
    case 'ZodEffects':
      return walk(def.schema, path, depth + 1);
    case 'ZodLazy':
      return walk(def.getter(), path, depth + 1);
    case 'ZodArray':
      return walk(def.type, `${path}[]`, depth + 1);
    case 'ZodUnion':
    case 'ZodDiscriminatedUnion':
      for (const o of def.options.values ? [...def.options.values()] : def.options)
        walk(o, path, depth + 1);
      return;
    case 'ZodIntersection':
      walk(def.left, path, depth + 1);
      walk(def.right, path, depth + 1);
      return;
    default:
      return; // scalars, enums, records, tuples: no keys of their own
  }
}

walk(root, '', 0);
console.log(JSON.stringify([...keys].sort(), null, 1));
