/**
 * `mdevctl vgpu ...` on the `nvidia_vfio` fixture (two L40S PFs with four VFs each, laid out as
 * NVIDIA's vendor-specific VFIO driver lays them out; src/lib/kernel/nvidia-vgpu-model.ts), through the CLI:
 * every verb, the driver's errors (EPERM, EIO, EINVAL, EBUSY), an unbound VF, a VF held open by
 * QEMU, dry-run plans and --simulate runs, and a simulated reboot followed by start-all.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliEnv, RunResult, run } from './support/cli';
import { FakeTree } from './support/tree';
import { makeFixture } from '../src/lib/kernel/fixtures';
import { simulateVgpuReboot } from '../src/lib/kernel/nvidia-vgpu-model';
import { Root } from '../src/lib/util/root';
import { makeReferenceRoot, referenceSkipped, runReference } from './support/reference';
import { cliCommand, REPO } from './support/cli';
import { spawn } from 'node:child_process';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const api = require(path.join(REPO, 'dist', 'index.cjs')) as typeof import('../src');

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-vgpu-'));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

let n = 0;
function host(): FakeTree {
  return new FakeTree(makeFixture('nvidia_vfio', path.join(base, `host${n++}`)));
}

const PF1 = '0000:3d:00.0';
const PF2 = '0000:5e:00.0';
const OPEN_VF = '0000:3d:00.4'; // runs 1150, held open by qemu (pid 4242); auto definition
const MANUAL_VF = '0000:3d:00.5'; // manual definition (1150), not running
const FREE_VF = '0000:3d:00.6';
const AUTO_VF = '0000:5e:00.4'; // auto definition (1148), not running
const FREE_VF2 = '0000:5e:00.5';
const UNBOUND_VF = '0000:5e:00.7'; // bound to vfio-pci

const typeFile = (vf: string) => `sys/bus/pci/devices/${vf}/nvidia/current_vgpu_type`;
const current = (t: FakeTree, vf: string) => t.read(typeFile(vf));

function vg(t: FakeTree, args: string[], env: NodeJS.ProcessEnv = {}): RunResult {
  return run(['--root', t.root, ...args], { env });
}
const sim = (t: FakeTree, args: string[], env: NodeJS.ProcessEnv = {}) => vg(t, ['--simulate', 'vgpu', ...args], env);
const ok = (stdout = '', stderr = ''): RunResult => ({ status: 0, stdout, stderr });
const fail = (stderr: string): RunResult => ({ status: 1, stdout: '', stderr: `Error: ${stderr}\n` });

const L40S_ALL =
  '    1145  NVIDIA L40S-1B\n    1146  NVIDIA L40S-2B\n    1147  NVIDIA L40S-1Q\n    1148  NVIDIA L40S-2Q\n' +
  '    1149  NVIDIA L40S-3Q\n    1150  NVIDIA L40S-4Q\n    1151  NVIDIA L40S-6Q\n    1152  NVIDIA L40S-8Q\n' +
  '    1153  NVIDIA L40S-12Q\n    1154  NVIDIA L40S-16Q\n    1155  NVIDIA L40S-24Q\n    1156  NVIDIA L40S-48Q\n' +
  '    1157  NVIDIA L40S-1A\n    1158  NVIDIA L40S-2A\n    1159  NVIDIA L40S-3A\n    1160  NVIDIA L40S-4A\n' +
  '    1161  NVIDIA L40S-6A\n    1162  NVIDIA L40S-8A\n    1163  NVIDIA L40S-12A\n    1164  NVIDIA L40S-16A\n' +
  '    1165  NVIDIA L40S-24A\n    1166  NVIDIA L40S-48A\n    2164  NVIDIA L40S-3B\n';
const NOTE = '  creatable now (shrinks as VFs take framebuffer; not the supported list):\n';

describe('fixture: the layout of the real driver', () => {
  const t = host();
  test('VFs with physfn, driver, iommu_group, vfio-dev; PFs with virtfn and no nvidia/', () => {
    const vf = `sys/bus/pci/devices/${FREE_VF}`;
    expect(fs.realpathSync(t.p(vf, 'physfn'))).toBe(fs.realpathSync(t.p(`sys/bus/pci/devices/${PF1}`)));
    expect(fs.realpathSync(t.p(`sys/bus/pci/devices/${PF1}/virtfn2`))).toBe(fs.realpathSync(t.p(vf)));
    expect(path.basename(fs.readlinkSync(t.p(vf, 'driver')))).toBe('nvidia');
    expect(path.basename(fs.readlinkSync(t.p(`sys/bus/pci/devices/${UNBOUND_VF}/driver`)))).toBe('vfio-pci');
    expect(t.exists(`sys/bus/pci/devices/${UNBOUND_VF}/nvidia`)).toBe(false);
    expect(t.exists(`sys/bus/pci/devices/${PF1}/nvidia`)).toBe(false);
    expect(path.basename(fs.readlinkSync(t.p(vf, 'iommu_group')))).toBe('122');
    expect(fs.readdirSync(t.p(vf, 'vfio-dev'))).toEqual(['vfio2']);
    expect(current(t, FREE_VF)).toBe('0\n');
    expect(current(t, OPEN_VF)).toBe('1150\n');
    // a VF with a type lists only its own; its siblings only what fits beside it (same size)
    expect(t.read(`sys/bus/pci/devices/${OPEN_VF}/nvidia/creatable_vgpu_types`)).toBe('ID    : vGPU Name\n1150  : NVIDIA L40S-4Q\n');
    expect(t.read(`${vf}/nvidia/creatable_vgpu_types`)).toBe('ID    : vGPU Name\n1150  : NVIDIA L40S-4Q\n1160  : NVIDIA L40S-4A\n');
    expect(t.read(`sys/bus/pci/devices/${FREE_VF2}/nvidia/creatable_vgpu_types`).split('\n')).toHaveLength(25);
  });
});

describe('vgpu types', () => {
  const t = host();
  test('per PF: creatable now, with the VF counts', () => {
    expect(vg(t, ['vgpu', 'types'])).toEqual(
      ok(
        `PF ${PF1}: 3 free VFs, 1 with a vGPU, 0 not bound to nvidia\n${NOTE}    1150  NVIDIA L40S-4Q\n    1160  NVIDIA L40S-4A\n` +
          `PF ${PF2}: 3 free VFs, 0 with a vGPU, 1 not bound to nvidia\n${NOTE}${L40S_ALL}`,
      ),
    );
    expect(vg(t, ['vgpu', 'types', '--pf', PF1]).stdout).toBe(
      `PF ${PF1}: 3 free VFs, 1 with a vGPU, 0 not bound to nvidia\n${NOTE}    1150  NVIDIA L40S-4Q\n    1160  NVIDIA L40S-4A\n`,
    );
  });

  test('one VF: its own list', () => {
    expect(vg(t, ['vgpu', 'types', '--vf', OPEN_VF])).toEqual(ok(`VF ${OPEN_VF} (PF ${PF1}): vGPU type 1150\n${NOTE}    1150  NVIDIA L40S-4Q\n`));
    expect(vg(t, ['vgpu', 'types', '--vf', '5e:00.5']).stdout).toBe(`VF ${FREE_VF2} (PF ${PF2}): no vGPU type\n${NOTE}${L40S_ALL}`);
  });

  test('JSON: no trailing newline; ids as numbers', () => {
    const r = vg(t, ['vgpu', 'types', '--pf', PF1, '--dumpjson']);
    expect(r.status).toBe(0);
    expect(r.stdout.endsWith(']')).toBe(true);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        pf: PF1,
        free_vfs: [MANUAL_VF, FREE_VF, '0000:3d:00.7'],
        used_vfs: [OPEN_VF],
        unbound_vfs: [],
        creatable_now: [
          { id: 1150, name: 'NVIDIA L40S-4Q' },
          { id: 1160, name: 'NVIDIA L40S-4A' },
        ],
      },
    ]);
    const one = vg(t, ['vgpu', 'types', '--vf', OPEN_VF, '--dumpjson']);
    expect(one.stdout).toBe(JSON.stringify({ vf: OPEN_VF, pf: PF1, current_type: 1150, creatable_now: [{ id: 1150, name: 'NVIDIA L40S-4Q' }] }, null, 2));
  });

  test('errors: unbound VF, unknown PF, bad address, --pf with --vf', () => {
    expect(vg(t, ['vgpu', 'types', '--vf', UNBOUND_VF])).toEqual(fail(`VF ${UNBOUND_VF} has no vGPU types: it is bound to vfio-pci, not to nvidia`));
    expect(vg(t, ['vgpu', 'types', '--pf', '0000:99:00.0'])).toEqual(fail('PF 0000:99:00.0 has no NVIDIA vGPU VFs (is it an SR-IOV PF with VFs enabled?)'));
    expect(vg(t, ['vgpu', 'types', '--vf', '../../etc'])).toEqual(fail("Invalid VF '../../etc': expected a PCI address like 0000:3d:00.4"));
    const old = host(); // bound to nvidia, but a driver without the vendor-specific VFIO files
    fs.rmSync(old.p(`sys/bus/pci/devices/${FREE_VF}/nvidia`), { recursive: true });
    expect(vg(old, ['vgpu', 'types', '--vf', FREE_VF])).toEqual(
      fail(`VF ${FREE_VF} has no ${old.p(typeFile(FREE_VF))}: not an NVIDIA vendor-specific VFIO vGPU (vGPU 17 or later)`),
    );
    const r = vg(t, ['vgpu', 'types', '--pf', PF1, '--vf', OPEN_VF]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: the argument '--pf <PF>' cannot be used with '--vf <VF>'\n/);
  });

  test.each(['empty', 'nvidia', 'nvidia_sriov', 'demo'])('a host without vendor-specific VFIO (%s): nothing at all', (template) => {
    const empty = makeFixture(template, path.join(base, `none-${template}`));
    expect(run(['--root', empty, 'vgpu', 'types'])).toEqual(ok());
    expect(run(['--root', empty, 'vgpu', 'types', '--dumpjson'])).toEqual(ok('[]'));
    expect(run(['--root', empty, 'vgpu', 'list'])).toEqual(ok());
    expect(run(['--root', empty, 'vgpu', 'list', '-d', '--dumpjson'])).toEqual(ok('[]'));
  });
});

describe('vgpu list', () => {
  const t = host();
  test('running vGPUs; definitions with their state', () => {
    expect(vg(t, ['vgpu', 'list'])).toEqual(ok(`${OPEN_VF} ${PF1} 1150 NVIDIA L40S-4Q\n`));
    expect(vg(t, ['vgpu', 'list', '--defined'])).toEqual(
      ok(
        `${OPEN_VF} ${PF1} 1150 auto active NVIDIA L40S-4Q\n` +
          `${MANUAL_VF} ${PF1} 1150 manual inactive NVIDIA L40S-4Q\n` +
          `${AUTO_VF} ${PF2} 1148 auto inactive NVIDIA L40S-2Q\n`,
      ),
    );
    expect(vg(t, ['vgpu', 'list', '--dumpjson'])).toEqual(ok(JSON.stringify([{ vf: OPEN_VF, pf: PF1, type_id: 1150, type_name: 'NVIDIA L40S-4Q' }], null, 2)));
    const d = JSON.parse(vg(t, ['vgpu', 'list', '-d', '--dumpjson']).stdout);
    expect(d.map((x: { vf: string; state: string }) => `${x.vf} ${x.state}`)).toEqual([`${OPEN_VF} active`, `${MANUAL_VF} inactive`, `${AUTO_VF} inactive`]);
  });

  test('states: absent, unbound, other-type; a damaged file is skipped with a warning', () => {
    const u = host();
    const dir = u.p('etc/mdevctl-vgpu.d');
    const def = (vf: string, pf: string, id: number, name: string) =>
      fs.writeFileSync(path.join(dir, `${vf}.json`), JSON.stringify({ vf, pf, type_id: id, type_name: name, start: 'manual' }, null, 2));
    def('0000:3d:01.0', PF1, 1150, 'NVIDIA L40S-4Q');
    def(UNBOUND_VF, PF2, 1148, 'NVIDIA L40S-2Q');
    fs.unlinkSync(path.join(dir, `${OPEN_VF}.json`));
    def(OPEN_VF, PF1, 1160, 'NVIDIA L40S-4A');
    fs.writeFileSync(path.join(dir, `${FREE_VF}.json`), '{"vf":');
    const r = vg(u, ['vgpu', 'list', '-d']);
    expect(r.stdout).toBe(
      `${OPEN_VF} ${PF1} 1160 manual other-type NVIDIA L40S-4A\n` +
        `${MANUAL_VF} ${PF1} 1150 manual inactive NVIDIA L40S-4Q\n` +
        `0000:3d:01.0 ${PF1} 1150 manual absent NVIDIA L40S-4Q\n` +
        `${AUTO_VF} ${PF2} 1148 auto inactive NVIDIA L40S-2Q\n` +
        `${UNBOUND_VF} ${PF2} 1148 manual unbound NVIDIA L40S-2Q\n`,
    );
    expect(r.stderr).toMatch(new RegExp(`^Warning: Skipping vGPU definition ${u.p('etc/mdevctl-vgpu.d')}/${FREE_VF}.json: invalid JSON: .*\n$`));
  });
});

describe('vgpu define / modify / undefine', () => {
  test('define by id, by name, by alias; the file; refusals', () => {
    const t = host();
    const mdevBefore = new FakeTree(t.p('etc/mdevctl.d')).hash();
    expect(vg(t, ['vgpu', 'define', '--vf', FREE_VF, '-t', '1160', '--auto'])).toEqual(ok());
    expect(t.read(`etc/mdevctl-vgpu.d/${FREE_VF}.json`)).toBe(
      `{\n  "vf": "${FREE_VF}",\n  "pf": "${PF1}",\n  "type_id": 1160,\n  "type_name": "NVIDIA L40S-4A",\n  "start": "auto"\n}`,
    );
    expect(vg(t, ['vgpu', 'define', '--vf', FREE_VF2, '--type', 'nvidia l40s-8q'])).toEqual(ok());
    expect(vg(t, ['vgpu', 'define', '--vf', '5e:00.6', '--type', 'nvidia-2164'])).toEqual(ok());
    expect(vg(t, ['vgpu', 'list', '-d']).stdout).toContain(`${FREE_VF2} ${PF2} 1152 manual inactive NVIDIA L40S-8Q\n`);
    expect(vg(t, ['vgpu', 'list', '-d']).stdout).toContain(`0000:5e:00.6 ${PF2} 2164 manual inactive NVIDIA L40S-3B\n`);
    expect(new FakeTree(t.p('etc/mdevctl.d')).hash()).toBe(mdevBefore);

    const h = t.hash();
    expect(vg(t, ['vgpu', 'define', '--vf', FREE_VF, '-t', '1160'])).toEqual(
      fail(`VF ${FREE_VF} already has a vGPU definition (mdevctl vgpu modify changes it)`),
    );
    expect(vg(t, ['vgpu', 'define', '--vf', '0000:3d:00.7', '-t', '1148'])).toEqual(
      fail(`vGPU type '1148' is not creatable now on PF ${PF1}: see mdevctl vgpu types --pf ${PF1} (the list shrinks as VFs take framebuffer)`),
    );
    expect(vg(t, ['vgpu', 'define', '--vf', UNBOUND_VF, '-t', '1148'])).toEqual(
      fail(`VF ${UNBOUND_VF} is bound to vfio-pci, not to nvidia: NVIDIA vGPU types are set only on VFs bound to nvidia (never bind them to vfio-pci)`),
    );
    expect(vg(t, ['vgpu', 'define', '--vf', '0000:3d:01.0', '-t', '1148'])).toEqual(
      fail(
        `VF 0000:3d:01.0 not found (no ${t.p('sys/bus/pci/devices/0000:3d:01.0')}): are the GPU's virtual functions enabled (/usr/lib/nvidia/sriov-manage -e)?`,
      ),
    );
    expect(vg(t, ['vgpu', 'define', '--vf', FREE_VF2, '-t', '-3']).status).not.toBe(0);
    const usage = vg(t, ['vgpu', 'define', '--vf', '0000:3d:00.7', '-t', '1150', '--auto', '--manual']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^error: the argument '--auto' cannot be used with '--manual'\n\nUsage: mdevctl vgpu define \[OPTIONS\]/);
    const noType = vg(t, ['vgpu', 'define', '--vf', '0000:3d:00.7']);
    expect(noType.status).toBe(2);
    expect(noType.stderr).toMatch(/^error: the following required arguments were not provided:\n {2}--type <TYPE>\n/);
    expect(t.hash()).toBe(h);
  });

  test('dry run: the plan, nothing written', () => {
    const t = host();
    const h = t.hash();
    expect(vg(t, ['--dry-run', 'vgpu', 'define', '--vf', FREE_VF, '-t', '1150'])).toEqual(
      ok(
        `write-file /etc/mdevctl-vgpu.d/${FREE_VF}.json\n    {\n      "vf": "${FREE_VF}",\n      "pf": "${PF1}",\n` +
          `      "type_id": 1150,\n      "type_name": "NVIDIA L40S-4Q",\n      "start": "manual"\n    }\n`,
      ),
    );
    const j = vg(t, ['--dry-run', 'vgpu', 'undefine', '--vf', AUTO_VF, '--dumpjson']);
    expect(JSON.parse(j.stdout)).toEqual([{ action: 'remove-file', path: `/etc/mdevctl-vgpu.d/${AUTO_VF}.json` }]);
    expect(vg(t, ['vgpu', 'undefine', '--vf', AUTO_VF, '--dumpjson']).status).toBe(2);
    expect(t.hash()).toBe(h);
  });

  test('modify: start policy and type; undefine', () => {
    const t = host();
    expect(vg(t, ['vgpu', 'modify', '--vf', MANUAL_VF, '--auto'])).toEqual(ok());
    expect(vg(t, ['vgpu', 'modify', '--vf', AUTO_VF, '-t', '1152', '--manual'])).toEqual(ok());
    expect(vg(t, ['vgpu', 'list', '-d']).stdout).toBe(
      `${OPEN_VF} ${PF1} 1150 auto active NVIDIA L40S-4Q\n` +
        `${MANUAL_VF} ${PF1} 1150 auto inactive NVIDIA L40S-4Q\n` +
        `${AUTO_VF} ${PF2} 1152 manual inactive NVIDIA L40S-8Q\n`,
    );
    expect(vg(t, ['vgpu', 'modify', '--vf', AUTO_VF])).toEqual(fail('Nothing to modify: give --type, --auto or --manual'));
    expect(vg(t, ['vgpu', 'modify', '--vf', FREE_VF, '--auto'])).toEqual(fail(`No vGPU definition for VF ${FREE_VF} (mdevctl vgpu define makes one)`));
    expect(vg(t, ['vgpu', 'undefine', '--vf', OPEN_VF])).toEqual(ok());
    expect(t.exists(`etc/mdevctl-vgpu.d/${OPEN_VF}.json`)).toBe(false);
    expect(current(t, OPEN_VF)).toBe('1150\n'); // still running
    expect(vg(t, ['vgpu', 'undefine', '--vf', OPEN_VF])).toEqual(fail(`No vGPU definition for VF ${OPEN_VF}`));
    const u = vg(t, ['vgpu', 'undefine']);
    expect(u.status).toBe(2);
    expect(u.stderr).toMatch(/^error: the following required arguments were not provided:\n {2}--vf <VF>\n/);
  });
});

describe('vgpu start', () => {
  test('from the definition; the creatable lists shrink; already that type: nothing written', () => {
    const t = host();
    expect(sim(t, ['start', '--vf', MANUAL_VF])).toEqual(ok());
    expect(current(t, MANUAL_VF)).toBe('1150\n');
    expect(t.read(`sys/bus/pci/devices/${FREE_VF}/nvidia/creatable_vgpu_types`)).toBe('ID    : vGPU Name\n1150  : NVIDIA L40S-4Q\n1160  : NVIDIA L40S-4A\n');
    const h = t.hash();
    expect(sim(t, ['start', '--vf', MANUAL_VF])).toEqual(ok());
    expect(vg(t, ['vgpu', 'start', '--vf', OPEN_VF])).toEqual(ok()); // no --simulate needed: nothing is written
    expect(t.hash()).toBe(h);
    expect(vg(t, ['vgpu', 'list']).stdout).toBe(`${OPEN_VF} ${PF1} 1150 NVIDIA L40S-4Q\n${MANUAL_VF} ${PF1} 1150 NVIDIA L40S-4Q\n`);
  });

  test('--type without a definition; another type refused, replaced with --force', () => {
    const t = host();
    expect(sim(t, ['start', '--vf', FREE_VF2, '-t', '1148'])).toEqual(ok());
    expect(sim(t, ['start', '--vf', FREE_VF2, '-t', '1158'])).toEqual(
      fail(`VF ${FREE_VF2} already has vGPU type 1148 (NVIDIA L40S-2Q): stop it first, or use --force to replace it`),
    );
    expect(vg(t, ['--dry-run', 'vgpu', 'start', '--vf', FREE_VF2, '-t', '1158', '--force'])).toEqual(
      ok(`sysfs-write /${typeFile(FREE_VF2)} "0"\nsysfs-write /${typeFile(FREE_VF2)} "1158"\n`),
    );
    expect(current(t, FREE_VF2)).toBe('1148\n');
    expect(sim(t, ['start', '--vf', FREE_VF2, '-t', '1158', '--force'])).toEqual(ok());
    expect(current(t, FREE_VF2)).toBe('1158\n');
    expect(sim(t, ['start', '--vf', FREE_VF])).toEqual(fail(`No vGPU definition for VF ${FREE_VF}: give --type`));
  });

  test('the driver refuses: EIO, EINVAL, EPERM, each explained with the file', () => {
    const t = host();
    const f = t.p(typeFile(FREE_VF));
    expect(sim(t, ['start', '--vf', FREE_VF, '-t', '1148'])).toEqual(
      fail(
        `Failed to write 1148 to ${f}: Input/output error (EIO): the driver cannot create this vGPU now: no framebuffer left on the GPU, ` +
          'a framebuffer size other than its running vGPUs (heterogeneous mode off: nvidia-smi vgpu -shm 1), or a MIG GPU instance missing; see dmesg',
      ),
    );
    expect(sim(t, ['start', '--vf', FREE_VF, '-t', '4242'])).toEqual(
      fail(`Failed to write 4242 to ${f}: Invalid argument (EINVAL): not a vGPU type id of this GPU (see mdevctl vgpu types)`),
    );
    // the driver's own EPERM (a type set behind our back), through the fault seam
    fs.writeFileSync(t.p(`sys/bus/pci/devices/${FREE_VF}/nvidia/.simulate-error`), 'EPERM 1\n');
    expect(sim(t, ['start', '--vf', FREE_VF, '-t', '1150'])).toEqual(
      fail(`Failed to write 1150 to ${f}: Operation not permitted (EPERM): the VF already has a vGPU type (stop it first, or use --force)`),
    );
    expect(current(t, FREE_VF)).toBe('0\n');
  });

  test('an unbound VF, an absent VF, a PF are named as such; a dry run checks the same', () => {
    const t = host();
    const h = t.hash();
    const unbound = fail(
      `VF ${UNBOUND_VF} is bound to vfio-pci, not to nvidia: NVIDIA vGPU types are set only on VFs bound to nvidia (never bind them to vfio-pci)`,
    );
    expect(sim(t, ['start', '--vf', UNBOUND_VF, '-t', '1148'])).toEqual(unbound);
    expect(vg(t, ['--dry-run', 'vgpu', 'start', '--vf', UNBOUND_VF, '-t', '1148'])).toEqual(unbound);
    const driverLink = t.p(`sys/bus/pci/devices/${UNBOUND_VF}/driver`);
    const driverTarget = fs.readlinkSync(driverLink);
    fs.unlinkSync(driverLink);
    expect(sim(t, ['start', '--vf', UNBOUND_VF, '-t', '1148']).stderr).toBe(
      `Error: VF ${UNBOUND_VF} is not bound to any driver, not to nvidia: NVIDIA vGPU types are set only on VFs bound to nvidia (never bind them to vfio-pci)\n`,
    );
    expect(sim(t, ['start', '--vf', PF1, '-t', '1148']).stderr).toBe(
      `Error: VF ${PF1} has no ${t.p(`sys/bus/pci/devices/${PF1}/nvidia/current_vgpu_type`)}: not an NVIDIA vendor-specific VFIO vGPU (vGPU 17 or later)\n`,
    );
    fs.symlinkSync(driverTarget, driverLink);
    expect(t.hash()).toBe(h);
  });
});

describe('vgpu stop', () => {
  test('refused while QEMU holds the VFIO device, named; --force stops it', () => {
    const t = host();
    const h = t.hash();
    expect(sim(t, ['stop', '--vf', OPEN_VF])).toEqual(
      fail(`VF ${OPEN_VF} is in use: its VFIO device /dev/vfio/120 is open by qemu-system-x86 (pid 4242); shut the VM down first, or use --force`),
    );
    expect(vg(t, ['--dry-run', 'vgpu', 'stop', '--vf', OPEN_VF]).status).toBe(1);
    expect(t.hash()).toBe(h);
    expect(vg(t, ['--dry-run', 'vgpu', 'stop', '--vf', OPEN_VF, '--force'])).toEqual(
      ok(
        `sysfs-write /${typeFile(OPEN_VF)} "0"\n`,
        `Warning: Stopping VF ${OPEN_VF} although its VFIO device /dev/vfio/120 is open by qemu-system-x86 (pid 4242)\n`,
      ),
    );
    expect(t.hash()).toBe(h);
    expect(sim(t, ['stop', '--vf', OPEN_VF, '--force'])).toEqual(
      ok('', `Warning: Stopping VF ${OPEN_VF} although its VFIO device /dev/vfio/120 is open by qemu-system-x86 (pid 4242)\n`),
    );
    expect(current(t, OPEN_VF)).toBe('0\n');
    expect(vg(t, ['vgpu', 'list'])).toEqual(ok());
  });

  test('the cdev node counts too; a closed device stops; already 0 is success without a write', () => {
    const t = host();
    fs.unlinkSync(t.p('proc/4242/fd/23'));
    expect(sim(t, ['stop', '--vf', OPEN_VF]).stderr).toBe(
      `Error: VF ${OPEN_VF} is in use: its VFIO device /dev/vfio/devices/vfio0 is open by qemu-system-x86 (pid 4242); shut the VM down first, or use --force\n`,
    );
    fs.rmSync(t.p('proc/4242'), { recursive: true });
    expect(sim(t, ['stop', '--vf', OPEN_VF])).toEqual(ok());
    expect(current(t, OPEN_VF)).toBe('0\n');
    const h = t.hash();
    expect(vg(t, ['vgpu', 'stop', '--vf', OPEN_VF])).toEqual(ok());
    expect(t.hash()).toBe(h);
    expect(sim(t, ['stop', '--vf', UNBOUND_VF]).stderr).toMatch(/^Error: VF 0000:5e:00.7 is bound to vfio-pci, not to nvidia: /);
  });

  test('driver not ready (EBUSY): retried, bounded; the failure explained', () => {
    const t = host();
    fs.rmSync(t.p('proc/4242'), { recursive: true });
    const seam = t.p(`sys/bus/pci/devices/${OPEN_VF}/nvidia/.simulate-error`);
    fs.writeFileSync(seam, 'EBUSY 2\n');
    expect(sim(t, ['stop', '--vf', OPEN_VF])).toEqual(ok('', `VF ${OPEN_VF} is not ready (EBUSY); retrying for up to 10 s\n`));
    expect(current(t, OPEN_VF)).toBe('0\n');
    expect(sim(t, ['start', '--vf', OPEN_VF])).toEqual(ok());
    fs.writeFileSync(seam, 'EBUSY 1000\n');
    expect(sim(t, ['stop', '--vf', OPEN_VF], { MDEVCTL_VGPU_STOP_TIMEOUT: '0.3' })).toEqual({
      status: 1,
      stdout: '',
      stderr:
        `VF ${OPEN_VF} is not ready (EBUSY); retrying for up to 0.3 s\n` +
        `Error: Failed to write 0 to ${t.p(typeFile(OPEN_VF))}: Device or resource busy (EBUSY): the VF's VFIO device is in use (a VM still holds it)\n`,
    });
    expect(current(t, OPEN_VF)).toBe('1150\n');
    fs.writeFileSync(seam, 'EIO 1\n');
    expect(sim(t, ['stop', '--vf', OPEN_VF])).toEqual(
      fail(`Failed to write 0 to ${t.p(typeFile(OPEN_VF))}: Input/output error (EIO): the driver failed to destroy the vGPU; see dmesg`),
    );
  });
});

describe('vgpu start-all and a reboot', () => {
  test('starts exactly the auto definitions, in PF order; idempotent; after a reboot, the same again', () => {
    const t = host();
    fs.rmSync(t.p('proc/4242'), { recursive: true });
    const plan = vg(t, ['--dry-run', 'vgpu', 'start-all']);
    expect(plan).toEqual(ok(`sysfs-write /${typeFile(AUTO_VF)} "1148"\n`));
    expect(sim(t, ['start-all'])).toEqual(ok('', `VF ${AUTO_VF}: vGPU type 1148 (NVIDIA L40S-2Q) started\n`));
    const running = `${OPEN_VF} ${PF1} 1150 NVIDIA L40S-4Q\n${AUTO_VF} ${PF2} 1148 NVIDIA L40S-2Q\n`;
    expect(vg(t, ['vgpu', 'list']).stdout).toBe(running);
    const h = t.hash();
    expect(sim(t, ['start-all'])).toEqual(ok());
    expect(t.hash()).toBe(h);

    expect(simulateVgpuReboot(new Root(t.root))).toEqual([OPEN_VF, AUTO_VF]);
    expect(vg(t, ['vgpu', 'list'])).toEqual(ok());
    expect(t.read(`sys/bus/pci/devices/${FREE_VF}/nvidia/creatable_vgpu_types`).split('\n')).toHaveLength(25);
    expect(sim(t, ['start-all'])).toEqual(
      ok('', `VF ${OPEN_VF}: vGPU type 1150 (NVIDIA L40S-4Q) started\nVF ${AUTO_VF}: vGPU type 1148 (NVIDIA L40S-2Q) started\n`),
    );
    expect(vg(t, ['vgpu', 'list']).stdout).toBe(running);
    expect(current(t, MANUAL_VF)).toBe('0\n');
  });

  test('a type id that now names another type is not started; the others are; exit 1', () => {
    const t = host();
    fs.rmSync(t.p('proc/4242'), { recursive: true });
    simulateVgpuReboot(new Root(t.root));
    const file = t.p(`etc/mdevctl-vgpu.d/${OPEN_VF}.json`);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('NVIDIA L40S-4Q', 'NVIDIA L40S-4C'));
    expect(sim(t, ['start-all'])).toEqual({
      status: 1,
      stdout: '',
      stderr:
        `Warning: VF ${OPEN_VF}: type id 1150 now names 'NVIDIA L40S-4Q', not 'NVIDIA L40S-4C' as when it was defined (a driver upgrade?): ` +
        `not started; check mdevctl vgpu types and mdevctl vgpu modify --vf ${OPEN_VF} --type ...\n` +
        `VF ${AUTO_VF}: vGPU type 1148 (NVIDIA L40S-2Q) started\n` +
        'Error: 1 of 2 vGPU definitions could not be started\n',
    });
    expect(current(t, OPEN_VF)).toBe('0\n');
    expect(current(t, AUTO_VF)).toBe('1148\n');
  });

  test('VFs that have not appeared are waited for (bounded); another type on the VF is not replaced', async () => {
    const t = host();
    fs.rmSync(t.p('proc/4242'), { recursive: true });
    simulateVgpuReboot(new Root(t.root));
    const link = t.p(`sys/bus/pci/devices/${AUTO_VF}`);
    const target = fs.readlinkSync(link);
    fs.unlinkSync(link);
    const r = sim(t, ['start-all'], { MDEVCTL_VGPU_WAIT: '0.2' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `Waiting up to 0.2 s for VF ${AUTO_VF} to appear\n` +
        `VF ${OPEN_VF}: vGPU type 1150 (NVIDIA L40S-4Q) started\n` +
        `Warning: VF ${AUTO_VF} not found (no ${link}): are the GPU's virtual functions enabled (/usr/lib/nvidia/sriov-manage -e)?\n` +
        'Error: 1 of 2 vGPU definitions could not be started\n',
    );
    // the VF appears while start-all waits: the link is made once it says it is waiting
    const r2 = await new Promise<RunResult>((resolve) => {
      const child = spawn(...cliCommand(['--root', t.root, '--simulate', 'vgpu', 'start-all']), {
        env: { ...cliEnv(), MDEVCTL_VGPU_WAIT: '30' },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => {
        err += d;
        if (err.includes('to appear\n') && !fs.existsSync(link)) fs.symlinkSync(target, link);
      });
      child.on('close', (code) => resolve({ status: code ?? -1, stdout: out, stderr: err }));
    });
    expect(r2).toEqual(ok('', `Waiting up to 30 s for VF ${AUTO_VF} to appear\nVF ${AUTO_VF}: vGPU type 1148 (NVIDIA L40S-2Q) started\n`));
    // another type on a defined VF is left alone at boot
    expect(sim(t, ['stop', '--vf', AUTO_VF])).toEqual(ok());
    expect(sim(t, ['start', '--vf', AUTO_VF, '-t', '1158'])).toEqual(ok());
    const r3 = sim(t, ['start-all']);
    expect(r3.status).toBe(1);
    expect(r3.stderr).toContain(`Warning: VF ${AUTO_VF} already has vGPU type 1158 (NVIDIA L40S-2A): stop it first, or use --force to replace it\n`);
    expect(current(t, AUTO_VF)).toBe('1158\n');
  });
});

describe('callout and notifier scripts: the VF as the device, the PF as the parent', () => {
  test('pre/post/notify around define, start, stop; a refusing pre callout stops start unless --force', () => {
    const t = host();
    fs.rmSync(t.p('proc/4242'), { recursive: true });
    const log = t.p('calls.log');
    const script = (name: string, extra = '') => `#!/bin/sh\nIN=$(cat)\nprintf '%s %s <<%s\\n' '${name}' "$*" "$IN" >> '${log}'\n${extra}exit 0\n`;
    t.addScript('callouts', 'hook', script('hook', 'case "$*" in *"-e pre -a start"*) [ -e ' + t.p('refuse') + ' ] && exit 1;; esac\n'));
    t.addScript('notifiers', 'note', script('note'));
    expect(sim(t, ['start', '--vf', MANUAL_VF])).toEqual(ok());
    const cfg = '{"mdev_type":"nvidia-1150","start":"manual","attrs":[]}';
    const args = (e: string, a: string, s: string) => `-t nvidia-1150 -e ${e} -a ${a} -s ${s} -u ${MANUAL_VF} -p ${PF1}`;
    const provides = JSON.stringify({
      provides: {
        version: 2,
        actions: ['start', 'stop', 'define', 'undefine', 'modify', 'attributes', 'capabilities'],
        events: ['pre', 'post', 'notify', 'get', 'live'],
      },
    });
    expect(fs.readFileSync(log, 'utf8')).toBe(
      `hook ${args('get', 'capabilities', 'none')} <<${provides}\n` +
        `hook ${args('pre', 'start', 'none')} <<${cfg}\nhook ${args('post', 'start', 'success')} <<${cfg}\nnote ${args('notify', 'start', 'success')} <<\n`,
    );
    fs.unlinkSync(log);
    expect(sim(t, ['stop', '--vf', MANUAL_VF])).toEqual(ok());
    expect(fs.readFileSync(log, 'utf8').split('\n')[1]).toBe(`hook ${args('pre', 'stop', 'none')} <<${cfg}`);
    fs.writeFileSync(t.p('refuse'), '');
    expect(sim(t, ['start', '--vf', MANUAL_VF])).toEqual(fail(`Script '${t.p('usr/lib/mdevctl/scripts.d/callouts/hook')}' failed with status '1'`));
    expect(current(t, MANUAL_VF)).toBe('0\n');
    const forced = sim(t, ['start', '--vf', MANUAL_VF, '--force']);
    expect(forced.status).toBe(0);
    expect(forced.stderr).toMatch(/^Warning: Forcing operation 'start' despite callout failure/);
    expect(current(t, MANUAL_VF)).toBe('1150\n');
    fs.unlinkSync(log);
    expect(vg(t, ['vgpu', 'define', '--vf', FREE_VF2, '-t', '1148', '--auto'])).toEqual(ok());
    expect(fs.readFileSync(log, 'utf8').split('\n')[1]).toBe(
      `hook -t nvidia-1148 -e pre -a define -s none -u ${FREE_VF2} -p ${PF2} <<{"mdev_type":"nvidia-1148","start":"auto","attrs":[]}`,
    );
    // a dry run lists the scripts instead of running them
    fs.unlinkSync(log);
    expect(vg(t, ['--dry-run', 'vgpu', 'undefine', '--vf', FREE_VF2]).stdout).toBe(
      `run-script /usr/lib/mdevctl/scripts.d/callouts/hook -t nvidia-1148 -e pre -a undefine -s none -u ${FREE_VF2} -p ${PF2}\n` +
        `remove-file /etc/mdevctl-vgpu.d/${FREE_VF2}.json\n` +
        `run-script /usr/lib/mdevctl/scripts.d/callouts/hook -t nvidia-1148 -e post -a undefine -s success -u ${FREE_VF2} -p ${PF2}\n` +
        `run-script /usr/lib/mdevctl/scripts.d/notifiers/note -t nvidia-1148 -e notify -a undefine -s success -u ${FREE_VF2} -p ${PF2}\n`,
    );
    // only the capabilities query ran
    expect(
      fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split(' ').slice(0, 9).join(' ')),
    ).toEqual(['hook -t nvidia-1148 -e get -a capabilities -s none']);
  });
});

describe('invisible to libvirt and to upstream mdevctl', () => {
  const MDEV_READS = [['list'], ['list', '-d'], ['list', '-d', '-v'], ['list', '--dumpjson'], ['list', '-d', '--dumpjson'], ['types'], ['types', '--dumpjson']];

  test.each(['nvidia_vfio', 'demo', 'nvidia_sriov'])('%s: list/types and their JSON are byte-identical with and without vGPU definitions', (template) => {
    const root = makeFixture(template, path.join(base, `identical-${template}`));
    const t = new FakeTree(root);
    fs.rmSync(t.p('etc/mdevctl-vgpu.d'), { recursive: true, force: true });
    const without = MDEV_READS.map((a) => run(['--root', root, ...a]));
    const donor = makeFixture('nvidia_vfio', path.join(base, `donor-${template}`));
    fs.cpSync(path.join(donor, 'etc/mdevctl-vgpu.d'), t.p('etc/mdevctl-vgpu.d'), { recursive: true });
    if (template === 'nvidia_vfio') {
      expect(vg(t, ['vgpu', 'define', '--vf', FREE_VF2, '-t', '1148', '--auto'])).toEqual(ok());
      expect(sim(t, ['start', '--vf', FREE_VF2])).toEqual(ok());
    }
    expect(fs.readdirSync(t.p('etc/mdevctl-vgpu.d')).length).toBeGreaterThan(0);
    const withDefs = MDEV_READS.map((a) => run(['--root', root, ...a]));
    expect(withDefs).toEqual(without);
  });

  const noReference = referenceSkipped('vgpu.test.ts (its comparison with the real mdevctl)');
  (noReference ? test.skip : test)('the real mdevctl 1.2.0 reads the same /etc unchanged with vGPU definitions present (mdev definitions beside them)', () => {
    const src = makeFixture('nvidia_vfio', path.join(base, 'ref-src'));
    // an mdev definition beside the vGPU ones, so that 1.2.0 has something to list
    fs.mkdirSync(path.join(src, 'etc/mdevctl.d/0000:00:02.0'), { recursive: true });
    fs.writeFileSync(
      path.join(src, 'etc/mdevctl.d/0000:00:02.0/6c446e93-4bc4-4e54-90ac-c443c90d9b65'),
      JSON.stringify({ mdev_type: 'i915-GVTg_V5_4', start: 'manual', attrs: [] }, null, 2),
    );
    const withDefs = makeReferenceRoot(src);
    const without = makeReferenceRoot(src);
    try {
      fs.rmSync(path.join(without, 'etc/mdevctl-vgpu.d'), { recursive: true });
      expect(fs.readdirSync(path.join(withDefs, 'etc/mdevctl-vgpu.d'))).toHaveLength(3);
      for (const args of [['list', '-d'], ['list', '-d', '--dumpjson'], ['list'], ['types']]) {
        const r = runReference(withDefs, args);
        expect(r.status).toBe(0);
        expect(r).toEqual(runReference(without, args));
        if (args.length > 1) expect(r.stdout).toContain('6c446e93-4bc4-4e54-90ac-c443c90d9b65');
      }
    } finally {
      fs.rmSync(withDefs, { recursive: true, force: true });
      fs.rmSync(without, { recursive: true, force: true });
    }
  });
});

describe('library API (dist/index.cjs)', () => {
  test("the same operations, plain data back, the CLI's messages in errors", () => {
    const t = host();
    const root = t.root;
    const kernel = new api.SimulatedKernel(new api.Root(root));
    fs.rmSync(t.p('proc/4242'), { recursive: true });
    const types = api.listVgpuTypes({ root, pf: PF1 });
    expect(Array.isArray(types) && types[0].creatable_now.map((x) => x.id)).toEqual([1150, 1160]);
    expect(api.defineVgpu({ root, vf: FREE_VF, type: '1160', auto: true })).toEqual({
      vf: FREE_VF,
      pf: PF1,
      type_id: 1160,
      type_name: 'NVIDIA L40S-4A',
      start: 'auto',
    });
    expect(api.modifyVgpu({ root, vf: FREE_VF, manual: true }).start).toBe('manual');
    expect(api.startVgpu({ root, kernel, vf: FREE_VF })).toEqual({ vf: FREE_VF, pf: PF1, type_id: 1160, type_name: 'NVIDIA L40S-4A', changed: true });
    expect(api.listVgpus({ root }).map((r) => `${r.vf} ${r.type_id}`)).toEqual([`${OPEN_VF} 1150`, `${FREE_VF} 1160`]);
    expect(api.listVgpus({ root, defined: true }).find((d) => d.vf === FREE_VF)?.state).toBe('active');
    expect(api.stopVgpu({ root, kernel, vf: FREE_VF })).toEqual({ vf: FREE_VF, pf: PF1, type_id: 1160, changed: true });
    expect(api.undefineVgpu({ root, vf: FREE_VF }).type_id).toBe(1160);
    api.simulateVgpuReboot(new api.Root(root));
    const log = new api.MemoryLog();
    const r = api.startAllVgpus({ root, kernel, log });
    expect(r.failed).toEqual([]);
    expect(r.started.map((s) => `${s.vf} ${s.type_id} ${s.changed}`)).toEqual([`${OPEN_VF} 1150 true`, `${AUTO_VF} 1148 true`]);
    expect(log.infos).toEqual([`VF ${OPEN_VF}: vGPU type 1150 (NVIDIA L40S-4Q) started`, `VF ${AUTO_VF}: vGPU type 1148 (NVIDIA L40S-2Q) started`]);
    expect(() => api.startVgpu({ root, kernel, vf: UNBOUND_VF, type: '1148' })).toThrow(
      new api.MdevctlError(
        `VF ${UNBOUND_VF} is bound to vfio-pci, not to nvidia: NVIDIA vGPU types are set only on VFs bound to nvidia (never bind them to vfio-pci)`,
      ),
    );
  });
});

describe('the store: lock, atomic writes, damage', () => {
  test("parallel defines of one VF: exactly one wins, the file is whole; a killed writer's temp file is removed", async () => {
    const t = host();
    const stale = t.p(`etc/mdevctl-vgpu.d/.${FREE_VF2}.json.999999.zz.tmp`);
    fs.writeFileSync(stale, '{"vf":');
    const once = (type: string) =>
      new Promise<number>((resolve) => {
        const c = spawn(...cliCommand(['--root', t.root, 'vgpu', 'define', '--vf', FREE_VF2, '-t', type]), { stdio: 'ignore' });
        c.on('close', (code) => resolve(code ?? -1));
      });
    const codes = await Promise.all(['1148', '1150', '1152', '1158'].map(once));
    expect(codes.filter((c) => c === 0)).toHaveLength(1);
    expect(codes.filter((c) => c === 1)).toHaveLength(3);
    const def = JSON.parse(t.read(`etc/mdevctl-vgpu.d/${FREE_VF2}.json`));
    expect([1148, 1150, 1152, 1158]).toContain(def.type_id);
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.readdirSync(t.p('etc/mdevctl-vgpu.d')).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  test('a store that cannot be written: one line, nothing changed', () => {
    const t = host();
    fs.rmSync(t.p('etc/mdevctl-vgpu.d'), { recursive: true });
    fs.writeFileSync(t.p('etc/mdevctl-vgpu.d'), 'not a directory');
    const etc = new FakeTree(t.p('etc'));
    const h = etc.hash();
    expect(vg(t, ['vgpu', 'define', '--vf', FREE_VF, '-t', '1150'])).toEqual(
      fail(`Unable to create directory ${t.p('etc/mdevctl-vgpu.d')}: File exists (EEXIST)`),
    );
    expect(vg(t, ['vgpu', 'list', '-d'])).toEqual(ok());
    expect(etc.hash()).toBe(h);
  });
});
