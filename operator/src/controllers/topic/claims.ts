/**
 * Several Topic resources may name the same Kafka topic. The oldest (by creationTimestamp, then
 * namespace/name for a stable tie-break) owns it; the others get ResourceConflict and touch nothing.
 */

export interface TopicClaim {
  /** namespace/name of the Topic resource. */
  readonly key: string;
  readonly topicName: string;
  /** RFC 3339, as metadata.creationTimestamp. */
  readonly creationTimestamp: string;
}

export type ClaimVerdict = { readonly owner: true } | { readonly owner: false; readonly ownedBy: string };

function older(a: TopicClaim, b: TopicClaim): number {
  const byTime = Date.parse(a.creationTimestamp) - Date.parse(b.creationTimestamp);
  if (byTime !== 0 && !Number.isNaN(byTime)) return byTime;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export function resolveClaims(claims: readonly TopicClaim[]): Map<string, ClaimVerdict> {
  const owners = new Map<string, TopicClaim>();
  for (const claim of claims) {
    const current = owners.get(claim.topicName);
    if (!current || older(claim, current) < 0) owners.set(claim.topicName, claim);
  }
  const verdicts = new Map<string, ClaimVerdict>();
  for (const claim of claims) {
    const owner = owners.get(claim.topicName)!;
    verdicts.set(claim.key, owner.key === claim.key ? { owner: true } : { owner: false, ownedBy: owner.key });
  }
  return verdicts;
}
