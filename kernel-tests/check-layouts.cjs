// Host side of the layout check: compares the layouts the guest captured (RESULTS/layout-P.json)
// with the committed ones (kernel-tests/layouts/SERIES/P.json) that test/kernel-layout.test.ts
// holds the fixtures to, after normalising both (kernel-tests/layout.cjs). With --update, writes
// the fresh captures there instead.
//   node kernel-tests/check-layouts.cjs RESULTS SERIES [--update]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { normalise } = require('./layout.cjs');

const [results, series, flag] = process.argv.slice(2);
const dir = path.join(__dirname, 'layouts', series);
let bad = 0;
for (const parent of ['mtty', 'mdpy', 'mbochs']) {
  const freshFile = path.join(results, `layout-${parent}.json`);
  const committedFile = path.join(dir, `${parent}.json`);
  if (!fs.existsSync(freshFile)) {
    console.log(`  FAIL layout ${parent}: not captured`);
    bad++;
    continue;
  }
  const fresh = JSON.parse(fs.readFileSync(freshFile, 'utf8'));
  if (flag === '--update') {
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(freshFile, committedFile);
    console.log(`  ok   layout ${parent}: written to ${path.relative(process.cwd(), committedFile)}`);
    continue;
  }
  const committed = JSON.parse(fs.readFileSync(committedFile, 'utf8'));
  const a = normalise(fresh.layout, fresh.uuid);
  const b = normalise(committed.layout, committed.uuid);
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const diff = keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  if (diff.length === 0 && fresh.type === committed.type) {
    console.log(`  ok   layout ${parent}: as committed in ${path.relative(process.cwd(), committedFile)}`);
  } else {
    bad++;
    console.log(
      `  FAIL layout ${parent}: differs from ${path.relative(process.cwd(), committedFile)} at ${diff.slice(0, 5).join(', ')}` +
        `${diff.length > 5 ? ` (+${diff.length - 5})` : ''} (MDEVCTL_KERNEL_UPDATE_LAYOUTS=1 rewrites it; then check the fixtures)`,
    );
  }
}
process.exit(bad ? 1 : 0);
