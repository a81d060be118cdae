/**
 * The cdk8s validation plugin: `cdk8s synth` loads this package (cdk8s.yaml,
 * `validations:`) and calls validate() with the manifests it found.
 *
 * The checks are TypeScript (lib/policy/index.ts). cdk8s-cli require()s plain
 * JavaScript, so, like speed/tsrun.js, esbuild bundles the checks in memory
 * (packages stay external) and Node runs the result. Nothing is written to disk.
 *
 * Which environment a manifest belongs to comes from its file name
 * (`<environment>.k8s.yaml`, as main.ts writes them for cdk8s-cli) or else its
 * folder (`dist/<environment>/*.yaml`). Each environment's Kubernetes version
 * platform-provided objects and the groups people are bound through come from
 * the plugin's properties in cdk8s.yaml, or from an `environments.json` beside
 * the manifests:
 *   { "lab": { "kubernetesVersion": "1.33", "platformProvided": ["StorageClass/local-path"],
 *              "peopleGroups": ["web-viewers"] } }
 */
'use strict';
const fs = require('fs');
const path = require('path');
const Module = require('module');

const POLICY_ENTRY = path.join(__dirname, '..', 'index.ts');
let policy;

/** Bundles lib/policy/index.ts with esbuild and loads it, once per process. */
function loadPolicy() {
  if (policy) return policy;
  const esbuild = require('esbuild');
  const { outputFiles } = esbuild.buildSync({
    entryPoints: [POLICY_ENTRY],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'error',
  });
  const filename = path.join(__dirname, '..', 'index.bundled.js'); // virtual: only names the module
  const mod = new Module(filename, module);
  mod.filename = filename;
  mod.paths = Module._nodeModulePaths(path.dirname(filename));
  mod._compile(outputFiles[0].text, filename);
  policy = mod.exports;
  return policy;
}

function environmentOf(manifestPath) {
  const base = path.basename(manifestPath);
  const match = /^(.+)\.k8s\.ya?ml$/.exec(base);
  return match ? match[1] : path.basename(path.dirname(manifestPath));
}

function readEnvironmentsFile(dir) {
  const file = path.join(dir, 'environments.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
}

class PolicyValidation {
  /**
   * @param properties from cdk8s.yaml: { environments?: { [name]: { kubernetesVersion, platformProvided?, peopleGroups? } } }
   */
  constructor(properties) {
    this.properties = properties || {};
  }

  async validate(context) {
    const checks = loadPolicy();
    const inputs = [];
    const manifestOf = new Map();
    const platformProvided = {};
    const peopleGroups = {};
    for (const manifest of context.manifests) {
      const environment = environmentOf(manifest);
      const settings = {
        ...readEnvironmentsFile(path.dirname(manifest))[environment],
        ...(this.properties.environments || {})[environment],
      };
      if (!settings.kubernetesVersion) {
        throw new Error(
          `lab-to-prod policy: no kubernetesVersion for environment "${environment}" (${manifest}); ` +
            'set it in cdk8s.yaml validations[].properties.environments or in environments.json beside the manifests',
        );
      }
      platformProvided[environment] = settings.platformProvided || [];
      peopleGroups[environment] = settings.peopleGroups || [];
      const objects = context.parseManifest(manifest).filter(Boolean);
      for (const object of objects) {
        const key = checks.resourceKey(environment, object);
        manifestOf.set(key, manifest);
        inputs.push({
          environment,
          kubernetesVersion: settings.kubernetesVersion,
          file: path.basename(manifest),
          object,
          constructPath: constructPathOf(context.metadata, key, environment, object, objects),
        });
      }
    }
    const findings = checks.checkManifests(inputs, { platformProvided, peopleGroups });
    reportViolations(context, checks, findings, manifestOf);
    context.logger.log(checks.formatReport(findings));
    const count = (f) => findings.filter(f).length;
    context.report.submit(checks.hasErrors(findings) ? 'failure' : 'success', {
      errors: String(count((f) => f.severity === 'error' && !f.waived)),
      warnings: String(count((f) => f.severity === 'warning' && !f.waived)),
      waived: String(count((f) => f.waived)),
    });
  }
}

/**
 * construct-metadata.json maps resource names to construct paths. Keyed by
 * resourceKey() it is exact; keyed by bare object name (cdk8s' own format) the
 * same name in several environments or kinds is ambiguous, so it is used only
 * when the name is unique in this environment and the path is this environment's.
 */
function constructPathOf(metadata, key, environment, object, objects) {
  if (metadata[key]) return metadata[key].path;
  const name = object.metadata && object.metadata.name;
  const byName = metadata[name];
  const unique = objects.filter((o) => o.metadata && o.metadata.name === name).length === 1;
  return byName && unique && byName.path.startsWith(`${environment}/`) ? byName.path : undefined;
}

/**
 * One violation per rule, one violating resource per object (named by
 * resourceKey, unique across environments); waived findings are not violations.
 */
function reportViolations(context, checks, findings, manifestOf) {
  const byRule = new Map();
  for (const finding of findings) {
    if (finding.waived) continue;
    const list = byRule.get(finding.ruleId) || [];
    list.push(finding);
    byRule.set(finding.ruleId, list);
  }
  for (const [ruleId, ruleFindings] of byRule) {
    const rule = checks.rules.find((r) => r.id === ruleId);
    const resources = new Map();
    for (const finding of ruleFindings) {
      const key = checks.resourceKey(finding.environment, {
        kind: finding.kind,
        metadata: { name: finding.name, namespace: finding.namespace },
      });
      const entry = resources.get(key) || { resourceName: key, manifestPath: manifestOf.get(key) || '', locations: [] };
      const construct = finding.constructPath ? ` (construct ${finding.constructPath})` : '';
      entry.locations.push(`${finding.fieldPath}: ${finding.message}${construct}`);
      resources.set(key, entry);
    }
    context.report.addViolation({
      ruleName: `${ruleId} (${rule.severity})`,
      recommendation: rule.reason,
      fix:
        'Change the construct that produced the object (see its construct path), or waive the rule on the object with ' +
        'policy.lab-to-prod.io/waive and policy.lab-to-prod.io/waive-reason.',
      violatingResources: [...resources.values()],
    });
  }
}

module.exports = { PolicyValidation };
