import { Problems } from '../k8s/validation';
import { checkWorkloadIdentity, workloadIdentity } from './workload-identity';

const secrets = { provider: 'lab-secrets-command' } as const;
/** People's access plays no part in workload identity. */
const people = { signIn: { kind: 'client-certificate' }, groups: {} } as const;

describe('workloadIdentity: one mapping from provider to annotations and labels', () => {
  test('none: nothing', () => {
    expect(workloadIdentity({ provider: 'none', secrets, people }, 'api')).toEqual({
      serviceAccountAnnotations: {},
      podLabels: {},
    });
  });

  test('aws-irsa: the role ARN from account, prefix and workload', () => {
    expect(
      workloadIdentity(
        { provider: 'aws-irsa', accountId: '210987654321', roleNamePrefix: 'shop-', secrets, people },
        'batch',
      ),
    ).toEqual({
      serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::210987654321:role/shop-batch' },
      podLabels: {},
    });
  });

  test('gke-workload-identity: the Google service account in the project', () => {
    expect(
      workloadIdentity({ provider: 'gke-workload-identity', projectId: 'shop-prod', secrets, people }, 'api')
        .serviceAccountAnnotations,
    ).toEqual({
      'iam.gke.io/gcp-service-account': 'api-workload@shop-prod.iam.gserviceaccount.com',
    });
  });

  test('azure-workload-identity: client and tenant IDs on the ServiceAccount, the opt-in label on pods', () => {
    const identity = {
      provider: 'azure-workload-identity',
      tenantId: '00000000-0000-4000-8000-000000000001',
      clientIds: { api: '00000000-0000-4000-8000-000000000002' },
      secrets,
      people,
    } as const;
    expect(workloadIdentity(identity, 'api')).toEqual({
      serviceAccountAnnotations: {
        'azure.workload.identity/client-id': '00000000-0000-4000-8000-000000000002',
        'azure.workload.identity/tenant-id': '00000000-0000-4000-8000-000000000001',
      },
      podLabels: { 'azure.workload.identity/use': 'true' },
    });
  });
});

describe('checkWorkloadIdentity', () => {
  const problems = (run: (p: Problems) => void): string => {
    const p = new Problems('test/api');
    run(p);
    try {
      p.throwIfAny();
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  };

  test('AKS needs a client ID for the workload', () => {
    const identity = { provider: 'azure-workload-identity', tenantId: 'x', clientIds: {}, secrets, people } as const;
    expect(problems((p) => checkWorkloadIdentity(p, identity, 'api'))).toContain(
      'test/api: env.identity.clientIds.api: Invalid value: undefined',
    );
  });

  test('GKE service account IDs must fit 6 to 30 characters', () => {
    const identity = { provider: 'gke-workload-identity', projectId: 'shop-prod', secrets, people } as const;
    expect(problems((p) => checkWorkloadIdentity(p, identity, 'api'))).toBe('');
    expect(problems((p) => checkWorkloadIdentity(p, identity, 'a-very-long-workload-name'))).toContain(
      'test/api: name: Invalid value: "a-very-long-workload-name"',
    );
  });

  test('the lab and EKS need nothing more', () => {
    expect(problems((p) => checkWorkloadIdentity(p, { provider: 'none', secrets, people }, 'api'))).toBe('');
    expect(
      problems((p) =>
        checkWorkloadIdentity(p, { provider: 'aws-irsa', accountId: '1', roleNamePrefix: '', secrets, people }, 'api'),
      ),
    ).toBe('');
  });
});
