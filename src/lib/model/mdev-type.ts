/** A supported mdev type of a parent, as `types` shows it (read from sysfs by kernel/sysfs.ts). */
export interface MdevType {
  parent: string;
  type: string;
  availableInstances: number;
  deviceApi: string;
  name: string;
  description: string;
}
