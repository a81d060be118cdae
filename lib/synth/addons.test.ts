/**
 * The platform add-ons in dist/<env>/: their CRDs verbatim in 00-<add-on>-crds.yaml, their other
 * objects in 01-<add-on>.yaml (Namespace first, patched with the environment's settings), all before
 * the platform (05-platform.yaml) and the workloads, and apart from the objects the guardrail checks read.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ENVIRONMENTS, environmentNames } from '../environments';
import { withChange } from '../../test/helpers';
import { ADDONS } from '../addons';
import { ADDON_OBJECT_LABELS, withoutNulls } from '../addons/render';
import { addonWaves } from '../addons/waves';
import { upstreamDocuments, upstreamObjects } from '../addons/upstream';
import { KubeObject } from '../k8s/kube-object';
import { renderEnvironment, RenderedEnvironment } from './render';
import { synthesize } from './synth';

const rendered = new Map<string, RenderedEnvironment>();
function render(name: string): RenderedEnvironment {
  let r = rendered.get(name);
  if (r === undefined) {
    r = renderEnvironment(ENVIRONMENTS[name]);
    rendered.set(name, r);
  }
  return r;
}

/** The text of a rendered file without its header comment. */
const body = (content: string | Buffer) => content.toString().replace(/^(#.*\n)+/, '');

function addonObject(r: RenderedEnvironment, addon: string, kind: string, name: string): KubeObject {
  const file = r.addons.find((a) => a.name === addon);
  const object = file?.objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (object === undefined) throw new Error(`${r.env.name}: no ${kind} ${name} in ${addon}`);
  return object;
}

const upstream = (addon: string, kind: string, name: string): KubeObject =>
  upstreamObjects(upstreamDocuments(addon)).find((o) => o.kind === kind && o.metadata.name === name)!;

describe.each(environmentNames())('%s', (name) => {
  test("the add-ons' files come first in name order, which is apply order, and the platform is 05-platform.yaml", () => {
    const r = render(name);
    const yamlFiles = [...r.files.keys()].filter((f) => f.endsWith('.yaml'));
    expect(yamlFiles).toEqual([...yamlFiles].sort());
    const installed = Object.keys(r.env.addons).sort();
    const waves = addonWaves(ADDONS, installed);
    expect(r.addons.map((a) => a.file)).toEqual(
      ADDONS.filter((d) => installed.includes(d.name)).map((d) => `0${waves.get(d.name)}-${d.name}.yaml`),
    );
    expect(yamlFiles.indexOf('05-platform.yaml')).toBe(
      installed.length +
        installed.filter((a) => upstreamDocuments(a).crds.length > 0).length +
        r.addons.filter((a) => a.resourcesFile !== undefined).length,
    );
    expect(yamlFiles).not.toContain('00-platform.yaml');
  });

  test("each add-on's CRDs are upstream's documents verbatim, and only there", () => {
    const r = render(name);
    for (const addon of Object.keys(r.env.addons)) {
      const { crds } = upstreamDocuments(addon);
      const file = r.files.get(`00-${addon}-crds.yaml`);
      if (crds.length === 0) {
        expect(file).toBeUndefined();
      } else {
        expect(body(file!)).toBe(crds.join('---\n'));
      }
    }
    for (const addon of r.addons) {
      expect(r.files.get(addon.file)).not.toMatch(/^kind: CustomResourceDefinition$/m);
    }
  });

  test("each add-on's file starts with its Namespace, labelled with the Pod Security level it needs", () => {
    const r = render(name);
    for (const file of r.addons) {
      const definition = ADDONS.find((d) => d.name === file.name)!;
      if (['kube-system', 'default'].includes(definition.namespace)) {
        expect(file.objects.filter((o) => o.kind === 'Namespace')).toEqual([]);
        continue;
      }
      expect(file.objects[0]).toMatchObject({ kind: 'Namespace', metadata: { name: definition.namespace } });
      expect(file.objects[0].metadata.labels['pod-security.kubernetes.io/enforce']).toBe(definition.podSecurity);
    }
  });

  test("the add-ons' objects are upstream's, not the project's: the guardrail checks do not read them", () => {
    const r = render(name);
    const files = new Set(r.objects.map((o) => o.file));
    for (const addon of r.addons) expect(files.has(addon.file)).toBe(false);
  });

  test('no add-on object keeps a null field (the API server reads one as absent, and kustomize drops it)', () => {
    const nulls = (value: unknown, at: string): string[] =>
      value === null
        ? [at]
        : typeof value === 'object'
          ? Object.entries(value).flatMap(([k, v]) =>
              Array.isArray(value) && v === null ? [] : nulls(v, `${at}.${k}`),
            )
          : [];
    const r = render(name);
    expect(
      r.addons.flatMap((a) => a.objects.flatMap((o) => nulls(o, `${a.file} ${o.kind}/${o.metadata.name}`))),
    ).toEqual([]);
  });

  test("every add-on object but the CRDs carries part-of=lab-to-prod, which deploy prunes by; its pods' labels are upstream's", () => {
    const r = render(name);
    for (const addon of r.addons) {
      for (const o of [...addon.objects, ...addon.resources]) {
        expect({
          at: `${addon.file} ${o.kind}/${o.metadata.name}`,
          partOf: o.metadata.labels?.['app.kubernetes.io/part-of'],
        }).toEqual({
          at: `${addon.file} ${o.kind}/${o.metadata.name}`,
          partOf: 'lab-to-prod',
        });
        const template = o.spec?.template?.metadata?.labels ?? {};
        const before = upstream(addon.name, o.kind, o.metadata.name)?.spec?.template?.metadata?.labels ?? {};
        expect(template['app.kubernetes.io/part-of']).toBe(before['app.kubernetes.io/part-of']);
      }
    }
    for (const file of [...r.files.keys()].filter((f) => f.endsWith('-crds.yaml'))) {
      expect(r.files.get(file)!.toString()).not.toContain('app.kubernetes.io/part-of');
    }
  });

  test("Traefik's Service is the environment's load balancer, with its annotations, class and families", () => {
    const r = render(name);
    const service = addonObject(r, 'traefik', 'Service', 'traefik');
    const lb = r.env.loadBalancing;
    expect(service.metadata.annotations ?? {}).toMatchObject(lb.serviceAnnotations);
    expect(service.spec.loadBalancerClass).toBe(lb.loadBalancerClass);
    expect(service.spec.ipFamilies).toEqual(lb.ipFamilies);
    expect(service.spec.ipFamilyPolicy).toBe(lb.ipFamilies.length > 1 ? 'RequireDualStack' : 'SingleStack');
  });
});

test("prod-eks's AWS Load Balancer Controller is wave 2, after cert-manager, whose Certificate and Issuers it holds; its own IngressClassParams in wave 3", () => {
  const r = render('prod-eks');
  const alb = r.addons.find((a) => a.name === 'aws-load-balancer-controller')!;
  expect(alb.file).toBe('02-aws-load-balancer-controller.yaml');
  expect(alb.resourcesFile).toBe('03-aws-load-balancer-controller-resources.yaml');
  expect(r.addons.find((a) => a.name === 'cert-manager')!.file).toBe('01-cert-manager.yaml');
  expect(alb.objects.filter((o) => o.apiVersion.startsWith('cert-manager.io/')).map((o) => o.kind)).toEqual([
    'Certificate',
    'Certificate',
    'Issuer',
    'Issuer',
  ]);
  // Upstream's List is two objects: the IngressClass (a built-in kind) with the controller, the
  // IngressClassParams (its own CRD's kind, which its own webhook admits) after it.
  expect(alb.objects.filter((o) => o.kind === 'List')).toEqual([]);
  expect(alb.objects.find((o) => o.kind === 'IngressClass')?.metadata.name).toBe('alb');
  expect(alb.resources.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.name}`)).toEqual([
    'elbv2.k8s.aws/v1beta1 IngressClassParams alb',
  ]);
  expect(body(r.files.get(alb.resourcesFile!)!)).not.toMatch(/^kind: (List|Deployment)$/m);
  const files = [...r.files.keys()];
  expect(files.indexOf(alb.resourcesFile!)).toBeLessThan(files.indexOf('05-platform.yaml'));
});

test("the lab's flannel hands out the cluster's pod subnets, both families", () => {
  const config = addonObject(render('lab'), 'flannel', 'ConfigMap', 'kube-flannel-cfg');
  const netConf = JSON.parse(config.data['net-conf.json']);
  expect(netConf).toMatchObject({
    Network: ENVIRONMENTS.lab.bootstrap!.podSubnets[0],
    EnableIPv6: true,
    IPv6Network: ENVIRONMENTS.lab.bootstrap!.podSubnets[1],
  });
});

test("MetalLB's controller is completed to Pod Security restricted; its speaker, which needs the host's network, is upstream's", () => {
  const r = render('lab');
  const controller = addonObject(r, 'metallb', 'Deployment', 'controller').spec.template.spec;
  expect(controller.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
  expect(controller.securityContext.runAsNonRoot).toBe(true);
  expect(controller.containers[0].securityContext.capabilities.drop).toEqual(['ALL']);
  expect(controller.containers[0].securityContext.allowPrivilegeEscalation).toBe(false);
  const speaker = withoutNulls(upstream('metallb', 'DaemonSet', 'speaker'));
  speaker.metadata.labels = { ...speaker.metadata.labels, ...ADDON_OBJECT_LABELS };
  expect(addonObject(r, 'metallb', 'DaemonSet', 'speaker')).toEqual(speaker);
});

test("cert-manager's controller answers DNS-01 as the cloud identity the environment uses, and the lab's as none", () => {
  const account = (env: string) => addonObject(render(env), 'cert-manager', 'ServiceAccount', 'cert-manager');
  expect(account('lab').metadata.annotations).toBeUndefined();
  expect(account('prod-eks').metadata.annotations).toEqual({
    'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/lab-to-prod-cert-manager',
  });
  expect(account('prod-gke').metadata.annotations).toEqual({
    'iam.gke.io/gcp-service-account': 'cert-manager-workload@example-lab-to-prod.iam.gserviceaccount.com',
  });
  const aks = ENVIRONMENTS['prod-aks'].loadBalancing.ingress.certificates;
  expect(account('prod-aks').metadata.annotations).toMatchObject({
    'azure.workload.identity/client-id':
      aks.kind === 'acme' && aks.dns01.provider === 'azure-dns' ? aks.dns01.managedIdentityClientId : '',
  });
  const pod = addonObject(render('prod-aks'), 'cert-manager', 'Deployment', 'cert-manager').spec.template.metadata;
  expect(pod.labels['azure.workload.identity/use']).toBe('true');
});

test("the lab's StorageClass is the platform's, not a second copy of local-path-provisioner's", () => {
  const r = render('lab');
  const classes = [...r.objects.map((o) => o.object), ...r.addons.flatMap((a) => a.objects)].filter(
    (o) => o.kind === 'StorageClass',
  );
  expect(classes.map((o) => o.metadata.name)).toEqual([ENVIRONMENTS.lab.storage.storageClassName]);
});

test('an unknown add-on stops the synth and leaves the output as it was', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'addons-synth-'));
  fs.mkdirSync(path.join(out, 'lab'));
  fs.writeFileSync(path.join(out, 'lab', '05-platform.yaml'), 'kind: Before\n');
  const broken = withChange(ENVIRONMENTS.lab, (e) => {
    e.addons['ingress-nginx'] = {};
  });
  expect(() => synthesize({ outdir: out, environments: [broken] })).toThrow(
    'environment "lab": addons.ingress-nginx: unknown field: {}: ',
  );
  expect(fs.readdirSync(out)).toEqual(['lab']);
  expect(fs.readdirSync(path.join(out, 'lab'))).toEqual(['05-platform.yaml']);
  expect(fs.readFileSync(path.join(out, 'lab', '05-platform.yaml'), 'utf8')).toBe('kind: Before\n');
});
