/** Labels every child object carries. The shared informers select on MANAGED_BY, so a child without it is unseen. */
export const MANAGED_BY_KEY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'souk-operator';
export const MANAGED_SELECTOR = `${MANAGED_BY_KEY}=${MANAGED_BY}`;

export function childLabels(component: string, name: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'souk',
    [MANAGED_BY_KEY]: MANAGED_BY,
  };
}
