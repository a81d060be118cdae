/**
 * The README promises that every workload is held to a bar, as a list: each promise ends with the
 * guardrail rules that keep it (`practice/probes`, or a family such as `pss/restricted/*`). This
 * test reads that list beside the rule catalogue (lib/policy), so the two cannot drift: every
 * promise names rules, every rule named exists, and each promise, broken by the failing fixtures of
 * the rules it names (lib/policy/fixtures/failing-cases.ts), is refused by those rules.
 */
import * as fs from 'fs';
import * as path from 'path';
import { checkManifests, rules } from '../lib/policy';
import { failing } from '../lib/policy/fixtures/failing-cases';
import { asInputs, goodApp } from '../lib/policy/fixtures/good-app';

const ROOT = path.resolve(__dirname, '..');
const LEAD = 'Every workload is held to the same bar.';

interface ReadmePromise {
  readonly text: string;
  readonly ruleIds: string[];
}

/** The bullets of the list that follows the lead sentence: "- <promise>: `rule`, `rule`". */
function readmePromises(readme: string): ReadmePromise[] {
  const start = readme.indexOf(LEAD);
  if (start === -1) throw new Error(`README.md: the paragraph "${LEAD}" is missing`);
  const lines = readme.slice(start).split('\n');
  const first = lines.findIndex((line) => line.startsWith('- '));
  const bullets: string[] = [];
  for (const line of lines.slice(first)) {
    if (line.startsWith('- ')) bullets.push(line.slice(2));
    else if (line.startsWith('  ') && bullets.length > 0) bullets[bullets.length - 1] += ` ${line.trim()}`;
    else break;
  }
  return bullets.map((bullet) => {
    const match = /^(.*?):\s*((?:`[^`]+`(?:,\s*)?)+)$/.exec(bullet);
    return {
      text: match ? match[1] : bullet,
      ruleIds: match ? [...match[2].matchAll(/`([^`]+)`/g)].map((m) => m[1]) : [],
    };
  });
}

const ALL_RULE_IDS = rules.map((r) => r.id);

/** A rule id, or every rule of a family written `prefix/*`. */
function expand(ruleId: string): string[] {
  return ruleId.endsWith('/*')
    ? ALL_RULE_IDS.filter((id) => id.startsWith(ruleId.slice(0, -1)))
    : ALL_RULE_IDS.filter((id) => id === ruleId);
}

const promises = readmePromises(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));

describe("the README's promises and the rule catalogue", () => {
  it('lists the promises (at least the ones it has always made)', () => {
    const texts = promises.map((p) => p.text).join('\n');
    for (const word of [
      'Pod Security',
      'requests and limits',
      'startup',
      'ServiceAccount',
      'NetworkPolicies',
      'PodDisruptionBudget',
      'pinned',
      'recommended labels',
    ]) {
      expect(texts).toContain(word);
    }
  });

  it.each(promises.map((p) => [p.text, p] as const))('"%s" names rules that exist', (_text, promise) => {
    expect(promise.ruleIds.length).toBeGreaterThan(0);
    expect(promise.ruleIds.filter((id) => expand(id).length === 0)).toEqual([]);
    expect(promise.ruleIds.filter((id) => id.startsWith('policy/'))).toEqual([]);
  });

  it.each(promises.map((p) => [p.text, p] as const))(
    '"%s", broken, is refused by the rules it names',
    (_text, promise) => {
      for (const ruleId of promise.ruleIds.flatMap(expand)) {
        const cases = failing.filter(([id]) => id === ruleId);
        expect({ ruleId, hasFailingFixture: cases.length > 0 }).toEqual({ ruleId, hasFailingFixture: true });
        for (const [, what, mutate] of cases) {
          const objects = goodApp();
          mutate(objects);
          const refused = checkManifests(asInputs(objects), {
            platformProvided: { test: ['RuntimeClass/gvisor'] },
            peopleGroups: { test: ['shop-viewers'] },
          }).some((f) => f.ruleId === ruleId && f.severity === 'error' && !f.waived);
          expect({ ruleId, what, refused }).toEqual({ ruleId, what, refused: true });
        }
      }
    },
  );

  it('the good app keeps every promise', () => {
    const ids = new Set(promises.flatMap((p) => p.ruleIds.flatMap(expand)));
    const broken = checkManifests(asInputs(goodApp()), {
      platformProvided: { test: ['RuntimeClass/gvisor'] },
      peopleGroups: { test: ['shop-viewers'] },
    }).filter((f) => ids.has(f.ruleId));
    expect(broken).toEqual([]);
  });
});

describe('readmePromises', () => {
  it('reads a promise, its rules and a family; a bullet without rules names none', () => {
    const readme = [
      LEAD,
      '',
      '- probes: `practice/probes`, `pss/restricted/*`',
      '- two lines',
      '  long: `practice/spread`',
      '- no rules here',
      '',
      '- after the list',
    ].join('\n');
    expect(readmePromises(readme)).toEqual([
      { text: 'probes', ruleIds: ['practice/probes', 'pss/restricted/*'] },
      { text: 'two lines long', ruleIds: ['practice/spread'] },
      { text: 'no rules here', ruleIds: [] },
    ]);
  });
  it('says so when the paragraph is gone', () => {
    expect(() => readmePromises('# nothing')).toThrow(
      'README.md: the paragraph "Every workload is held to the same bar." is missing',
    );
  });
});
