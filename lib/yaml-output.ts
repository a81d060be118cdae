import { dump } from 'js-yaml';

/**
 * The YAML of rendered documents, one after another with `---` between them, as `kubectl apply -f`
 * reads them. js-yaml writes it (about three times as fast as the `yaml` library behind cdk8s's
 * Yaml.stringify, which dominated the synth's time at scale); it quotes every string that YAML 1.1,
 * which kubectl's parser speaks, would read as something else (`"on"`, `"yes"`, `"0123"`), and a test
 * reads every rendered file back as YAML 1.1 to the same objects. Keys keep their order, long lines
 * are never folded, and multi-line text is a literal block, so the output is byte-identical run to run.
 */
export function yamlDocuments(documents: readonly unknown[]): string {
  return documents.map((d) => dump(d, { lineWidth: -1, noRefs: true, quoteStyle: 'double' })).join('---\n');
}
