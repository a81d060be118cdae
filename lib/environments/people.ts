import { ACCESS_ROLES, Environment, PeopleSignIn } from '../environment';

/**
 * Every group an environment binds people through (env.identity.people.groups), sorted: what the
 * RBAC guardrails accept as a binding's subjects (lib/policy/checks/rbac.ts).
 */
export function peopleGroups(env: Environment): string[] {
  return [
    ...new Set(Object.values(env.identity.people.groups).flatMap((byRole) => ACCESS_ROLES.map((role) => byRole[role]))),
  ].sort();
}

/** The checks' `peopleGroups` option for these environments. */
export function peopleGroupsByEnvironment(environments: readonly Environment[]): Record<string, string[]> {
  return Object.fromEntries(environments.map((env) => [env.name, peopleGroups(env)]));
}

/** How a person of this environment gets into one of its groups, in one sentence (dist/<env>/README.md). */
export function signInText(signIn: PeopleSignIn): string {
  switch (signIn.kind) {
    case 'client-certificate':
      return (
        "a client certificate signed by the cluster's CA through the CertificateSigningRequest API " +
        "(`npm run lab-access -- --user <name> --group <group>`); the certificate's organisation is the group"
      );
    case 'eks-access-entries':
      return 'an IAM role whose EKS access entry lists the group in `kubernetesGroups` (no access policy associated)';
    case 'gke-google-groups':
      return `membership of the Google Group, nested in \`${signIn.securityGroup}\` (Google Groups for RBAC)`;
    case 'entra-id-groups':
      return `membership of the Microsoft Entra group (by object ID) in tenant \`${signIn.tenantId}\``;
  }
}
