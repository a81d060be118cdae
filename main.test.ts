/**
 * Snapshots of every environment's rendered output: the review artifact. A change to any object
 * shows up here (and in dist/) for a reviewer to read; behaviour tests elsewhere assert what matters.
 */
import { environmentNames, selectEnvironments } from './lib/environments';
import { bootstrapFolder, renderEnvironment } from './lib/render';

describe.each(environmentNames())('%s', (name) => {
  const [env] = selectEnvironments([name]);
  const { files, bootstrapFiles } = renderEnvironment(env);
  // By path from dist/<env>/; the bootstrap files are beside it, in dist/<env>-bootstrap/.
  const all = new Map([...files, ...[...bootstrapFiles].map(([file, text]) => [`../${bootstrapFolder(name)}/${file}`, text] as const)]);

  test.each([...all.keys()])('%s', (file) => {
    expect(all.get(file)).toMatchSnapshot();
  });
});
