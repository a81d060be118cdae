import { checkManifests, formatReport, hasErrors } from '../index';
import { asInputs, find, goodApp } from '../fixtures/good-app';

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
    expect(findings).toEqual([expect.objectContaining({
      ruleId: 'practice/spread', environment: 'lab', kind: 'Deployment', namespace: 'shop', name: 'shop',
      waived: { reason: 'the lab has one node' },
    })]);
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
    expect(lines.filter((line) => /^[A-Z]/.test(line)).map((line) => line.split('  ')[0])).toEqual(['ERROR schema/label-syntax', 'WAIVED ERROR practice/spread']);
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
    expect(findings.map((f) => [f.ruleId, f.waived])).toEqual([['practice/spread', undefined], ['policy/waiver-reason', undefined]]);
    expect(hasErrors(findings)).toBe(true);
  });
});

describe('the report', () => {
  it('names environment, object, rule, field, message and construct path, then counts', () => {
    const objects = goodApp();
    find(objects, 'Deployment').spec.template.spec.containers[0].image = 'registry.example/shop:latest';
    const report = formatReport(checkManifests(asInputs(objects, 'prod-eks')));
    expect(report).toBe([
      'ERROR practice/image-pinned  [prod-eks] Deployment/shop/shop',
      '  field:     spec.template.spec.containers[0].image',
      '  message:   image "registry.example/shop:latest" uses the tag "latest": pin a version tag or a digest',
      '  construct: prod-eks/Deployment/shop',
      '',
      'policy: 1 error(s), 0 warning(s), 0 waived (prod-eks)',
    ].join('\n'));
  });

  it('says so when there is nothing to report', () => {
    expect(formatReport([])).toBe('policy: 0 error(s), 0 warning(s), 0 waived');
    expect(hasErrors([])).toBe(false);
  });

  it('counts warnings apart from errors; warnings alone do not fail', () => {
    const objects = goodApp();
    find(objects, 'Deployment').metadata.annotations = {
      'policy.lab-to-prod.io/waive': 'practice/spread', 'policy.lab-to-prod.io/waive-reason': 'stale',
    };
    const findings = checkManifests(asInputs(objects));
    expect(findings.map((f) => f.severity)).toEqual(['warning']);
    expect(hasErrors(findings)).toBe(false);
    expect(formatReport(findings)).toMatch(/policy: 0 error\(s\), 1 warning\(s\), 0 waived/);
  });

  it('never prints a Secret value', () => {
    const objects = goodApp();
    objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'shop' }, stringData: { password: 'hunter2-value' } });
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

  it('are checked against the schema of their Kubernetes version (appArmorProfile is 1.30+)', () => {
    const objects = goodApp();
    find(objects, 'Deployment').spec.template.spec.securityContext.appArmorProfile = { type: 'RuntimeDefault' };
    expect(checkManifests(asInputs(objects, 'new', '1.33'))).toEqual([]);
    expect(checkManifests(asInputs(objects, 'old', '1.28'))).toEqual([expect.objectContaining({
      ruleId: 'schema/unknown-field', fieldPath: 'spec.template.spec.securityContext.appArmorProfile',
    })]);
    // 1.30 has no schema of its own: the nearest lower one (1.28) is used
    expect(checkManifests(asInputs(objects, 'mid', '1.30')).map((f) => f.ruleId)).toEqual(['schema/unknown-field']);
  });

  it('run one Kubernetes version each', () => {
    const inputs = [...asInputs(goodApp().slice(0, 1), 'lab', '1.33'), ...asInputs(goodApp().slice(1, 2), 'lab', '1.28')];
    expect(() => checkManifests(inputs)).toThrow('environment "lab" has objects for several Kubernetes versions (1.33, 1.28)');
  });

  it('refuse a version that is not one', () => {
    expect(() => checkManifests(asInputs(goodApp(), 'lab', 'latest'))).toThrow('kubernetesVersion "latest" is not a version; expected MAJOR.MINOR like "1.33"');
  });

  it('refuse a version with no schema at or below it', () => {
    expect(() => checkManifests(asInputs(goodApp(), 'ancient', '1.20'))).toThrow('no Kubernetes schema at or below 1.20; available: 1.28, 1.33');
  });
});
