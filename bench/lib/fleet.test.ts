import { fitLine, LINEAR_TOLERANCE } from './fleet';

test('a straight line is fitted exactly: its fixed cost, its cost per environment, no residual', () => {
  const fit = fitLine([5, 10, 20].map((n) => ({ n, value: 300 + 40 * n })));
  expect(fit.fixed).toBeCloseTo(300);
  expect(fit.perEnvironment).toBeCloseTo(40);
  expect(fit.largestResidualShare).toBeCloseTo(0);
});

test('a cost per environment that grows with the fleet (quadratic) is further off the line than linear allows', () => {
  const fit = fitLine([5, 10, 20].map((n) => ({ n, value: 100 + 2 * n * n })));
  expect(fit.largestResidualShare).toBeGreaterThan(LINEAR_TOLERANCE);
});
