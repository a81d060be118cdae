/**
 * What the workloads that share the database agree on.
 *
 * The database password: one Secret of this name in each namespace that reads it (db, api, batch),
 * each declared through the platform's secret helper, so its value is made in the cluster (an
 * ExternalSecret in production, `npm run lab-secrets` in the lab) and never written to dist/.
 */
export const DB_CREDENTIALS = { secretName: 'db-credentials', passwordKey: 'password' } as const;
