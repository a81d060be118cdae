import { ApiObject, JsonPatch } from 'cdk8s';
import { Environment } from '../environment';

/**
 * The one place where rendered objects get fields that cdk8s-plus-28's typed 1.28 API cannot
 * express. Each function names the field it adds and why the typed API lacks it.
 *
 * Why not `ApiObject.addJsonPatch`: the L1 classes (`k8s.KubeDeployment` and friends) map their
 * output through the 1.28 schema after patches are applied, which drops any field 1.28 does not
 * know. These patches are therefore kept here and applied by `renderObject`, after that mapping.
 */
const beyondTypedApi = new WeakMap<ApiObject, JsonPatch[]>();

function addBeyondTypedApi(obj: ApiObject, patch: JsonPatch): void {
  beyondTypedApi.set(obj, [...(beyondTypedApi.get(obj) ?? []), patch]);
}

/** An object's final JSON: what its construct renders, plus the fields added here. */
export function renderObject(obj: ApiObject): any {
  const patches = beyondTypedApi.get(obj);
  const json = obj.toJson();
  return patches ? JsonPatch.apply(json, ...patches) : json;
}

/** The minor version of "1.N". */
function minorOf(kubernetesVersion: string): number {
  return Number(kubernetesVersion.split('.')[1]);
}

/**
 * AppArmor's runtime default profile for a pod (the primer, 1: AppArmor), where the nodes have
 * AppArmor (env.nodes.securityModule). Where they do not, nothing is added: a kubelet on a node
 * without AppArmor refuses a pod that asks for a profile ("Cannot enforce AppArmor: AppArmor is not
 * enabled on the host", a hard reject since Kubernetes 1.31), and that node's own module (SELinux on
 * Amazon Linux 2023 and Bottlerocket) confines the containers instead.
 *
 * Kubernetes 1.30 added `securityContext.appArmorProfile`, which the 1.28 API of cdk8s-plus-28
 * does not know; 1.30+ API servers answer the older per-container annotation with a deprecation
 * warning. So: the field where the environment's cluster has it, the annotation where it does not.
 *
 * @param podTemplatePath JSON pointer to the pod template: `/spec/template` or `/spec/jobTemplate/spec/template`.
 *   The template must have a securityContext and an annotations map.
 */
export function applyAppArmorRuntimeDefault(obj: ApiObject, podTemplatePath: string, containerNames: readonly string[],
  env: Pick<Environment, 'kubernetesVersion' | 'nodes'>): void {
  if (env.nodes.securityModule !== 'AppArmor') {
    return;
  }
  if (minorOf(env.kubernetesVersion) >= 30) {
    addBeyondTypedApi(obj, JsonPatch.add(`${podTemplatePath}/spec/securityContext/appArmorProfile`, { type: 'RuntimeDefault' }));
    return;
  }
  for (const name of containerNames) {
    const key = `container.apparmor.security.beta.kubernetes.io/${name}`.replace(/~/g, '~0').replace(/\//g, '~1');
    addBeyondTypedApi(obj, JsonPatch.add(`${podTemplatePath}/metadata/annotations/${key}`, 'runtime/default'));
  }
}

/**
 * A preStop pause done by the kubelet itself: `lifecycle.preStop.sleep` (Kubernetes 1.29 alpha,
 * 1.30 beta and on by default), which the 1.28 typed API lacks. It lets endpoints drop a stopping
 * pod before SIGTERM, for images with no `sleep` binary to exec (distroless). On an older cluster
 * the field does not exist, so nothing is added and the pod stops at once.
 *
 * @param containerPath JSON pointer to the container: `/spec/template/spec/containers/0`.
 */
export function applyPreStopSleep(obj: ApiObject, containerPath: string, seconds: number, kubernetesVersion: string): void {
  if (minorOf(kubernetesVersion) >= 30) {
    addBeyondTypedApi(obj, JsonPatch.add(`${containerPath}/lifecycle`, { preStop: { sleep: { seconds } } }));
  }
}
