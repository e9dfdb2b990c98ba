// Validates rendered Kubernetes documents against the OpenAPI schemas that the npm packages
// kubernetes-models and @kubernetes-models/cert-manager compile into validators, offline.
//
//   node validate.cjs MODULES_DIR DOCS.json LABEL
//
// MODULES_DIR holds node_modules with those packages (scripts/check-manifests.sh installs them
// into a cache outside the clone), DOCS.json what documents.py makes of the documents rendered
// from LABEL (a kustomization directory): a list of {source, doc}, source being the file that
// defines the object. Prints one line per problem, naming LABEL, the file, the object and the
// field; exits 1 if there is any, 0 when every document is valid.
//
// Two kinds of problem, the two that the API server rejects in `kubectl apply`:
//   - a schema error: a wrong type, a missing required field, a value outside an enum;
//   - an unknown field (a typo such as readinesProbe): the schemas allow any extra field, so it
//     would pass them, but kubectl apply (--validate=strict, the default) rejects it, and a
//     misspelt probe or securityContext would otherwise be silently ignored.
// The validators are compiled code, not schema data to walk, so unknown fields are found by
// watching the validator: it reads every property its schema defines, so a property of an object
// whose shape the schema knows that it never reads is one the schema does not define. An object
// whose keys the validator enumerates (labels, a map) or never looks into (a free-form field)
// has no fixed set of fields, and is not checked for unknown ones.
"use strict";

const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

// The API groups of custom resources, and the package whose schemas describe them.
const CRD_PACKAGES = { "cert-manager.io": "@kubernetes-models/cert-manager" };

function modelClass(load, apiVersion, kind) {
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  const candidates = [`kubernetes-models/${apiVersion}`];
  if (CRD_PACKAGES[group]) candidates.unshift(`${CRD_PACKAGES[group]}/${apiVersion}`);
  for (const name of candidates) {
    let module;
    try {
      module = load(name);
    } catch (error) {
      if (error.code !== "MODULE_NOT_FOUND" && error.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") {
        throw error;
      }
      continue;
    }
    if (typeof module[kind] === "function" && module[kind].apiVersion === apiVersion) {
      return module[kind];
    }
  }
  return null;
}

// A proxy of the document that records which properties of each object the validator reads.
function watch(root) {
  const seen = new Map(); // object -> {path, read: Set, enumerated, touched}
  const proxies = new WeakMap();
  function wrap(value, at) {
    if (value === null || typeof value !== "object") return value;
    if (proxies.has(value)) return proxies.get(value);
    const entry = { path: at, read: new Set(), enumerated: false, touched: false };
    seen.set(value, entry);
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        if (typeof key !== "string") return Reflect.get(target, key, receiver);
        entry.touched = true;
        entry.read.add(key);
        if (Object.prototype.hasOwnProperty.call(target, key)) {
          return wrap(target[key], Array.isArray(target) ? `${at}[${key}]` : `${at}.${key}`);
        }
        return Reflect.get(target, key, receiver);
      },
      has(target, key) {
        if (typeof key === "string") {
          entry.touched = true;
          entry.read.add(key);
        }
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        entry.touched = true;
        entry.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  }
  const unknown = () => {
    const found = [];
    for (const [object, entry] of seen) {
      if (Array.isArray(object) || !entry.touched || entry.enumerated) continue;
      for (const key of Object.keys(object)) {
        if (!entry.read.has(key)) found.push(`${entry.path}.${key}`.replace(/^\./, ""));
      }
    }
    return found;
  };
  return { proxy: wrap(root, ""), unknown };
}

// ajv's instancePath (/spec/template/spec/containers/0/name) as a field path (spec.template...).
function field(instancePath) {
  return instancePath.replace(/^\//, "").replace(/\/(\d+)(?=\/|$)/g, "[$1]").replace(/\//g, ".");
}

function main() {
  const [modulesDir, docsFile, label] = process.argv.slice(2);
  if (!modulesDir || !docsFile || !label) {
    console.error("usage: node validate.cjs MODULES_DIR DOCS.json LABEL");
    process.exit(2);
  }
  const load = createRequire(path.join(path.resolve(modulesDir), "package.json"));
  const docs = JSON.parse(fs.readFileSync(docsFile, "utf8"));
  const problems = [];
  let valid = 0;
  docs.forEach(({ source, doc }, index) => {
    const kind = doc && doc.kind;
    const apiVersion = doc && doc.apiVersion;
    const name = `${kind || "?"} ${(doc && doc.metadata && doc.metadata.name) || `#${index}`}`;
    const where = `${label}: ${source ? `${source}: ` : ""}${apiVersion || "?"} ${name}`;
    if (!kind || !apiVersion) {
      problems.push(`${where}: the document has no kind or apiVersion`);
      return;
    }
    const Model = modelClass(load, apiVersion, kind);
    if (!Model) {
      problems.push(`${where}: no schema for ${apiVersion} ${kind} in kubernetes-models or ` +
        `${Object.values(CRD_PACKAGES).join(", ")} (add its package to ` +
        "tests/manifests/package.json and its API group to CRD_PACKAGES in " +
        "tests/manifests/validate.cjs)");
      return;
    }
    const watched = watch(doc);
    try {
      // The validator of the model class, run on the watched document instead of a model
      // instance (which would be a copy the proxy never sees).
      Model.prototype.validate.call(watched.proxy);
    } catch (error) {
      if (!Array.isArray(error.errors)) throw error;
      for (const e of error.errors) {
        const params = e.params && e.params.allowedValues
          ? ` (${e.params.allowedValues.join(", ")})` : "";
        problems.push(`${where}: ${field(e.instancePath) || "(document)"}: ${e.message}${params}`);
      }
      return; // unknown fields are only meaningful when the validator read the whole document
    }
    const unknown = watched.unknown();
    for (const f of unknown) {
      problems.push(`${where}: ${f}: unknown field: the ${apiVersion} ${kind} schema has no ` +
        "such field (kubectl apply rejects it)");
    }
    if (!unknown.length) valid += 1;
  });
  for (const line of problems) console.log(line);
  console.log(`${label}: ${valid} of ${docs.length} documents valid`);
  process.exit(problems.length ? 1 : 0);
}

main();
