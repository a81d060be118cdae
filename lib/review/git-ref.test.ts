import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readRenderedDir } from './git-ref';

test('a rendered output folder: each environment\'s objects; its bootstrap folder beside it is not an environment', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'git-ref-'));
  fs.mkdirSync(path.join(out, 'lab'));
  fs.writeFileSync(path.join(out, 'lab', '00-platform.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n');
  fs.mkdirSync(path.join(out, 'lab-bootstrap'));
  fs.writeFileSync(path.join(out, 'lab-bootstrap', 'kubeadm.yaml'), 'apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n');
  try {
    expect(readRenderedDir(out)).toEqual(new Map([['lab', [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } }]]]));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
