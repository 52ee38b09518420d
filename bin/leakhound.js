#!/usr/bin/env node
const argv = process.argv.slice(2);
// `git --staged` runs in a pre-commit hook on every commit: a lean entry skips the full CLI's imports.
if (!(argv[0] === 'git' && argv.includes('--staged') && (await (await import('../dist/bundle/git-staged-entry.js')).runFast(argv.slice(1))))) {
  await import('../dist/bundle/main.js');
}
