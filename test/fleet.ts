/**
 * A fleet: many clusters of one kind served by one repository, each one environment file and nothing
 * else. A fleet of N is a copy of the project (test/project-copy.ts) holding its own four environments
 * and N - 4 more, each a copy of one of them made as the README's "Adding an environment" says: the
 * file copied, its name changed, its site values (domain, cloud account or project, region, cluster
 * name, address ranges) made its own. Half of the production copies have been promoted to a commit,
 * so the fleet shows both what an unpromoted and a promoted environment deliver.
 *
 * test/fleet.test.ts renders the fleet of twenty once and reads each one's delivery objects;
 * `npm run bench -- --fleet-only` times the synth of fleets of 5, 10 and 20 (bench/run.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { projectCopy } from './project-copy';

/** The size of the fleet the issue asks for. */
export const FLEET_SIZE = 20;

/** The environments every fleet starts from: the project's own four, in this order. */
const ORIGINALS = ['lab', 'prod-aks', 'prod-gke', 'prod-eks'] as const;
type Original = (typeof ORIGINALS)[number];

/**
 * The commit the promoted copies follow, as `npm run promote` writes it. The copy is no git
 * repository, so the synth cannot look it up and says so (a warning); in a clone it must be a commit
 * of the branch.
 */
export const FLEET_PROMOTED_COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** One environment of the fleet: its name, the file it was copied from, and its revision. */
export interface FleetMember {
  readonly name: string;
  readonly copiedFrom: Original;
  /** Absent for the project's own four (their files are untouched). */
  readonly file?: string;
  readonly revision: 'tip' | 'unpromoted' | typeof FLEET_PROMOTED_COMMIT;
}

/** Replaces every `from` in `text`, refusing a replacement that changes nothing (the original moved on). */
function replaceAll(text: string, from: string, to: string, source: Original): string {
  if (!text.includes(from)) {
    throw new Error(`lib/environments/${source}.ts no longer holds ${JSON.stringify(from)}: update test/fleet.ts`);
  }
  return text.split(from).join(to);
}

const EKS_REGIONS = ['eu-west-1', 'us-east-1', 'ap-southeast-2', 'eu-central-1'];
const GKE_REGIONS = ['europe-west4', 'us-central1', 'asia-northeast1', 'europe-west1'];

/**
 * The file of the copy number `n` (1, 2, ...) of `source`, named `name`: the changes a person makes
 * after `cp`, each checked to have changed something.
 */
function copiedFile(source: Original, text: string, name: string, n: number, promoted: boolean): string {
  const two = String(n).padStart(2, '0');
  let out = replaceAll(text, `  name: '${source}',\n`, `  name: '${name}',\n`, source);
  switch (source) {
    case 'lab':
      out = replaceAll(out, "'lab.example'", `'${name}.lab.example'`, source);
      out = replaceAll(out, 'k8s-api.lab.example:6443', `k8s-api.${name}.lab.example:6443`, source);
      out = replaceAll(out, "clusterName: 'lab',", `clusterName: '${name}',`, source);
      // Each lab its own network: 192.168.50.0/24 becomes 192.168.(50 + n).0/24, likewise for IPv6.
      out = replaceAll(out, '192.168.50.', `192.168.${50 + n}.`, source);
      out = replaceAll(out, 'fd00:50::', `fd00:${50 + n}::`, source);
      break;
    case 'prod-aks':
      out = replaceAll(out, "'prod.lab-to-prod.example'", `'${name}.lab-to-prod.example'`, source);
      out = replaceAll(
        out,
        "const TENANT_ID = '00000000-0000-4000-8000-000000000000';",
        `const TENANT_ID = '00000000-0000-4000-8000-0000000000${two}';`,
        source,
      );
      break;
    case 'prod-gke':
      out = replaceAll(out, "'prod.lab-to-prod.example'", `'${name}.lab-to-prod.example'`, source);
      out = replaceAll(
        out,
        "const PROJECT_ID = 'example-lab-to-prod';",
        `const PROJECT_ID = 'example-${name}';`,
        source,
      );
      out = replaceAll(
        out,
        "const REGION = 'europe-west4';",
        `const REGION = '${GKE_REGIONS[n % GKE_REGIONS.length]}';`,
        source,
      );
      break;
    case 'prod-eks':
      out = replaceAll(out, "'prod.lab-to-prod.example'", `'${name}.lab-to-prod.example'`, source);
      out = replaceAll(out, "const ACCOUNT_ID = '123456789012';", `const ACCOUNT_ID = '1234567890${two}';`, source);
      out = replaceAll(
        out,
        "const REGION = 'eu-west-1';",
        `const REGION = '${EKS_REGIONS[n % EKS_REGIONS.length]}';`,
        source,
      );
      out = replaceAll(out, "const CLUSTER_NAME = 'lab-to-prod';", `const CLUSTER_NAME = '${name}';`, source);
      break;
  }
  if (promoted) {
    out = replaceAll(out, "    revision: 'unpromoted',\n", `    revision: '${FLEET_PROMOTED_COMMIT}',\n`, source);
  }
  return out;
}

/**
 * The members of a fleet of `size`: the project's four, then copies taken in turn of prod-aks,
 * prod-gke, prod-eks and the lab (`prod-aks-02`, `prod-gke-02`, ...), every second production copy
 * of each kind promoted.
 */
export function fleetMembers(size: number = FLEET_SIZE): FleetMember[] {
  if (!Number.isInteger(size) || size < ORIGINALS.length) {
    throw new Error(`a fleet holds the project's ${ORIGINALS.length} environments and more: ${size} is too few`);
  }
  const revisionOf = (source: Original): FleetMember['revision'] => (source === 'lab' ? 'tip' : 'unpromoted');
  const members: FleetMember[] = ORIGINALS.map((name) => ({ name, copiedFrom: name, revision: revisionOf(name) }));
  const order: Original[] = ['prod-aks', 'prod-gke', 'prod-eks', 'lab'];
  const copies = new Map<Original, number>();
  for (let i = 0; members.length < size; i++) {
    const source = order[i % order.length];
    const n = (copies.get(source) ?? 0) + 1;
    copies.set(source, n);
    const name = `${source}-${String(n + 1).padStart(2, '0')}`;
    const promoted = source !== 'lab' && n % 2 === 0;
    members.push({
      name,
      copiedFrom: source,
      file: `lib/environments/${name}.ts`,
      revision: promoted ? FLEET_PROMOTED_COMMIT : revisionOf(source),
    });
  }
  return members;
}

/**
 * A copy of the project holding a fleet of `size` environments: the copied environment files
 * written into its lib/environments/, nothing else changed. The caller removes the folder.
 */
export function fleetCopy(
  size: number = FLEET_SIZE,
  prefix = 'lab-to-prod-fleet-',
): { dir: string; members: FleetMember[] } {
  const dir = projectCopy(prefix);
  const members = fleetMembers(size);
  const counts = new Map<Original, number>();
  for (const member of members) {
    if (member.file === undefined) continue;
    const n = (counts.get(member.copiedFrom) ?? 0) + 1;
    counts.set(member.copiedFrom, n);
    const original = fs.readFileSync(path.join(dir, 'lib', 'environments', `${member.copiedFrom}.ts`), 'utf8');
    const promoted = member.revision === FLEET_PROMOTED_COMMIT;
    fs.writeFileSync(
      path.join(dir, member.file),
      copiedFile(member.copiedFrom, original, member.name, n + 1, promoted),
    );
  }
  return { dir, members };
}
