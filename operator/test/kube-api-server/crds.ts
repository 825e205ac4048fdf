/**
 * CustomResourceDefinitions of third parties that a test cluster may need, as plain manifests.
 * ServiceMonitor (monitoring.coreos.com/v1) is what prometheus-operator installs, with its schema
 * reduced to the fields commonly set (the rest is preserved, as unknown fields are not pruned).
 */
export const SERVICE_MONITOR_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'servicemonitors.monitoring.coreos.com' },
  spec: {
    group: 'monitoring.coreos.com',
    scope: 'Namespaced',
    names: {
      plural: 'servicemonitors',
      singular: 'servicemonitor',
      kind: 'ServiceMonitor',
      listKind: 'ServiceMonitorList',
      shortNames: ['smon'],
      categories: ['prometheus-operator'],
    },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            required: ['spec'],
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec: {
                type: 'object',
                required: ['selector'],
                'x-kubernetes-preserve-unknown-fields': true,
                properties: {
                  endpoints: {
                    type: 'array',
                    items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  },
                  jobLabel: { type: 'string' },
                  namespaceSelector: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  selector: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
            },
          },
        },
      },
    ],
  },
};
