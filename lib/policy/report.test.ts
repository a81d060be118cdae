import { checkManifests, formatReport, hasErrors } from './index';
import { asInputs, find, goodApp } from './fixtures/good-app';

describe('waivers', () => {
  const waived = () => {
    const objects = goodApp();
    const deployment = find(objects, 'Deployment');
    delete deployment.spec.template.spec.topologySpreadConstraints;
    deployment.metadata.annotations = {
      'policy.lab-to-prod.io/waive': 'practice/spread',
      'policy.lab-to-prod.io/waive-reason': 'the lab has one node',
    };
    return checkManifests(asInputs(objects, 'lab'));
  };

  it('keep the finding, marked waived with the recorded reason, and do not fail', () => {
    const findings = waived();
    expect(findings).toEqual([
      expect.objectContaining({
        ruleId: 'practice/spread',
        environment: 'lab',
        kind: 'Deployment',
        namespace: 'shop',
        name: 'shop',
        waived: { reason: 'the lab has one node' },
      }),
    ]);
    expect(hasErrors(findings)).toBe(false);
  });

  it('are counted in the report, not listed', () => {
    expect(formatReport(waived())).toBe('policy: 0 error(s), 0 warning(s), 1 waived (lab)');
  });

  it('show in the report with their reason when asked for, after the errors', () => {
    const objects = goodApp();
    const deployment = find(objects, 'Deployment');
    delete deployment.spec.template.spec.topologySpreadConstraints;
    deployment.metadata.annotations = {
      'policy.lab-to-prod.io/waive': 'practice/spread',
      'policy.lab-to-prod.io/waive-reason': 'the lab has one node',
    };
    // An error on an object checked after the waived one.
    find(objects, 'Service').metadata.labels = { release: 'kube prometheus' };
    const lines = formatReport(checkManifests(asInputs(objects, 'lab')), { listWaived: true }).split('\n');
    expect(lines.filter((line) => /^[A-Z]/.test(line)).map((line) => line.split('  ')[0])).toEqual([
      'ERROR schema/label-syntax',
      'WAIVED ERROR practice/spread',
    ]);
  });

  it('show in the report with their reason', () => {
    const report = formatReport(waived(), { listWaived: true });
    expect(report).toContain('WAIVED ERROR practice/spread  [lab] Deployment/shop/shop');
    expect(report).toContain('waived:    the lab has one node');
    expect(report).toMatch(/policy: 0 error\(s\), 0 warning\(s\), 1 waived \(lab\)$/);
  });

  it('without a reason waive nothing', () => {
    const objects = goodApp();
    const deployment = find(objects, 'Deployment');
    delete deployment.spec.template.spec.topologySpreadConstraints;
    deployment.metadata.annotations = { 'policy.lab-to-prod.io/waive': 'practice/spread' };
    const findings = checkManifests(asInputs(objects));
    expect(findings.map((f) => [f.ruleId, f.waived])).toEqual([
      ['practice/spread', undefined],
      ['policy/waiver-reason', undefined],
    ]);
    expect(hasErrors(findings)).toBe(true);
  });
});

describe('the report', () => {
  it('names environment, object, rule, field, message and construct path, then counts', () => {
    const objects = goodApp();
    find(objects, 'Deployment').spec.template.spec.containers[0].image = 'registry.example/shop:latest';
    const report = formatReport(checkManifests(asInputs(objects, 'prod-eks')));
    expect(report).toBe(
      [
        'ERROR practice/image-pinned  [prod-eks] Deployment/shop/shop',
        '  field:     spec.template.spec.containers[0].image',
        '  message:   image "registry.example/shop:latest" uses the tag "latest": pin a version tag or a digest',
        '  construct: prod-eks/Deployment/shop',
        '',
        'policy: 1 error(s), 0 warning(s), 0 waived (prod-eks)',
      ].join('\n'),
    );
  });

  it('says so when there is nothing to report', () => {
    expect(formatReport([])).toBe('policy: 0 error(s), 0 warning(s), 0 waived');
    expect(hasErrors([])).toBe(false);
  });

  it('counts warnings apart from errors; warnings alone do not fail', () => {
    const objects = goodApp();
    find(objects, 'Deployment').metadata.annotations = {
      'policy.lab-to-prod.io/waive': 'practice/spread',
      'policy.lab-to-prod.io/waive-reason': 'stale',
    };
    const findings = checkManifests(asInputs(objects));
    expect(findings.map((f) => f.severity)).toEqual(['warning']);
    expect(hasErrors(findings)).toBe(false);
    expect(formatReport(findings)).toMatch(/policy: 0 error\(s\), 1 warning\(s\), 0 waived/);
  });

  it('never prints a Secret value', () => {
    const objects = goodApp();
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'shop' },
      stringData: { password: 'hunter2-value' },
    });
    expect(formatReport(checkManifests(asInputs(objects)))).not.toContain('hunter2-value');
  });
});

describe('environments', () => {
  it('resolve references within each environment only', () => {
    const lab = goodApp();
    const prod = goodApp().filter((o) => o.kind !== 'ConfigMap');
    const findings = checkManifests([...asInputs(lab, 'lab'), ...asInputs(prod, 'prod-gke')]);
    expect(findings.map((f) => `${f.environment} ${f.ruleId}`)).toEqual(['prod-gke refs/config-map']);
  });

  it('are checked against the schema of their own Kubernetes minor (lifecycle.stopSignal is 1.33+)', () => {
    const objects = goodApp();
    find(objects, 'Deployment').spec.template.spec.containers[0].lifecycle = { stopSignal: 'SIGTERM' };
    for (const minor of ['1.33', '1.34', '1.37']) {
      expect(checkManifests(asInputs(objects, 'new', minor)).filter((f) => f.ruleId.startsWith('schema/'))).toEqual([]);
    }
    for (const minor of ['1.31', '1.32']) {
      expect(checkManifests(asInputs(objects, 'old', minor))).toEqual([
        expect.objectContaining({
          ruleId: 'schema/unknown-field',
          fieldPath: 'spec.template.spec.containers[0].lifecycle.stopSignal',
          message: expect.stringContaining(`not in the Kubernetes ${minor} schema of apps/v1/Deployment`),
        }),
      ]);
    }
  });

  it("report a field their Kubernetes minor documents as deprecated, with upstream's words", () => {
    const objects = goodApp();
    const pod = find(objects, 'Deployment').spec.template.spec;
    pod.volumes = [...(pod.volumes ?? []), { name: 'src', gitRepo: { repository: 'https://git.example/shop.git' } }];
    const service = find(objects, 'Service');
    for (const minor of ['1.31', '1.35']) {
      const deprecated = checkManifests(asInputs(objects, 'lab', minor)).filter(
        (f) => f.ruleId === 'schema/deprecated-field',
      );
      expect(deprecated).toEqual([
        expect.objectContaining({
          kind: 'Deployment',
          fieldPath: `spec.template.spec.volumes[${pod.volumes.length - 1}].gitRepo`,
          message: expect.stringMatching(
            new RegExp(
              `^deprecated in Kubernetes ${minor.replace('.', '\\.')}: (DEPRECATED|Deprecated): GitRepo is deprecated`,
            ),
          ),
        }),
      ]);
    }
    pod.volumes.pop();
    service.spec.loadBalancerIP = '192.0.2.10';
    expect(checkManifests(asInputs(objects, 'lab', '1.35'))).toEqual([
      expect.objectContaining({
        ruleId: 'schema/deprecated-field',
        kind: 'Service',
        fieldPath: 'spec.loadBalancerIP',
      }),
    ]);
  });

  it('run one Kubernetes version each', () => {
    const inputs = [
      ...asInputs(goodApp().slice(0, 1), 'lab', '1.33'),
      ...asInputs(goodApp().slice(1, 2), 'lab', '1.35'),
    ];
    expect(() => checkManifests(inputs)).toThrow(
      'environment "lab" has objects for several Kubernetes versions (1.33, 1.35)',
    );
  });

  it.each(['latest', '1.30', '1.38', '1.33.4', '1.20'])(
    'refuse %j, a version with no schema of its own, listing the supported ones',
    (version) => {
      expect(() => checkManifests(asInputs(goodApp(), 'lab', version))).toThrow(
        `kubernetesVersion "${version}" has no API schema here; supported minor versions: 1.31, 1.32, 1.33, 1.34, 1.35, 1.36, 1.37`,
      );
    },
  );
});
