/**
 * The systemd unit shipped in systemd/mdevctl-vgpu.service: a oneshot ordered after the NVIDIA
 * vGPU manager and the VF set-up and before libvirt, whose command really brings back the auto
 * vGPU definitions of a rebooted fixture host when run as systemd would run it.
 */
import { prerequisites } from './support/prerequisites';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliShellCommand, REPO, run } from './support/cli';
import { makeFixture } from '../src/lib/kernel/fixtures';
import { simulateVgpuReboot } from '../src/lib/kernel/nvidia-vgpu-model';
import { Root } from '../src/lib/util/root';
import { parseUnit } from './support/systemd-unit';

const UNIT_FILE = path.join(REPO, 'systemd', 'mdevctl-vgpu.service');
const UNIT = fs.readFileSync(UNIT_FILE, 'utf8');

const unit = parseUnit(UNIT);

test('a oneshot after the vGPU manager and VF set-up, before libvirt and the guests', () => {
  expect(unit.Service.Type).toEqual(['oneshot']);
  expect(unit.Service.RemainAfterExit).toEqual(['yes']);
  expect(unit.Unit.After).toEqual(expect.arrayContaining(['nvidia-vgpu-mgr.service', 'nvidia-sriov-manage@ALL.service', 'pve-nvidia-sriov@ALL.service']));
  expect(unit.Unit.Before).toEqual(expect.arrayContaining(['libvirtd.service', 'virtqemud.service', 'pve-guests.service', 'nova-compute.service']));
  expect(unit.Unit.ConditionDirectoryNotEmpty).toEqual(['/etc/mdevctl-vgpu.d']);
  expect(unit.Install.WantedBy).toEqual(['multi-user.target']);
  expect(unit.Service.ExecStart).toEqual(['/usr/bin/env mdevctl vgpu start-all']);
});

const noAnalyze = prerequisites('vgpu-unit.test.ts (systemd-analyze verify)', { tools: ['systemd-analyze'] }, 'apt-get install systemd');

(noAnalyze ? test.skip : test)('systemd-analyze verify accepts it', () => {
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', UNIT_FILE], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('its command, run as systemd runs it, brings back the auto definitions after a reboot', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-unit-'));
  try {
    const root = makeFixture('nvidia_vfio', path.join(dir, 'host'));
    fs.rmSync(path.join(root, 'proc'), { recursive: true });
    simulateVgpuReboot(new Root(root));
    expect(run(['--root', root, 'vgpu', 'list']).stdout).toBe('');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'mdevctl'), `#!/bin/sh\nexec ${cliShellCommand()} "$@"\n`, { mode: 0o755 });
    const env: NodeJS.ProcessEnv = { PATH: `${bin}:/usr/bin:/bin`, MDEVCTL_ENV_ROOT: root, MDEVCTL_SIMULATE: '1' };
    for (const e of unit.Service.Environment ?? []) {
      const [k, v] = e.split('=');
      env[k] = v;
    }
    const [cmd, ...args] = unit.Service.ExecStart[0].split(' ');
    const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
    expect(r.stderr).toBe('VF 0000:3d:00.4: vGPU type 1150 (NVIDIA L40S-4Q) started\nVF 0000:5e:00.4: vGPU type 1148 (NVIDIA L40S-2Q) started\n');
    expect(r.status).toBe(0);
    expect(run(['--root', root, 'vgpu', 'list']).stdout).toBe('0000:3d:00.4 0000:3d:00.0 1150 NVIDIA L40S-4Q\n0000:5e:00.4 0000:5e:00.0 1148 NVIDIA L40S-2Q\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
