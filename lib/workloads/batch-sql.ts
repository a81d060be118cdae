/**
 * The schema migrations the batch workload applies, one per version. A version is applied by a Job
 * named after it (`db-migrate-<version>`), from an immutable ConfigMap of the same name.
 *
 * Each script must be idempotent (IF NOT EXISTS, ON CONFLICT DO NOTHING): a finished Job is deleted
 * after ttlSecondsAfterFinished, and the next `kubectl apply` of dist/ creates and runs it again.
 * To change the schema, add a new version; never edit a released one (the ConfigMap and the Job's pod
 * template are immutable, so the API server would refuse the change anyway).
 */
export interface Migration {
  /** Lowercase letters, digits and "-": part of the Job's and ConfigMap's names, e.g. '0001'. */
  readonly version: string;
  /** The SQL, run in one transaction that stops at the first error. */
  readonly sql: string;
}

export const INITIAL_MIGRATION: Migration = {
  version: '0001',
  sql: [
    "-- The api's first table: greetings it can echo.",
    'CREATE TABLE IF NOT EXISTS greetings (',
    '  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,',
    '  text       text        NOT NULL,',
    '  created_at timestamptz NOT NULL DEFAULT now()',
    ');',
    'CREATE INDEX IF NOT EXISTS greetings_created_at ON greetings (created_at);',
    '',
  ].join('\n'),
};
