/**
 * The udev rule shipped in udev/60-mdevctl.rules: it matches the parent's registration (change
 * with MDEV_STATE=registered) and add events when definitions exist, and its command really
 * starts the parent's auto-start devices when run as udev would run it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeTree } from './support/tree';
import { cliShellCommand, REPO } from './support/cli';

const RULES = fs.readFileSync(path.join(REPO, 'udev', '60-mdevctl.rules'), 'utf8');

/** Rules as lists of key/op/value, with line continuations joined and comments dropped. */
function parseRules(text: string): Array<Array<{ key: string; op: string; value: string }>> {
  const lines = text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'));
  return lines.map((l) => [...l.matchAll(/([A-Z_]+(?:\{[^}]+\})?)\s*(==|\+=|=|!=)\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => ({ key: m[1], op: m[2], value: m[3] })));
}

test('two rules: change+registered and add, both only when definitions exist', () => {
  const rules = parseRules(RULES);
  expect(rules).toHaveLength(2);
  const [change, add] = rules;
  expect(change).toEqual(
    expect.arrayContaining([
      { key: 'ACTION', op: '==', value: 'change' },
      { key: 'ENV{MDEV_STATE}', op: '==', value: 'registered' },
      { key: 'TEST', op: '==', value: '/etc/mdevctl.d/$kernel' },
    ]),
  );
  expect(add).toEqual(
    expect.arrayContaining([
      { key: 'ACTION', op: '==', value: 'add' },
      { key: 'TEST', op: '==', value: '/etc/mdevctl.d/$kernel' },
    ]),
  );
  for (const r of rules) {
    const runs = r.filter((k) => k.key === 'RUN');
    expect(runs).toHaveLength(1);
    expect(runs[0].op).toBe('+=');
    expect(runs[0].value).toContain('mdevctl start-parent-mdevs %k 2>&1 | logger -t mdevctl');
  }
});

test('the RUN command, with %k substituted, starts the auto devices and logs', () => {
  const t = new FakeTree().withStandardDirs();
  try {
    const P = '0000:00:02.0';
    const U = '11111111-0000-4000-8000-000000000001';
    t.addParent(P, { 'i915-GVTg_V5_4': { available: 2 } });
    t.addDefinition(P, U, { mdev_type: 'i915-GVTg_V5_4', start: 'auto', attrs: [] });
    // udev runs the program with a minimal environment; put our mdevctl and a logger that
    // records its input first on the PATH the rule sets up.
    const bin = t.p('bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'mdevctl'), `#!/bin/sh\nexec ${cliShellCommand()} "$@"\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'logger'), `#!/bin/sh\ncat > "${t.p('log')}"\n`, { mode: 0o755 });
    const cmd = parseRules(RULES)[0]
      .find((k) => k.key === 'RUN')!
      .value.replace(/^\/bin\/sh -c '/, '')
      .replace(/'$/, '')
      .replace('%k', P)
      .replace(/PATH=/, `PATH=${bin}:`);
    const r = spawnSync('/bin/sh', ['-c', cmd], { env: { MDEVCTL_ENV_ROOT: t.root }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(t.read(`sys/devices/pci0000:00/${P}/mdev_supported_types/i915-GVTg_V5_4/create`)).toBe(U);
    expect(t.read('log')).toBe('');
  } finally {
    t.cleanup();
  }
});
