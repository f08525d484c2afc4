/**
 * The direct JSON writers used by `list --dumpjson` and `types --dumpjson` (src/lib/model/format.ts,
 * written for speed) must print exactly what the generic pretty-printer prints for the same value.
 */
import { MDev } from '../src/lib/model/device';
import { listJsonText, listJsonValue, typesJsonText, typesJsonValue } from '../src/lib/model/format';
import { pretty } from '../src/lib/model/json';
import { DeviceMap } from '../src/lib/model/device-map';
import { MdevType } from '../src/lib/model/mdev-type';

function dev(uuid: string, parent: string, type: string, autostart: boolean, attrs: Array<[string, string]>): MDev {
  const d = new MDev(uuid, parent, type);
  d.autostart = autostart;
  d.attrs = attrs;
  return d;
}

const U1 = '0b6a8f3e-7d2c-4f1a-9e5b-3c4d5e6f7a8b';
const U2 = 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b';
const U3 = '11111111-2222-4333-8444-555555555555';

// Parent and attribute names that a plain object would reorder (integer-like), strings that need
// escaping (quotes, backslashes, control characters), non-ASCII text.
const devices: DeviceMap = new Map([
  ['10', [dev(U1, '10', 'mtty-1', true, [])]],
  [
    '2',
    [
      dev(U2, '2', 'nvidia-"35"', false, [
        ['1', 'a\\b'],
        ['assign_adapter', 'x\ty\u0001z'],
      ]),
    ],
  ],
  ['0000:00:02.0', [dev(U1, '0000:00:02.0', 'i915-GVTg_V5_4', false, [['é', '€ \u2028']]), dev(U3, '0000:00:02.0', 'i915-GVTg_V5_8', true, [])]],
  ['matrix', []],
]);

function type(parent: string, t: string, n: number, name: string, description: string): MdevType {
  return { parent, type: t, availableInstances: n, deviceApi: 'vfio-pci', name, description };
}

const types = new Map<string, MdevType[]>([
  ['7', [type('7', '3', 0, '', ''), type('7', 'nvidia-555', -1, 'NVIDIA A40-1B', 'num_heads=4, "x"')]],
  ['0.0.26ab', [type('0.0.26ab', 'vfio_ccw-io', 2147483647, 'I/O subchannel (Non-QDIO)', '')]],
  ['empty', []],
]);

test.each([
  ['all devices', devices, false],
  ['a UUID filter matching several', devices, true],
  ['a UUID filter matching one', new Map([['2', devices.get('2')!]]), true],
  ['a UUID filter matching none', new Map(), true],
  ['no devices', new Map(), false],
])('list JSON: %s', (_name, map, uuidGiven) => {
  expect(listJsonText(map as DeviceMap, uuidGiven)).toBe(pretty(listJsonValue(map as DeviceMap, uuidGiven)));
});

test('types JSON', () => {
  expect(typesJsonText(types)).toBe(pretty(typesJsonValue(types)));
  expect(typesJsonText(new Map())).toBe('[]');
  // and the printer itself is JSON.stringify's pretty form where that keeps the order
  const plain = new Map([['a', types.get('0.0.26ab')!]]);
  expect(typesJsonText(plain)).toBe(
    JSON.stringify([{ a: [{ 'vfio_ccw-io': { available_instances: 2147483647, device_api: 'vfio-pci', name: 'I/O subchannel (Non-QDIO)' } }] }], null, 2),
  );
});
