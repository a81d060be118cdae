// The formatter's options: the ones closest to how the code was already written (tried against the
// whole tree, these changed the fewest lines), so `npm run format` kept the code's own shape.
export default {
  printWidth: 120,
  singleQuote: true,
  // Multi-line literals, parameter lists and calls already ended with a comma.
  trailingComma: 'all',
  // `(x) => ...` was the more common form.
  arrowParens: 'always',
};
