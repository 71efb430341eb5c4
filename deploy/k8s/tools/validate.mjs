#!/usr/bin/env node
// Renders kustomizations and validates every resulting document against the
// Kubernetes API schemas (kubernetes-models) and the project's pod policies.
// No kubectl or kustomize needed.
//
//   node validate.mjs [--print] DIR...     DIR holds a kustomization.yaml
//
// Exit 0 when every DIR renders and validates; 1 with one line per problem
// otherwise; 2 on bad usage. --print writes the rendered documents (YAML) to
// stdout.
//
// The kustomize subset implemented (what deploy/k8s uses; any other field in
// a kustomization.yaml is an error, so nothing is silently ignored):
//   resources   files (multi-document YAML) and directories holding a
//               kustomization.yaml, rendered first, in order
//   patches     entries with `path` (a file) or `patch` (inline YAML), each a
//               strategic merge patch naming its target by apiVersion, kind
//               and metadata.name (no `target` selectors, no JSON 6902):
//                 maps merge key by key, a null value deletes the key;
//                 these lists merge element by element on the API's merge
//                 key: containers, initContainers, ephemeralContainers,
//                 volumes, env, imagePullSecrets (name), volumeMounts
//                 (mountPath), volumeDevices (devicePath), ports
//                 (containerPort, else port); an element with
//                 `$patch: delete` is removed; every other list is replaced
//                 whole, as kustomize does for lists without a merge key
//                 (e.g. volumeClaimTemplates, args);
//                 `$patch: delete` at the top removes the target resource
//   namespace   set on every namespaced resource
//   images      name -> newName / newTag / digest, on every container and
//               init container image of a pod template
// Patches apply after all resources are loaded, then namespace and images,
// in each kustomization, as kustomize orders its built-in transformers.
//
// Checks, besides the schemas (types, required fields, formats):
//   - no field the API does not know (as the API server's strict field
//     validation refuses them)
//   - resource names unique per kind and namespace
//   - pods: runAsNonRoot, no uid 0, seccomp RuntimeDefault, no host
//     network/PID/IPC; every container: readOnlyRootFilesystem,
//     allowPrivilegeEscalation false, not privileged, capabilities drop ALL
//     and add none, CPU and memory requests and limits, liveness and
//     readiness probes (and a startup probe if any) of type grpc on a port
//     the container declares; volume mounts name a volume or claim template;
//     hostPath only for serial devices (CharDevice, /dev/ttyUSB* or
//     /dev/ttyACM*) and the node-local /var/lib/linebridge
//   - Services, NetworkPolicies and PodDisruptionBudgets select some
//     workload's pods; a Service's named targetPort exists on them
import fs from "node:fs";
import path from "node:path";
import yaml from "js-yaml";

class RenderError extends Error {}

const KUSTOMIZATION_NAMES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
const KUSTOMIZATION_FIELDS = new Set(["apiVersion", "kind", "resources", "patches", "namespace", "images"]);
const CLUSTER_SCOPED = new Set([
  "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "StorageClass",
  "CustomResourceDefinition", "PriorityClass", "RuntimeClass", "IngressClass",
  "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
]);
const WORKLOADS = new Set(["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]);

function isMap(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
function clone(v) {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}
function resId(doc) {
  const ns = doc?.metadata?.namespace ? `${doc.metadata.namespace}/` : "";
  return `${doc?.kind}/${ns}${doc?.metadata?.name}`;
}
function group(apiVersion) {
  const i = String(apiVersion).lastIndexOf("/");
  return i < 0 ? "" : String(apiVersion).slice(0, i);
}

function loadDocs(file) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new RenderError(`${file}: ${e.message}`);
  }
  let docs;
  try {
    docs = yaml.loadAll(text, null, { filename: file, schema: yaml.DEFAULT_SCHEMA });
  } catch (e) {
    throw new RenderError(`${file}: YAML: ${e.message.split("\n")[0]}`);
  }
  return docs.filter((d) => d !== null && d !== undefined).map((d, i) => {
    if (!isMap(d)) throw new RenderError(`${file}: document ${i + 1} is not a mapping`);
    return d;
  });
}

// ---- strategic merge patch (the subset described above) ----
function mergeKeyFor(field, list) {
  switch (field) {
    case "containers":
    case "initContainers":
    case "ephemeralContainers":
    case "volumes":
    case "env":
    case "imagePullSecrets":
      return "name";
    case "volumeMounts":
    case "volumeDevices":
      return field === "volumeMounts" ? "mountPath" : "devicePath";
    case "ports":
      return list.some((e) => isMap(e) && "containerPort" in e) ? "containerPort" : "port";
    default:
      return null;
  }
}

function mergeValue(base, patch, field, where) {
  if (patch === null) return undefined;
  if (isMap(patch)) {
    if ("$patch" in patch) {
      if (patch.$patch === "replace") {
        const rest = { ...patch };
        delete rest.$patch;
        return clone(rest);
      }
      throw new RenderError(`${where}: $patch: ${patch.$patch} is only supported at the top of a patch`);
    }
    const out = isMap(base) ? clone(base) : {};
    for (const [k, v] of Object.entries(patch)) {
      if (k.startsWith("$")) throw new RenderError(`${where}.${k}: directive not supported`);
      const merged = mergeValue(out[k], v, k, `${where}.${k}`);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  if (Array.isArray(patch)) {
    const key = mergeKeyFor(field, patch);
    if (!key || !Array.isArray(base)) return clone(patch);
    const out = clone(base);
    for (const item of patch) {
      if (!isMap(item) || !(key in item)) throw new RenderError(`${where}: list item without its merge key "${key}"`);
      if (item.$patch === "delete") {
        const i = out.findIndex((e) => isMap(e) && e[key] === item[key]);
        if (i >= 0) out.splice(i, 1);
        continue;
      }
      const i = out.findIndex((e) => isMap(e) && e[key] === item[key]);
      if (i >= 0) out[i] = mergeValue(out[i], item, null, `${where}[${key}=${item[key]}]`);
      else out.push(mergeValue(undefined, item, null, `${where}[${key}=${item[key]}]`));
    }
    return out;
  }
  return patch;
}

function applyPatch(resources, patch, where) {
  if (!patch.kind || !patch.metadata?.name) throw new RenderError(`${where}: a patch needs kind and metadata.name`);
  const matches = resources.filter(
    (r) =>
      r.kind === patch.kind &&
      r.metadata?.name === patch.metadata.name &&
      (!patch.apiVersion || group(r.apiVersion) === group(patch.apiVersion)) &&
      (!patch.metadata.namespace || r.metadata?.namespace === patch.metadata.namespace),
  );
  if (matches.length !== 1) {
    throw new RenderError(`${where}: the patch's target ${patch.kind}/${patch.metadata.name} matches ${matches.length} resources`);
  }
  const i = resources.indexOf(matches[0]);
  if (patch.$patch === "delete") {
    resources.splice(i, 1);
    return;
  }
  const body = { ...patch };
  delete body.$patch;
  if (patch.$patch !== undefined && patch.$patch !== "merge") throw new RenderError(`${where}: $patch: ${patch.$patch} not supported`);
  resources[i] = mergeValue(resources[i], body, null, `${where}`);
}

function podSpecs(doc) {
  // [pod spec, containing object] of a workload
  if (doc.kind === "Pod") return doc.spec ? [doc.spec] : [];
  if (doc.kind === "CronJob") return doc.spec?.jobTemplate?.spec?.template?.spec ? [doc.spec.jobTemplate.spec.template.spec] : [];
  if (WORKLOADS.has(doc.kind)) return doc.spec?.template?.spec ? [doc.spec.template.spec] : [];
  return [];
}
function podTemplateLabels(doc) {
  if (doc.kind === "Pod") return doc.metadata?.labels || {};
  if (doc.kind === "CronJob") return doc.spec?.jobTemplate?.spec?.template?.metadata?.labels || {};
  return doc.spec?.template?.metadata?.labels || {};
}

function setImage(image, rules) {
  const at = image.indexOf("@");
  let nameTag = at >= 0 ? image.slice(0, at) : image;
  const colon = nameTag.lastIndexOf(":");
  const name = colon > nameTag.lastIndexOf("/") ? nameTag.slice(0, colon) : nameTag;
  for (const r of rules) {
    if (r.name !== name) continue;
    const newName = r.newName || name;
    if (r.digest) return `${newName}@${r.digest}`;
    if (r.newTag !== undefined) return `${newName}:${r.newTag}`;
    return image.replace(name, newName);
  }
  return image;
}

export function render(dir, stack = []) {
  const abs = path.resolve(dir);
  if (stack.includes(abs)) throw new RenderError(`${dir}: kustomization cycle`);
  const kfile = KUSTOMIZATION_NAMES.map((n) => path.join(abs, n)).find((f) => fs.existsSync(f));
  if (!kfile) throw new RenderError(`${dir}: no kustomization.yaml`);
  const docs = loadDocs(kfile);
  if (docs.length !== 1) throw new RenderError(`${kfile}: expected one document`);
  const k = docs[0];
  for (const field of Object.keys(k)) {
    if (!KUSTOMIZATION_FIELDS.has(field)) throw new RenderError(`${kfile}: field "${field}" is not implemented by this renderer`);
  }
  if (k.kind !== undefined && k.kind !== "Kustomization") throw new RenderError(`${kfile}: kind ${k.kind}`);

  let resources = [];
  for (const entry of k.resources || []) {
    const p = path.resolve(abs, String(entry));
    if (!fs.existsSync(p)) throw new RenderError(`${kfile}: resource ${entry} does not exist`);
    if (fs.statSync(p).isDirectory()) resources.push(...render(p, [...stack, abs]));
    else resources.push(...loadDocs(p));
  }
  for (const [n, p] of (k.patches || []).entries()) {
    if (!isMap(p)) throw new RenderError(`${kfile}: patches[${n}] is not a mapping`);
    for (const f of Object.keys(p)) {
      if (f !== "path" && f !== "patch") throw new RenderError(`${kfile}: patches[${n}].${f} is not implemented by this renderer`);
    }
    let patchDocs;
    let where;
    if (p.path) {
      where = path.resolve(abs, p.path);
      patchDocs = loadDocs(where);
    } else if (typeof p.patch === "string") {
      where = `${kfile}: patches[${n}]`;
      patchDocs = yaml.loadAll(p.patch).filter((d) => d != null);
    } else {
      throw new RenderError(`${kfile}: patches[${n}] needs path or patch`);
    }
    for (const d of patchDocs) applyPatch(resources, d, where);
  }
  if (k.namespace) {
    resources = resources.map((r) => {
      if (CLUSTER_SCOPED.has(r.kind)) return r;
      return { ...r, metadata: { ...r.metadata, namespace: k.namespace } };
    });
  }
  if (k.images) {
    for (const r of resources) {
      for (const spec of podSpecs(r)) {
        for (const c of [...(spec.containers || []), ...(spec.initContainers || [])]) {
          if (typeof c.image === "string") c.image = setImage(c.image, k.images);
        }
      }
    }
  }
  return resources;
}

// ---- schema validation ----
const modelCache = new Map();
async function modelFor(apiVersion, kind) {
  const key = `${apiVersion} ${kind}`;
  if (modelCache.has(key)) return modelCache.get(key);
  let mod;
  try {
    mod = await import(`kubernetes-models/${apiVersion}`);
  } catch {
    mod = {};
  }
  const model = mod[kind] || null;
  modelCache.set(key, model);
  return model;
}

// Runs the schema's validator on a proxy of the document that records which
// fields it reads: the validator reads every field the schema knows, so a
// field it never read is unknown to the API.
function unknownFields(model, doc) {
  const read = new Map(); // object -> Set of keys read
  const proxies = new WeakMap();
  const wrap = (value) => {
    if (value === null || typeof value !== "object") return value;
    if (proxies.has(value)) return proxies.get(value);
    const keys = new Set();
    read.set(value, keys);
    const proxy = new Proxy(value, {
      get(target, prop, receiver) {
        if (typeof prop === "string") keys.add(prop);
        const v = Reflect.get(target, prop, receiver);
        return typeof prop === "string" && Object.prototype.hasOwnProperty.call(target, prop) ? wrap(v) : v;
      },
      ownKeys(target) {
        for (const k of Reflect.ownKeys(target)) if (typeof k === "string") keys.add(k);
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  const copy = clone(doc);
  model.prototype.validate.call(wrap(copy));
  const unknown = [];
  const walk = (value, where) => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${where}[${i}]`));
    } else if (isMap(value)) {
      const keys = read.get(value) || new Set();
      for (const [k, v] of Object.entries(value)) {
        if (!keys.has(k)) unknown.push(`${where}.${k}`);
        else walk(v, `${where}.${k}`);
      }
    }
  };
  walk(copy, "");
  return unknown.map((u) => u.slice(1));
}

async function validateSchema(doc) {
  if (typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") return ["apiVersion and kind are required"];
  const model = await modelFor(doc.apiVersion, doc.kind);
  if (!model) return [`unknown apiVersion/kind ${doc.apiVersion} ${doc.kind}`];
  try {
    new model(clone(doc)).validate();
  } catch (e) {
    return [`schema: ${e.message}`];
  }
  return unknownFields(model, doc).map((f) => `schema: unknown field ${f}`);
}

// ---- policies ----
function checkPod(spec, doc, problems) {
  const p = (msg) => problems.push(msg);
  const psc = spec.securityContext || {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) p("pod uses the host's network, PID or IPC namespace");
  if (psc.runAsUser === 0) p("pod securityContext.runAsUser is 0");
  const claimNames = new Set((doc.spec?.volumeClaimTemplates || []).map((t) => t?.metadata?.name));
  const volumes = new Map((spec.volumes || []).map((v) => [v.name, v]));
  for (const v of spec.volumes || []) {
    if (!v.hostPath) continue;
    const hp = v.hostPath;
    const serial = /^\/dev\/tty(USB|ACM)[0-9]+$/.test(hp.path) && hp.type === "CharDevice";
    const state = hp.path === "/var/lib/linebridge" && hp.type === "Directory";
    if (!serial && !state) p(`volume ${v.name}: hostPath ${hp.path} (type ${hp.type ?? "unset"}) is neither a serial device (CharDevice /dev/ttyUSB*, /dev/ttyACM*) nor /var/lib/linebridge (Directory)`);
  }
  const containers = [...(spec.initContainers || []), ...(spec.containers || [])];
  for (const c of containers) {
    const w = (msg) => p(`container ${c.name}: ${msg}`);
    const sc = c.securityContext || {};
    const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
    if (nonRoot !== true) w("runAsNonRoot is not true");
    if ((sc.runAsUser ?? psc.runAsUser) === 0) w("runAsUser is 0");
    const seccomp = sc.seccompProfile?.type ?? psc.seccompProfile?.type;
    if (seccomp !== "RuntimeDefault") w(`seccompProfile is ${seccomp ?? "unset"}, not RuntimeDefault`);
    if (sc.readOnlyRootFilesystem !== true) w("readOnlyRootFilesystem is not true");
    if (sc.allowPrivilegeEscalation !== false) w("allowPrivilegeEscalation is not false");
    if (sc.privileged === true) w("privileged");
    if (!(sc.capabilities?.drop || []).includes("ALL")) w("capabilities do not drop ALL");
    if ((sc.capabilities?.add || []).length) w(`capabilities added: ${sc.capabilities.add.join(", ")}`);
    for (const kind of ["requests", "limits"]) {
      for (const r of ["cpu", "memory"]) {
        if (!c.resources?.[kind]?.[r]) w(`no ${r} in resources.${kind}`);
      }
    }
    for (const m of c.volumeMounts || []) {
      if (!volumes.has(m.name) && !claimNames.has(m.name)) w(`volumeMount ${m.name} names no volume`);
    }
    if ((spec.initContainers || []).includes(c)) continue;
    const ports = new Set((c.ports || []).flatMap((q) => [q.containerPort, q.name]));
    for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
      const pr = c[probe];
      if (!pr) {
        if (probe !== "startupProbe") w(`no ${probe}`);
        continue;
      }
      const types = ["grpc", "httpGet", "tcpSocket", "exec"].filter((t) => pr[t]);
      if (types.length !== 1 || types[0] !== "grpc") w(`${probe} is ${types.join("+") || "empty"}, not grpc`);
      else if (!ports.has(pr.grpc.port)) w(`${probe}: grpc port ${pr.grpc.port} is not a declared container port`);
    }
  }
}

function selects(selector, labels) {
  const ml = selector?.matchLabels || selector || {};
  const entries = Object.entries(ml);
  if (!entries.length && !(selector?.matchExpressions || []).length) return true;
  if (!entries.every(([k, v]) => labels[k] === v)) return false;
  for (const e of selector?.matchExpressions || []) {
    const has = e.key in labels;
    if (e.operator === "In" && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === "NotIn" && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

function checkPolicies(docs) {
  const out = []; // [doc, message]
  const seen = new Set();
  for (const d of docs) {
    const id = `${d.apiVersion} ${resId(d)}`;
    if (seen.has(id)) out.push([d, "duplicate resource"]);
    seen.add(id);
  }
  const workloads = docs.filter((d) => WORKLOADS.has(d.kind));
  for (const d of workloads) {
    const problems = [];
    for (const spec of podSpecs(d)) checkPod(spec, d, problems);
    if (!podSpecs(d).length) problems.push("no pod template");
    const sel = d.kind === "Pod" ? null : d.spec?.selector;
    if (sel && !selects(sel, podTemplateLabels(d))) problems.push("spec.selector does not match the pod template's labels");
    for (const m of problems) out.push([d, m]);
  }
  const podsIn = (ns, selector) =>
    workloads.filter((w) => (w.metadata?.namespace || "") === (ns || "") && selects(selector, podTemplateLabels(w)));
  for (const d of docs) {
    const ns = d.metadata?.namespace;
    if (d.kind === "Service" && d.spec?.selector) {
      const pods = podsIn(ns, { matchLabels: d.spec.selector });
      if (!pods.length) out.push([d, "selects no workload's pods"]);
      for (const port of d.spec.ports || []) {
        if (typeof port.targetPort !== "string") continue;
        const named = pods.some((w) => podSpecs(w).some((s) => (s.containers || []).some((c) => (c.ports || []).some((q) => q.name === port.targetPort))));
        if (pods.length && !named) out.push([d, `targetPort ${port.targetPort} is no container port of its pods`]);
      }
    }
    if (d.kind === "NetworkPolicy" && !podsIn(ns, d.spec?.podSelector).length) out.push([d, "podSelector selects no workload's pods"]);
    if (d.kind === "PodDisruptionBudget" && !podsIn(ns, d.spec?.selector).length) out.push([d, "selector selects no workload's pods"]);
  }
  return out;
}

export async function validateDir(dir) {
  const problems = [];
  let docs;
  try {
    docs = render(dir);
  } catch (e) {
    if (e instanceof RenderError) return { docs: [], problems: [`render: ${e.message}`] };
    throw e;
  }
  if (!docs.length) problems.push("renders no resources");
  for (const d of docs) {
    for (const m of await validateSchema(d)) problems.push(`${resId(d)}: ${m}`);
  }
  for (const [d, m] of checkPolicies(docs)) problems.push(`${resId(d)}: ${m}`);
  return { docs, problems };
}

async function main(argv) {
  const print = argv.includes("--print");
  const dirs = argv.filter((a) => a !== "--print");
  if (!dirs.length || dirs.some((d) => d.startsWith("-"))) {
    process.stderr.write("usage: node validate.mjs [--print] DIR...\n");
    return 2;
  }
  let failed = false;
  for (const dir of dirs) {
    const { docs, problems } = await validateDir(dir);
    if (print) process.stdout.write(docs.map((d) => yaml.dump(d, { noRefs: true, lineWidth: 120 })).join("---\n"));
    if (problems.length) {
      failed = true;
      for (const m of problems) process.stderr.write(`FAIL ${dir}: ${m}\n`);
    } else {
      const kinds = docs.map((d) => d.kind).join(", ");
      process.stderr.write(`ok ${dir}: ${docs.length} resources valid (${kinds})\n`);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
