import { badRequest } from '../errors.ts';
import { PROMETHEUS_CONTENT_TYPE, prometheusIsDefault, prometheusText, vaultJson } from '../../metrics.ts';
import { raw, type SysPath } from './request.ts';

/**
 * sys/metrics: the process's telemetry (src/metrics.ts). Needs read on
 * sys/metrics, unless the listener sets unauthenticated_metrics_access (the
 * core's entry point then serves it without a token, as Vault does).
 */
export const metricsPaths: SysPath[] = [
  {
    pattern: 'metrics',
    fields: {
      format: {
        type: 'string',
        description: 'Format to export metrics into: "prometheus" for Prometheus text; JSON otherwise (Prometheus by default when telemetry sets prometheus_retention_time).',
      },
    },
    synopsis: 'Export the metrics aggregated for telemetry purpose.',
    description: 'Request counts and latencies, seal state, barrier latencies and the HSM\'s calls, errors, sessions and health.',
    operations: {
      read: {
        summary: 'Export the metrics aggregated for telemetry purpose.',
        handler: async (_req, fields) => {
          const format = fields.getOk('format') as string | undefined;
          if (format !== undefined && format !== '' && format !== 'prometheus' && format !== 'json') {
            throw badRequest('format must be "prometheus" or "json"');
          }
          const prometheus = format === 'prometheus' || ((format === undefined || format === '') && prometheusIsDefault());
          if (prometheus) return { ...raw(await prometheusText()), contentType: PROMETHEUS_CONTENT_TYPE };
          return raw(await vaultJson());
        },
      },
    },
  },
];
