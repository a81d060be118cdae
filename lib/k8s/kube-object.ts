/**
 * A Kubernetes object as plain JSON: what a construct renders, what dist/ holds, what kubectl reads.
 * Its fields depend on its kind, and of every kind the project renders or reads back, so they are
 * `any` here rather than typed: the API's own OpenAPI schema checks them (the policy's schema check).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the one place a Kubernetes object's fields are untyped, for the reason above
export type KubeObject = Record<string, any>;
