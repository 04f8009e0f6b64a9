// Alertmanager configuration: routing by severity, grouping per model, and
// inhibition of lesser alerts of a family while a worse one fires. Receiver
// endpoints and keys are read from files (Docker/Kubernetes secrets), so the
// committed config holds no secret.

import { ALERTS, L } from "./names.js";

/** Where the receivers' secrets are mounted (docker-compose secrets by default). */
export const SECRETS_DIR = "/run/secrets";

export const RECEIVERS = {
  pager: "pager",
  chat: "chat",
  info: "low-priority",
} as const;

/** Secret files a deployment must provide, by purpose. */
export const SECRET_FILES = {
  pagerRoutingKey: "mlwatch_pager_routing_key",
  chatWebhookUrl: "mlwatch_chat_webhook_url",
  infoWebhookUrl: "mlwatch_info_webhook_url",
} as const;

/** Labels that identify one alert family instance: inhibition only acts within it. */
export const FAMILY_LABELS = [L.model, "alertname", L.feature, "slo"] as const;

const chatTitle =
  '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] ' +
  "{{ .CommonLabels.severity }} · {{ .CommonLabels.model_name }}";
const chatText =
  "{{ range .Alerts }}*{{ .Labels.alertname }}* — {{ .Annotations.summary }}\n" +
  "{{ .Annotations.description }}\n<{{ .Annotations.runbook_url }}|runbook>\n{{ end }}";

export function buildAlertmanagerConfig(): Record<string, unknown> {
  const secret = (name: string) => `${SECRETS_DIR}/${name}`;
  return {
    route: {
      receiver: RECEIVERS.chat,
      group_by: [L.model, "severity"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [
        // Critical: page the on-call, and continue so the chat channel sees it too.
        { receiver: RECEIVERS.pager, matchers: ['severity="critical"'], continue: true },
        { receiver: RECEIVERS.chat, matchers: ['severity=~"critical|warning"'] },
        // Info: for the next working day; batched, never repeated within a day.
        {
          receiver: RECEIVERS.info,
          matchers: ['severity="info"'],
          group_wait: "5m",
          group_interval: "30m",
          repeat_interval: "24h",
        },
      ],
    },
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity=~"warning|info"'],
        equal: [...FAMILY_LABELS],
      },
      {
        source_matchers: ['severity="warning"'],
        target_matchers: ['severity="info"'],
        equal: [...FAMILY_LABELS],
      },
      // With the collector down every model looks silent: say so once, not once per model.
      {
        source_matchers: [`alertname="${ALERTS.collectorDown}"`],
        target_matchers: [`alertname="${ALERTS.noData}"`],
      },
    ],
    receivers: [
      {
        name: RECEIVERS.pager,
        pagerduty_configs: [
          {
            routing_key_file: secret(SECRET_FILES.pagerRoutingKey),
            send_resolved: true,
            description: "{{ range .Alerts }}{{ .Annotations.summary }} {{ end }}",
            details: {
              firing: "{{ range .Alerts.Firing }}{{ .Annotations.description }} {{ end }}",
              runbooks: "{{ range .Alerts }}{{ .Annotations.runbook_url }} {{ end }}",
            },
          },
        ],
      },
      {
        name: RECEIVERS.chat,
        slack_configs: [
          {
            api_url_file: secret(SECRET_FILES.chatWebhookUrl),
            send_resolved: true,
            title: chatTitle,
            text: chatText,
          },
        ],
      },
      {
        name: RECEIVERS.info,
        slack_configs: [
          {
            api_url_file: secret(SECRET_FILES.infoWebhookUrl),
            send_resolved: false,
            title: chatTitle,
            text: chatText,
          },
        ],
      },
    ],
  };
}
