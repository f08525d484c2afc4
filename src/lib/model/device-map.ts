/** The device map: the shape in which listings carry devices, grouped by parent. */
import { MDev } from './device';
import { byteOrder } from './order';

/** Parent name -> devices, parents and devices in byte order. */
export type DeviceMap = Map<string, MDev[]>;

/** How many devices a map holds, over all parents. */
export function countDevices(map: DeviceMap): number {
  let n = 0;
  for (const devs of map.values()) n += devs.length;
  return n;
}

export function sortDeviceMap(map: DeviceMap): DeviceMap {
  const sorted: DeviceMap = new Map();
  for (const parent of [...map.keys()].sort(byteOrder)) {
    const devs = map.get(parent)!;
    devs.sort((a, b) => byteOrder(a.uuid, b.uuid));
    sorted.set(parent, devs);
  }
  return sorted;
}
