/** The CI example of docs/dry-runs.md (once the README's "Dry runs in CI"), run as written (after the install step it starts with). */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathWithNode, REPO } from './support/cli';
import { prerequisites } from './support/prerequisites';

// the example cats a write-only (0200) attribute file of the simulated device, as root can
const notRoot = prerequisites('readme-ci.test.ts', { root: true }, 'run npm test as root: the example reads a 0200 attribute file with cat');

(notRoot ? test.skip : test)('the "Dry runs in CI" example works as written', () => {
  const doc = fs.readFileSync(path.join(REPO, 'docs', 'dry-runs.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Dry runs in CI'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1];
  const script = block
    .split('\n')
    .filter((l) => !l.startsWith('npm ci'))
    .join('\n');
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: pathWithNode() };
  delete env.MDEVCTL_ENV_ROOT;
  delete env.MDEVCTL_SIMULATE;
  // --norc: bash reads /etc/bash.bashrc when its stdin looks like a remote shell's (a socket, as
  // Node's pipes are) and SHLVL says it is the first shell, and that file is not written for -u
  const r = spawnSync('bash', ['--norc', '-euo', 'pipefail', '-c', `${script}\nrm -rf "$(dirname "$root")"`], { cwd: REPO, encoding: 'utf8', env });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const uuid = /create "([0-9a-f-]{36})"/.exec(r.stdout)![1];
  const expected = [
    `sysfs-create /sys/class/mdev_bus/matrix/mdev_supported_types/vfio_ap-passthrough/create "${uuid}"`,
    `sysfs-write /sys/bus/mdev/devices/${uuid}/assign_adapter "5"`,
    `sysfs-write /sys/bus/mdev/devices/${uuid}/assign_domain "0xab"`,
    `${uuid} matrix vfio_ap-passthrough manual (defined)`,
    `0xab[`,
    '  {',
    '    "action": "remove-file",',
    `    "path": "/etc/mdevctl.d/matrix/${uuid}"`,
    '  }',
    ']',
  ].join('\n');
  expect(r.stdout).toBe(expected);
  // the plan shown in the doc is the one printed
  const shown = /The dry run of `start` above prints:\n\n```\n([\s\S]*?)```/.exec(section)![1];
  expect(r.stdout.startsWith(shown.replace(/UUID/g, uuid))).toBe(true);
});
