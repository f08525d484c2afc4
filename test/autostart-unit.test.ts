/**
 * The systemd unit shipped in systemd/mdevctl-autostart.service: a oneshot after the modules and
 * NVIDIA's vGPU daemons and before libvirt, whose command, run as systemd runs it (its argv and
 * Environment=, a drop-in's value), starts the auto definitions of a fixture host whose type
 * appears late, and fails with a line per definition when one never comes.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliShellCommand, REPO, run } from './support/cli';
import { freshFixture, removeFixture } from './support/fixture';
import { parseUnit } from './support/systemd-unit';

const UNIT_FILE = path.join(REPO, 'systemd', 'mdevctl-autostart.service');
const UNIT = fs.readFileSync(UNIT_FILE, 'utf8');
const A = '11111111-0000-4000-8000-00000000000a';
const B = '11111111-0000-4000-8000-00000000000b';

const unit = parseUnit(UNIT);

test('a oneshot after the modules and the NVIDIA daemons, before libvirt and the guests; the drop-in example documented', () => {
  expect(unit.Service.Type).toEqual(['oneshot']);
  expect(unit.Service.RemainAfterExit).toEqual(['yes']);
  expect(unit.Unit.After).toEqual(expect.arrayContaining(['systemd-modules-load.service', 'nvidia-vgpud.service', 'nvidia-vgpu-mgr.service']));
  expect(unit.Unit.Before).toEqual(expect.arrayContaining(['libvirtd.service', 'virtqemud.service', 'libvirt-guests.service', 'nova-compute.service']));
  expect(unit.Unit.ConditionDirectoryNotEmpty).toEqual(['/etc/mdevctl.d']);
  expect(unit.Install.WantedBy).toEqual(['multi-user.target']);
  expect(unit.Service.ExecStart).toEqual(['/usr/bin/env mdevctl start-all']);
  expect(unit.Service.Environment).toEqual(['MDEVCTL_AUTOSTART_WAIT=90']);
  // the unit's own timeout leaves the wait room
  expect(Number(unit.Service.TimeoutStartSec[0])).toBeGreaterThan(90);
  expect(UNIT).toContain('#     After=nvidia-vgpud.service nvidia-vgpu-mgr.service');
  expect(fs.readFileSync(path.join(REPO, 'man/mdevctl.8'), 'utf8')).toContain('After=nvidia\\-vgpud.service nvidia\\-vgpu\\-mgr.service');
});

test('systemd-analyze verify accepts it (where systemd-analyze is installed)', () => {
  const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    console.warn('systemd-analyze is not installed: unit not verified');
    return;
  }
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', UNIT_FILE], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

describe('its command, run as systemd runs it', () => {
  let root: string;
  let bin: string;
  beforeEach(() => {
    root = freshFixture('mtty');
    bin = path.join(path.dirname(root), 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'mdevctl'), `#!/bin/sh\nexec ${cliShellCommand()} "$@"\n`, { mode: 0o755 });
    fs.mkdirSync(path.join(root, 'etc/mdevctl.d/mtty'), { recursive: true });
  });
  afterEach(() => removeFixture(root));

  function define(uuid: string, type: string): void {
    fs.writeFileSync(path.join(root, 'etc/mdevctl.d/mtty', uuid), JSON.stringify({ mdev_type: type, start: 'auto', attrs: [] }));
  }
  function lateType(name: string, seconds: number): void {
    const dir = path.join(fs.realpathSync(path.join(root, 'sys/class/mdev_bus/mtty')), 'mdev_supported_types', `${name}.after-${seconds}`);
    fs.mkdirSync(path.join(dir, 'devices'), { recursive: true });
    for (const [f, v] of [
      ['available_instances', '2\n'],
      ['device_api', 'vfio-pci\n'],
      ['name', 'Late\n'],
      ['create', ''],
    ])
      fs.writeFileSync(path.join(dir, f), v);
  }
  function runUnit(dropIn: Record<string, string> = {}) {
    const env: NodeJS.ProcessEnv = { PATH: `${bin}:/usr/bin:/bin`, MDEVCTL_ENV_ROOT: root, MDEVCTL_SIMULATE: '1' };
    for (const e of unit.Service.Environment ?? []) {
      const [k, v] = e.split('=');
      env[k] = v;
    }
    Object.assign(env, dropIn);
    const [cmd, ...args] = unit.Service.ExecStart[0].split(' ');
    const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  test('a type registered 1 s late: started, the status says so', () => {
    lateType('mtty-3', 1);
    define(A, 'mtty-3');
    define(B, 'mtty-1');
    expect(runUnit()).toEqual({
      status: 0,
      stdout: '',
      stderr: `started ${B} on mtty (mtty-1)\nwaiting up to 90 s for 1 definition: ${A} (type mtty-3 is not offered by mtty)\nstarted ${A} on mtty (mtty-3)\n`,
    });
    expect(run(['status'], { root })).toEqual({ status: 0, stdout: `${A} mtty mtty-3 running\n${B} mtty mtty-1 running\n`, stderr: '' });
  });

  test("a type that never comes: the unit fails after the drop-in's wait, naming it", () => {
    lateType('mtty-9', 99999);
    define(A, 'mtty-9');
    expect(runUnit({ MDEVCTL_AUTOSTART_WAIT: '0.5' })).toEqual({
      status: 1,
      stdout: '',
      stderr:
        `waiting up to 0.5 s for 1 definition: ${A} (type mtty-9 is not offered by mtty)\n` +
        `Warning: not started ${A} on mtty (mtty-9): type mtty-9 is not offered by mtty (gave up after 0.5 s)\n` +
        'Error: 1 of 1 auto-start definition did not start\n',
    });
    expect(run(['status'], { root }).status).toBe(3);
  });
});
