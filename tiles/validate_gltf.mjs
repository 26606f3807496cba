// Validate many glTF assets in one Node process with the Khronos glTF validator.
//
// Input: a JSON array of file paths on stdin (or the paths as arguments).
// Output: one JSON object per line on stdout, in input order:
//   {"path", "numErrors", "numWarnings", "numInfos", "numHints", "truncated", "messages"}
// `node validate_gltf.mjs --info` prints {"version", "supportedExtensions"} instead.
//
// Accepted files: GLB, glTF JSON (external resources only from the asset's own
// directory, never over the network) and b3dm (the embedded GLB is validated).
// Environment: TWIN_NODE_MODULES, the node_modules directory holding `gltf-validator`
// (found by walking up from this file when unset); TWIN_GLTF_MAX_ISSUES (default 100).

import { readFile, realpath } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

function findNodeModules() {
  const given = process.env.TWIN_NODE_MODULES;
  if (given) return given;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "node_modules");
    if (existsSync(path.join(candidate, "gltf-validator", "package.json"))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function loadValidator() {
  const modules = findNodeModules();
  if (!modules) throw new Error("gltf-validator not found in any node_modules above this file");
  const require = createRequire(path.join(path.resolve(modules), "_twin_resolver.js"));
  return require(path.join(path.resolve(modules), "gltf-validator"));
}

const B3DM_HEADER = 28;

// The GLB inside a b3dm tile (with problems of the b3dm header), or the bytes unchanged.
function payload(bytes) {
  const problems = [];
  if (bytes.length < 4) return { bytes, problems };
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== "b3dm") return { bytes, problems };
  if (bytes.length < B3DM_HEADER) throw new Error("b3dm header truncated");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  const byteLength = view.getUint32(8, true);
  let offset = B3DM_HEADER;
  for (let i = 12; i < B3DM_HEADER; i += 4) offset += view.getUint32(i, true);
  if (version !== 1) {
    problems.push(["TWIN_B3DM_VERSION", `b3dm version is ${version}, expected 1`]);
  }
  if (byteLength !== bytes.length) {
    problems.push(["TWIN_B3DM_LENGTH_MISMATCH",
      `b3dm header says ${byteLength} bytes, the file has ${bytes.length}`]);
  }
  if (byteLength % 8 !== 0 || offset % 8 !== 0) {
    problems.push(["TWIN_B3DM_ALIGNMENT",
      `the tile length (${byteLength}) and the GLB start (${offset}) must be multiples of 8`]);
  }
  if (offset > bytes.length) throw new Error("b3dm tables run past the end of the file");
  let glb = bytes.subarray(offset);
  // Trailing padding after the GLB is allowed: the GLB header's length is what counts.
  if (glb.length >= 12 && glb[0] === 0x67 && glb[1] === 0x6c && glb[2] === 0x54 && glb[3] === 0x46) {
    const declared = new DataView(glb.buffer, glb.byteOffset + 8, 4).getUint32(0, true);
    if (declared < glb.length) glb = glb.subarray(0, declared);
  }
  return { bytes: glb, problems };
}

// External resources of a .gltf: relative paths inside the asset's directory only.
function resourceLoader(assetPath) {
  const base = path.dirname(path.resolve(assetPath));
  return async (uri) => {
    const decoded = decodeURIComponent(uri);
    if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(decoded) || path.isAbsolute(decoded)) {
      throw new Error(`refusing to load non-relative resource ${uri}`);
    }
    const inside = (p, dir) => p === dir || p.startsWith(dir + path.sep);
    const target = path.resolve(base, decoded);
    // Checked before and after following symbolic links.
    if (!inside(target, base) || !inside(await realpath(target), await realpath(base))) {
      throw new Error(`refusing to load resource outside the asset directory: ${uri}`);
    }
    return new Uint8Array(await readFile(target));
  };
}

function failure(file, code, message) {
  return {
    path: file, numErrors: 1, numWarnings: 0, numInfos: 0, numHints: 0, truncated: false,
    messages: [{ code, message, severity: 0, pointer: "" }],
  };
}

async function validateOne(validator, file, maxIssues) {
  let bytes;
  let problems;
  try {
    ({ bytes, problems } = payload(new Uint8Array(await readFile(file))));
  } catch (err) {
    return failure(file, "TWIN_READ_FAILED", String(err && err.message ? err.message : err));
  }
  try {
    const report = await validator.validateBytes(bytes, {
      uri: path.basename(file),
      maxIssues,
      writeTimestamp: false,
      externalResourceFunction: resourceLoader(file),
    });
    const issues = report.issues;
    const extra = problems.map(([code, message]) => ({ code, message, severity: 0, offset: 0 }));
    return {
      path: file,
      numErrors: issues.numErrors + extra.length,
      numWarnings: issues.numWarnings,
      numInfos: issues.numInfos,
      numHints: issues.numHints,
      truncated: Boolean(issues.truncated),
      messages: extra.concat(issues.messages),
    };
  } catch (err) {
    // The validator rejects input it cannot even classify as glTF or GLB.
    return failure(file, "TWIN_UNREADABLE_ASSET", String(err && err.message ? err.message : err));
  }
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

async function main() {
  const args = process.argv.slice(2);
  const validator = loadValidator();
  if (args[0] === "--info") {
    const info = { version: validator.version(), supportedExtensions: validator.supportedExtensions() };
    process.stdout.write(JSON.stringify(info) + "\n");
    return;
  }
  const files = args.length > 0 ? args : JSON.parse(await readStdin());
  if (!Array.isArray(files) || !files.every((f) => typeof f === "string")) {
    throw new Error("expected a JSON array of file paths on stdin");
  }
  const maxIssues = Number.parseInt(process.env.TWIN_GLTF_MAX_ISSUES ?? "100", 10);
  for (const file of files) {
    const result = await validateOne(validator, file, maxIssues);
    process.stdout.write(JSON.stringify(result) + "\n");
  }
}

main().catch((err) => {
  process.stderr.write(`validate_gltf: ${err && err.message ? err.message : err}\n`);
  process.exit(2);
});
