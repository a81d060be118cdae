import { ApiObject, JsonPatch } from 'cdk8s';
import { Environment } from '../environment';
import { KubeObject } from '../k8s/kube-object';

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
export function renderObject(obj: ApiObject): KubeObject {
  const patches = beyondTypedApi.get(obj);
  const json = obj.toJson() as KubeObject;
  return patches ? (JsonPatch.apply(json, ...patches) as KubeObject) : json;
}

/**
 * AppArmor's runtime default profile for a pod (https://kubernetes.io/docs/tutorials/security/apparmor/), where the nodes have
 * AppArmor (env.nodes.securityModule). Where they do not, nothing is added: a kubelet on a node
 * without AppArmor refuses a pod that asks for a profile ("Cannot enforce AppArmor: AppArmor is not
 * enabled on the host", a hard reject since Kubernetes 1.31), and that node's own module (SELinux on
 * Amazon Linux 2023 and Bottlerocket) confines the containers instead.
 *
 * Kubernetes 1.30 added `securityContext.appArmorProfile`, which the 1.28 API of cdk8s-plus-28
 * does not know. Every supported minor (lib/kubernetes-versions.ts, 1.31 and later) has it, and
 * its API server answers the older per-container annotation with a deprecation warning, so the
 * field is the only form written; the per-version schema checks would refuse it for a minor
 * without it.
 *
 * @param podTemplatePath JSON pointer to the pod template: `/spec/template` or `/spec/jobTemplate/spec/template`.
 *   The template must have a securityContext.
 */
export function applyAppArmorRuntimeDefault(
  obj: ApiObject,
  podTemplatePath: string,
  env: Pick<Environment, 'nodes'>,
): void {
  if (env.nodes.securityModule !== 'AppArmor') {
    return;
  }
  addBeyondTypedApi(
    obj,
    JsonPatch.add(`${podTemplatePath}/spec/securityContext/appArmorProfile`, { type: 'RuntimeDefault' }),
  );
}

/**
 * A preStop pause done by the kubelet itself: `lifecycle.preStop.sleep` (Kubernetes 1.29 alpha,
 * 1.30 beta and on by default, so in every supported minor), which the 1.28 typed API lacks. It
 * lets endpoints drop a stopping pod before SIGTERM, for images with no `sleep` binary to exec
 * (distroless).
 *
 * @param containerPath JSON pointer to the container: `/spec/template/spec/containers/0`.
 */
export function applyPreStopSleep(obj: ApiObject, containerPath: string, seconds: number): void {
  addBeyondTypedApi(obj, JsonPatch.add(`${containerPath}/lifecycle`, { preStop: { sleep: { seconds } } }));
}
