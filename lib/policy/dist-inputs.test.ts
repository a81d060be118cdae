import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkReadInputs, isAddonFile, readFolder } from './dist-inputs';

test.each([
  ['00-metallb-crds.yaml', true],
  ['00-cert-manager-crds.yaml', true],
  ['01-metallb.yaml', true],
  ['01-kube-network-policies.yaml', true],
  ['02-aws-load-balancer-controller.yaml', true],
  ['03-aws-load-balancer-controller-resources.yaml', true],
  ['04-late.yaml', true],
  ['05-platform.yaml', false],
  ['00-platform.yaml', false],
  ['10-web.yaml', false],
  ['01-metallb.json', false],
])('isAddonFile(%s) is %s', (file, expected) => {
  expect(isAddonFile(file)).toBe(expected);
});

// A node agent as a CNI ships it: privileged, on the host's network, none of our labels or budgets.
const nodeAgent = `apiVersion: v1
kind: Namespace
metadata:
  name: kube-flannel
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-flannel-ds
  namespace: kube-flannel
spec:
  selector:
    matchLabels:
      app: flannel
  template:
    metadata:
      labels:
        app: flannel
    spec:
      hostNetwork: true
      containers:
        - name: kube-flannel
          image: docker.io/flannel/flannel:v0.28.10
          securityContext:
            privileged: true
`;

describe('checkReadInputs: an add-on file is held to the Kubernetes schema, our files to every rule', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-inputs-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const findings = () =>
    checkReadInputs(readFolder(dir, 'lab', '1.35'))
      .filter((f) => !f.waived && f.severity === 'error')
      .map((f) => `${f.ruleId} ${f.kind}/${f.name}`);

  test("upstream's privileged DaemonSet in 01-flannel.yaml: no finding", () => {
    fs.writeFileSync(path.join(dir, '01-flannel.yaml'), nodeAgent);
    expect(findings()).toEqual([]);
  });

  test('the same objects in a file of ours: refused by the hardening rules', () => {
    fs.writeFileSync(path.join(dir, '10-agent.yaml'), nodeAgent);
    expect(findings()).toEqual(
      expect.arrayContaining([
        'pss/baseline/privileged DaemonSet/kube-flannel-ds',
        'pss/baseline/host-namespaces DaemonSet/kube-flannel-ds',
      ]),
    );
  });

  test('a field the schema does not have, in an add-on file: refused', () => {
    fs.writeFileSync(
      path.join(dir, '01-flannel.yaml'),
      nodeAgent.replace('      hostNetwork: true\n', '      hostNetwork: true\n      hostNetworking: true\n'),
    );
    expect(findings()).toEqual(['schema/unknown-field DaemonSet/kube-flannel-ds']);
  });

  test('a kind the checks have no schema for, in an add-on file: left to the API server; in a file of ours: refused', () => {
    const webhook = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: metallb-webhook-configuration
webhooks: []
`;
    fs.writeFileSync(path.join(dir, '01-metallb.yaml'), webhook);
    expect(findings()).toEqual([]);
    fs.renameSync(path.join(dir, '01-metallb.yaml'), path.join(dir, '10-hooks.yaml'));
    expect(findings()).toContain('schema/unknown-kind ValidatingWebhookConfiguration/metallb-webhook-configuration');
  });

  test('a null field in an add-on file is an absent one, as the API server reads it; in a file of ours: refused', () => {
    const withNull = nodeAgent.replace(
      '  name: kube-flannel-ds\n',
      '  name: kube-flannel-ds\n  annotations: null\n  creationTimestamp: null\n',
    );
    fs.writeFileSync(path.join(dir, '01-flannel.yaml'), withNull);
    expect(findings()).toEqual([]);
    fs.renameSync(path.join(dir, '01-flannel.yaml'), path.join(dir, '10-agent.yaml'));
    expect(findings()).toEqual(expect.arrayContaining(['schema/invalid DaemonSet/kube-flannel-ds']));
  });
});
