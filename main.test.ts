/**
 * Snapshots of every environment's rendered output: the review artifact. A change to any object
 * shows up here (and in dist/) for a reviewer to read; behaviour tests elsewhere assert what matters.
 */
import { ENVIRONMENT_NAMES } from './lib/environment';
import { selectEnvironments } from './lib/environments';
import { renderEnvironment } from './lib/render';

describe.each(ENVIRONMENT_NAMES)('%s', (name) => {
  const [env] = selectEnvironments([name]);
  const { files } = renderEnvironment(env);

  test.each([...files.keys()])('%s', (file) => {
    expect(files.get(file)).toMatchSnapshot();
  });
});
