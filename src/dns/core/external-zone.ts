// The lab's "internet" zone: the names the external namespace's resolver serves (`flatnet external-dns`),
// all pointing at the external side's address. Shared by the resolver and the data-plane model. Pure.
import type { ResourceRecord } from './dns-types.ts';

/** The default zone of the lab's internet. */
export const EXTERNAL_ZONE = 'example.com';

/** The records of the lab's internet: `zone`, `www.zone` and `api.zone` answer with `address`. */
export function externalZoneRecords(zone: string, address: string): ResourceRecord[] {
  const names = [zone, `www.${zone}`, `api.${zone}`];
  return names.map((name) => ({ name, ttl: 300, data: { type: 'A', address } }));
}
