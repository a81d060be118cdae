/**
 * The workloads, in the order they are applied: each is one file here (its construct, its default
 * scale and its entry, the file's default export), and this list is the one place that names them.
 * Everything generic reads it: the app builds each one in turn (lib/synth/app.ts), and its position
 * numbers its file in dist/ (the platform is 00, then 10, 20, ...); the platform makes a namespace for
 * each app; an environment's `scale` is checked against each one's schema; the editors' JSON Schema
 * lists each one's fields.
 *
 * A list rather than every file of this folder: the order is part of the design (the database before
 * the Jobs that migrate it), and one list says it where a reader looks.
 */
import api from './api';
import batch from './batch';
import db from './db';
import etcdBackup from './etcd-backup';
import sandboxed from './sandboxed';
import web from './web';
import { Workload } from './workload';

export const WORKLOADS: readonly Workload[] = [web, api, db, batch, sandboxed, etcdBackup];

/** The apps that get a namespace of their own, named after them, in the registry's order. */
export function appNamespaces(): string[] {
  return WORKLOADS.filter((w) => w.appNamespace).map((w) => w.name);
}

export type { Workload } from './workload';
